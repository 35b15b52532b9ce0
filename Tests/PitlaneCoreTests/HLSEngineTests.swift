import Foundation
import NIOCore
import PitlaneCore
import Testing

/// What real packagers send beyond plain segments, through the whole proxy: interstitials, segments whose
/// type only their bytes tell, byte ranges in a sliding window, URIs that cannot be resolved.
struct HLSEngineTests {
    /// A harness whose origin answers `routes` by file name (token-checked: a stale token gets 403).
    static func harness(
        requestTimeout: Duration = .seconds(15), limits: BodyLimits = BodyLimits(),
        _ routes: @escaping @Sendable (String, String) -> FakeUpstream.Reply?
    ) async -> ProxyHarness {
        let harness = await ProxyHarness(requestTimeout: requestTimeout, limits: limits)
        harness.upstream.setHandler { [unowned harness] request in
            let query = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
            guard query.first(where: { $0.name == "token" })?.value == harness.token else { return .init(status: 403, body: "expired") }
            if let reply = routes(request.url.path, harness.token) { return reply }
            return harness.answer(request)
        }
        return harness
    }

    enum HarnessError: Error {
        case unexpected(String)
    }

    static func handles(_ text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)\\.(m3u8|json|ts|aac|m4s|mp4)")
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }

    @Test func interstitialPlaylistsAndAssetListsAreServedRewritten() async throws {
        let harness = await Self.harness { path, token in
            switch path {
            case "/live/720.m3u8":
                return .init(
                    status: 200,
                    body: """
                        #EXTM3U
                        #EXT-X-TARGETDURATION:2
                        #EXT-X-MEDIA-SEQUENCE:100
                        #EXT-X-PROGRAM-DATE-TIME:2026-12-06T13:00:00.000Z
                        #EXTINF:2,
                        seg100.ts?token=\(token)
                        #EXT-X-DATERANGE:ID="ad",CLASS="com.apple.hls.interstitial",START-DATE="2026-12-06T13:00:02.000Z",X-ASSET-URI="https://ads.example.com/break.m3u8?token=\(token)"
                        #EXT-X-DATERANGE:ID="ad2",CLASS="com.apple.hls.interstitial",START-DATE="2026-12-06T13:00:04.000Z",X-ASSET-LIST="/ads/list.json?token=\(token)"
                        #EXTINF:2,
                        seg101.ts?token=\(token)
                        """)
            case "/break.m3u8":
                return .init(
                    status: 200,
                    body: "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000\nbreak/720.m3u8?token=\(token)\n")
            case "/break/720.m3u8":
                return .init(status: 200, body: "#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\nad1.ts?token=\(token)\n#EXT-X-ENDLIST\n")
            case "/ads/list.json":
                return .init(
                    status: 200, body: #"{"ASSETS": [{"URI": "https://ads.example.com/break.m3u8?token=\#(token)", "DURATION": 5}]}"#)
            default:
                return nil
            }
        }
        let key = try await harness.variantPath()
        let media = try await ProxyHarness.text(harness.proxy.variant(stream: harness.streamID, key: key))
        #expect(!media.contains("ads.example.com") && !media.contains("/ads/list.json"))
        let asset = try #require(
            media.split(separator: "\n").first { $0.contains("X-ASSET-URI") }.flatMap { Self.handles(String($0)).first })
        let assetMaster = await harness.proxy.resource(stream: harness.streamID, token: asset, ext: "m3u8", range: nil)
        #expect(assetMaster.status == 200)
        #expect(assetMaster.headers.value(for: "Content-Type") == "application/vnd.apple.mpegurl")
        let masterText = try await ProxyHarness.text(assetMaster)
        #expect(masterText.hasPrefix("#EXTM3U") && !masterText.contains("example.com"), "\(masterText)")
        let assetMedia = try #require(Self.handles(masterText).first)
        let mediaText = try await ProxyHarness.text(
            harness.proxy.resource(stream: harness.streamID, token: assetMedia, ext: "m3u8", range: nil))
        #expect(mediaText.contains("#EXT-X-ENDLIST") && !mediaText.contains("example.com"), "\(mediaText)")
        let adSegment = try #require(Self.handles(mediaText).first)
        let ad = await harness.proxy.resource(stream: harness.streamID, token: adSegment, ext: "ts", range: nil)
        #expect(try await ProxyHarness.text(ad) == "BYTES-ad1.ts")

        let list = try #require(
            media.split(separator: "\n").first { $0.contains("X-ASSET-LIST") }.flatMap { Self.handles(String($0)).first })
        let listReply = await harness.proxy.resource(stream: harness.streamID, token: list, ext: "json", range: nil)
        #expect(listReply.status == 200 && listReply.headers.value(for: "Content-Type") == "application/json")
        let json = try await ProxyHarness.text(listReply)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let assets = try #require(object["ASSETS"] as? [[String: Any]])
        #expect(assets.count == 1 && assets[0]["DURATION"] as? Int == 5)
        let uri = try #require(assets[0]["URI"] as? String)
        #expect(uri.hasSuffix(".m3u8") && !uri.contains("example.com"))
    }

    @Test func aDisguisedSegmentIsTypedByItsFirstBytes() async throws {
        let adts: [UInt8] = [0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC] + Array(repeating: 0, count: 32)
        let fmp4: [UInt8] = [0, 0, 0, 24] + Array("styp".utf8) + Array(repeating: 0, count: 32)
        let harness = await Self.harness { path, _ in
            switch path {
            case "/live/seg100.ts": return .init(status: 200, body: "", headers: HeaderProfile(["Content-Type": "image/png"]), bytes: adts)
            case "/live/seg101.ts":
                return .init(status: 200, body: "", headers: HeaderProfile(["Content-Type": "binary/octet-stream"]), bytes: fmp4)
            default: return nil
            }
        }
        let key = try await harness.variantPath()
        let segments = try await harness.segmentTokens(key: key)
        let audio = await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: nil)
        #expect(audio.headers.value(for: "Content-Type") == "audio/aac")
        guard case .stream(let body) = audio.body else { throw HarnessError.unexpected("a relayed body") }
        #expect(Array(buffer: try await body.collect(upTo: 1 << 20)) == adts, "every byte still relayed, the peeked ones too")
        let video = await harness.proxy.resource(stream: harness.streamID, token: segments[1], ext: "ts", range: nil)
        #expect(video.headers.value(for: "Content-Type") == "video/mp4")
    }

    @Test func sniffingTellsTheContainers() {
        #expect(MediaExtension.sniff([0x47] + Array(repeating: 0, count: 187) + [0x47]) == "video/mp2t")
        #expect(MediaExtension.sniff([0, 0, 0, 32] + Array("ftyp".utf8)) == "video/mp4")
        #expect(MediaExtension.sniff([0xFF, 0xF9, 0x50, 0x80]) == "audio/aac")
        #expect(MediaExtension.sniff(Array("WEBVTT\n".utf8)) == "text/vtt")
        #expect(MediaExtension.sniff(Array("<html>".utf8)) == nil)
    }

    /// Three byte ranges of one file share a handle; after a refresh the window has slid past the first
    /// of them. The handle still finds its file, since it carries the position of the last one.
    @Test func aSharedByteRangeHandleIsFoundAfterTheWindowSlid() async throws {
        let harness = await Self.harness { path, token in
            guard path == "/live/720.m3u8" else { return nil }
            let first = token == "t1" ? 120 : 122
            var body = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:\(first)\n"
            for msn in first..<(first + 3) {
                let file = msn <= 122 ? "hour13" : "hour14"
                let offset = msn <= 122 ? (msn - 120) * 1000 : (msn - 123) * 1000
                body += "#EXTINF:4,\n#EXT-X-BYTERANGE:1000@\(offset)\n\(file).ts?token=\(token)\n"
            }
            return .init(status: 200, body: body)
        }
        let key = try await harness.variantPath()
        let segments = try await harness.segmentTokens(key: key)
        #expect(Set(segments).count == 1, "one file, one handle")
        harness.rotate(to: "t2")
        harness.clock.advance(by: 5)
        let reply = await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: "bytes=1000-1999")
        #expect(reply.status == 200)
        #expect(try await ProxyHarness.text(reply) == "BYTES-hour13.ts")
        #expect(harness.upstream.requests.last?.url.query == "token=t2")
    }

    @Test func aGapAnswers404WithoutAnUpstreamRequest() async throws {
        let harness = await ProxyHarness()
        let before = harness.upstream.requestCount
        let gap = await harness.proxy.resource(stream: harness.streamID, token: "gap", ext: "ts", range: nil)
        #expect(gap.status == 404)
        #expect(harness.upstream.requestCount == before)
    }

    @Test func packedAudioIsToldAfterItsID3Tag() {
        let id3: [UInt8] = Array("ID3".utf8) + [4, 0, 0, 0, 0, 0, 5] + [1, 2, 3, 4, 5]
        #expect(MediaExtension.sniff(id3 + [0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F]) == "audio/aac")
        #expect(MediaExtension.sniff(id3 + [0xFF, 0xFB, 0x90, 0x64, 0x00, 0x00]) == "audio/mpeg")
        #expect(MediaExtension.sniff(id3 + [0x0B, 0x77, 0, 0, 0, 0x40]) == "audio/ac3")
        #expect(MediaExtension.sniff(id3 + [0x0B, 0x77, 0, 0, 0, 0x80]) == "audio/eac3")
        #expect(MediaExtension.sniff(id3) == nil, "the frame after the tag is not in these bytes")
    }

    /// A QUERYPARAM value is often the CDN's token: it is written only into URIs Pitlane rewrites.
    @Test func aQueryParameterVariableNeverReachesThePlayerOutsideAURI() {
        let master = try! PlaylistParser.parse(
            """
            #EXTM3U
            #EXT-X-DEFINE:QUERYPARAM="token"
            #EXT-X-DEFINE:NAME="title",VALUE="Race"
            #EXT-X-SESSION-DATA:DATA-ID="com.example.t",VALUE="{$token} {$title}"
            #EXT-X-STREAM-INF:BANDWIDTH=1000
            720.m3u8?token={$token}
            """)
        let resolved = PlaylistVariables.resolve(master, url: URL(string: "https://cdn.example.com/m.m3u8?token=SECRET")!).playlist
            .serialized()
        #expect(resolved.contains("720.m3u8?token=SECRET"))
        #expect(resolved.contains(#"VALUE="{$token} Race""#), "\(resolved)")
        #expect(!resolved.contains("EXT-X-DEFINE"))
    }

    @Test func aHostileExpansionIsCutOff() {
        let long = String(repeating: "x", count: 100_000)
        let line = String(repeating: "{$v}", count: 200)
        let text =
            "#EXTM3U\n#EXT-X-DEFINE:NAME=\"v\",VALUE=\"\(long)\"\n"
            + Array(repeating: "#EXTINF:1,\n\(line)", count: 2000).joined(separator: "\n")
        let playlist = try! PlaylistParser.parse(text)
        let resolved = PlaylistVariables.resolve(playlist, url: URL(string: "https://cdn.example.com/x.m3u8")!).playlist
        let size = resolved.lines.reduce(0) { $0 + $1.serialized.utf8.count }
        #expect(size < 40 * 1024 * 1024, "\(size) bytes, not 40 GB")
    }

    @Test func aURIWithAnotherSchemeIsNeitherFetchedNorPassedOn() {
        let media = try! PlaylistParser.parse(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI=\"ftp://keys.example.com/k\"\n#EXTINF:2,\nfile:///etc/passwd\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://asset\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n#EXTINF:2,\nseg.ts\n"
        )
        let text = MediaRewriter(stream: "s1", variant: "v1", signer: TestSupport.signer)
            .rewrite(media, baseURL: URL(string: "https://cdn.example.com/live/index.m3u8")!).serialized()
        #expect(!text.contains("ftp:") && !text.contains("file:"))
        #expect(text.contains("#EXT-X-GAP") && text.contains("skd://asset"))
    }

    /// An interstitial's segment is not the stream's: a 403 on it runs no source and relocates nothing.
    @Test func aRejectedInterstitialSegmentIs503WithoutARun() async throws {
        let harness = await ProxyHarness()
        let handle = ResourceHandle(
            stream: harness.streamID, kind: .segment, url: "https://ads.example.com/ad1.ts?token=old", variant: MediaRewriter.assetVariant,
            msn: 0)
        let runs = harness.extractor.runCount
        let reply = await harness.proxy.resource(stream: harness.streamID, token: TestSupport.signer.sign(handle), ext: "ts", range: nil)
        #expect(reply.status == 503)
        #expect(harness.extractor.runCount == runs)
    }
}
