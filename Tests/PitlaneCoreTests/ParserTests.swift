import Foundation
import PitlaneCore
import Testing

struct ParserTests {
    @Test(arguments: [
        ("<!doctype html><html><body>Access denied</body></html>", "starts with \"<!doctype html>"),
        ("{\"error\":\"forbidden\"}", "starts with \"{\"error\""),
        ("", "empty"),
        ("   \n\r\n", "empty"),
    ])
    func rejectsBodiesThatAreNotPlaylists(_ body: String, _ reason: String) {
        #expect {
            _ = try PlaylistParser.parse(body)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func rejectsBinary() {
        let bytes: [UInt8] = [0x47, 0x40, 0x11, 0xFF, 0xFE, 0x00, 0x80]
        #expect(throws: PlaylistParseError.notText) { try PlaylistParser.parse(bytes) }
    }

    @Test func detectsKinds() throws {
        #expect(try PlaylistParser.parse("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n").kind == .master)
        #expect(try PlaylistParser.parse("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n").kind == .media)
        #expect(try PlaylistParser.parse("#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x\",URI=\"a.m3u8\"\n").kind == .master)
    }

    @Test func roundTripsUnchangedExceptLineEndings() throws {
        let text =
            "#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n#EXT-UNKNOWN-TAG\r\n# comment\r\n#EXTINF:6.0,Title, with comma\r\nhttps://a/b.ts?x=1\r\n"
        let playlist = try PlaylistParser.parse(text)
        #expect(playlist.serialized() == text.replacingOccurrences(of: "\r\n", with: "\n"))
    }

    @Test func readsAttributesWithQuotedCommasInAnyOrder() {
        let attributes = AttributeList(parsing: #"CODECS="avc1.64001f,mp4a.40.2", BANDWIDTH=300,NAME="a=b, c",DEFAULT=YES"#)
        #expect(attributes["CODECS"] == "avc1.64001f,mp4a.40.2")
        #expect(attributes["BANDWIDTH"] == "300")
        #expect(attributes["NAME"] == "a=b, c")
        #expect(attributes["DEFAULT"] == "YES")
        #expect(attributes["MISSING"] == nil)
    }

    @Test func replacingOneAttributeKeepsTheOthersAsWritten() {
        var attributes = AttributeList(parsing: #"METHOD=AES-128,URI="k.key",IV=0x1"#)
        attributes.setQuoted("URI", "new")
        #expect(attributes.serialized == #"METHOD=AES-128,URI="new",IV=0x1"#)
    }

    @Test func readsPlaylistProperties() throws {
        let playlist = try PlaylistParser.parse(
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:77\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n")
        #expect(playlist.targetDuration == 4)
        #expect(playlist.mediaSequence == 77)
        #expect(playlist.hasEndList)
    }

    @Test func locatesResourcesByPosition() throws {
        let playlist = try PlaylistParser.parse(
            """
            #EXTM3U
            #EXT-X-MEDIA-SEQUENCE:10
            #EXT-X-KEY:METHOD=AES-128,URI="k1"
            #EXTINF:2,
            a.ts
            #EXT-X-KEY:METHOD=AES-128,URI="k2"
            #EXTINF:2,
            b.ts
            #EXT-X-PART:DURATION=0.5,URI="c.0.mp4"
            #EXT-X-PART:DURATION=0.5,URI="c.1.mp4"
            """)
        #expect(MediaPlaylistWalker.locate(kind: .segment, msn: 11, part: nil, in: playlist) == "b.ts")
        #expect(MediaPlaylistWalker.locate(kind: .segment, msn: 9, part: nil, in: playlist) == nil)
        #expect(MediaPlaylistWalker.locate(kind: .key, msn: 10, part: nil, in: playlist) == "k1")
        #expect(MediaPlaylistWalker.locate(kind: .key, msn: 11, part: nil, in: playlist) == "k2")
        #expect(MediaPlaylistWalker.locate(kind: .part, msn: 12, part: 1, in: playlist) == "c.1.mp4")
    }

    @Test func redactsQueryStrings() {
        let url = URL(string: "https://user:pw@cdn.example.com/a/b.m3u8?token=SECRET&exp=1#frag")!
        let redacted = URIResolver.redacted(url)
        #expect(redacted == "https://cdn.example.com/a/b.m3u8?…")
        #expect(!redacted.contains("SECRET"))
    }

    /// Tokens in the path were logged as they were: Akamai's `hdnts=…`, a JWT, `/token/<value>/`, a long
    /// random segment. Names of resources stay readable.
    @Test func redactionCoversTokensInThePath() {
        let url = URL(
            string:
                "https://cdn.example.com/hdnts=exp=1~acl=*~hmac=abc/live/eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.sig/token/s3cr3t/"
                + "a1B2c3D4e5F6g7H8i9J0k1L2/expires/1800000000/chunklist_b2000000.m3u8?x=1")!
        let redacted = URIResolver.redacted(url)
        #expect(redacted == "https://cdn.example.com/…/live/…/token/…/…/expires/…/chunklist_b2000000.m3u8?…")
        for secret in ["hmac", "eyJ", "s3cr3t", "a1B2c3", "1800000000"] { #expect(!redacted.contains(secret), "\(secret)") }
    }

    /// Found by the fuzzer: a tab before a quoted value made the value unquoted on the first parse and
    /// quoted on the second, so a serialized attribute list did not read back as itself.
    @Test func anAttributeListReadsBackAsItself() {
        for text in ["URI=\t\"a/init.mp4?tok=\"cdn\"", "A= \"x, y\",B=\t2", "URI=\"x\"y,B=1", "=5,C"] {
            let once = AttributeList(parsing: Substring(text))
            #expect(AttributeList(parsing: Substring(once.serialized)).serialized == once.serialized, "\(text.debugDescription)")
        }
        #expect(AttributeList(parsing: "URI=\t\"a b\"")["URI"] == "a b")
    }
}
