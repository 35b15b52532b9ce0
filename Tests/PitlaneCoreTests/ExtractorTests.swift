import Foundation
import PitlaneCore
import Testing

/// The declarative source kinds against an in-memory web (no sockets).
struct ExtractorTests {
    static let site = "https://site.example.com"

    /// A small web: a page embedding iframes that check their Referer, an API and an M3U list.
    static func web() -> FakeUpstream {
        FakeUpstream { request in
            let referer = request.headers.value(for: "Referer")
            switch request.url.path {
            case "/watch":
                return .init(
                    status: 200,
                    body: """
                        <html><head><title>Grand Prix &amp; Friends</title></head><body>
                        <script>var config = {"src":"https:\\/\\/cdn.example.com\\/live\\/main.m3u8?token=abc\\u0026exp=1800000000"};</script>
                        <video data-x='/hls/second.m3u8'></video>
                        <iframe width=640 src="/embed/1"></iframe>
                        <iframe src="javascript:void(0)"></iframe>
                        </body></html>
                        """)
            case "/embed/1":
                guard referer == site + "/watch" else { return .init(status: 403, body: "no referer") }
                return .init(
                    status: 200,
                    body: "<iframe src='https://player.example.net/embed/2?x=1'></iframe> file: \"//cdn.example.com/onboard.m3u8\"")
            case "/embed/2":
                guard referer == site + "/embed/1" else { return .init(status: 403, body: "no referer") }
                return .init(status: 200, body: "<script>player.load('deep.m3u8')</script><iframe src=\"/embed/3\"></iframe>")
            case "/embed/3":
                return .init(status: 200, body: "'too-deep.m3u8'")
            case "/custom":
                return .init(status: 200, body: "<a href=\"https://tv.example.com/playlist.php?id=7\">x</a> <a href=\"/other.php\">y</a>")
            case "/api/events":
                guard request.method == "POST", let body = request.body, String(decoding: body, as: UTF8.self) == #"{"live":true}"# else {
                    return .init(status: 405, body: "POST me")
                }
                return .init(
                    status: 200,
                    body: """
                        {"data": {"events": [
                          {"name": "Race", "streams": [{"hls": "https://cdn.example.com/race.m3u8?t=1", "label": "Race", "q": "1080p", "id": 11},
                                                       {"hls": "/relative/pit.m3u8", "label": "Pit lane", "q": "720p", "id": 12}]},
                          {"name": "Empty", "streams": []},
                          {"name": "Broken", "streams": [{"label": "no url"}]}
                        ]}}
                        """)
            case "/api/html":
                return .init(status: 200, body: "<html>maintenance</html>")
            case "/list.m3u":
                return .init(
                    status: 200,
                    body: """
                        #EXTM3U x-tvg-url="https://epg.example.com"
                        #EXTINF:-1 tvg-id="f1.world" tvg-name="F1 World" group-title="Motorsport, F1",World feed, English
                        #EXTVLCOPT:http-referrer=https://tv.example.com/
                        #EXTVLCOPT:http-user-agent=Kodi/21
                        https://cdn.example.com/world.m3u8?token=1
                        #EXTINF:-1 tvg-name="Onboard",
                        onboard/index.m3u8
                        #EXTINF:-1,Not HLS over FTP
                        ftp://example.com/x
                        """)
            default:
                return .init(status: 404, body: "not found")
            }
        }
    }

    func context(_ web: FakeUpstream) -> ExtractionContext {
        ExtractionContext(now: TestSupport.start, http: web, headers: HeaderProfile(["User-Agent": "PitlaneTest"]))
    }

    @Test func pageFindsEscapedRelativeAndEmbeddedPlaylistsWithTheirReferers() async throws {
        let web = Self.web()
        let candidates = try await PageExtractor(url: URL(string: Self.site + "/watch")!).extract(context(web))
        let urls = candidates.map(\.url.absoluteString)
        #expect(
            urls == [
                "https://cdn.example.com/live/main.m3u8?token=abc&exp=1800000000", "https://site.example.com/hls/second.m3u8",
                "https://cdn.example.com/onboard.m3u8", "https://player.example.net/embed/deep.m3u8",
            ])
        #expect(
            candidates.map(\.title) == [
                "Grand Prix & Friends 1", "Grand Prix & Friends 2", "Grand Prix & Friends 3", "Grand Prix & Friends 4",
            ])
        #expect(candidates[0].headers.value(for: "Referer") == Self.site + "/watch")
        #expect(candidates[0].headers.value(for: "Origin") == Self.site)
        #expect(candidates[2].headers.value(for: "Referer") == Self.site + "/embed/1")
        #expect(candidates[3].headers.value(for: "Referer") == "https://player.example.net/embed/2?x=1")
        #expect(candidates[3].headers.value(for: "Origin") == "https://player.example.net")
        #expect(!web.paths().contains("/embed/3"), "iframe_depth 2 stops there")
        #expect(web.requests.allSatisfy { $0.headers.value(for: "User-Agent") == "PitlaneTest" })
    }

    @Test func pageDepthAndPatternAreConfigurable() async throws {
        let web = Self.web()
        let shallow = try await PageExtractor(url: URL(string: Self.site + "/watch")!, title: "Race", iframeDepth: 0).extract(context(web))
        #expect(shallow.count == 2 && shallow[0].title == "Race 1")
        let pattern = try NSRegularExpression(pattern: #"https?://[^"]+/playlist\.php\?id=\d+"#)
        let custom = try await PageExtractor(url: URL(string: Self.site + "/custom")!, title: "TV", pattern: pattern).extract(context(web))
        #expect(custom.map(\.url.absoluteString) == ["https://tv.example.com/playlist.php?id=7"])
        #expect(custom.first?.title == "TV")
    }

    @Test func aPageThatFailsIsAnError() async {
        await #expect(throws: ExtractionError.status(404, "https://site.example.com/missing")) {
            try await PageExtractor(url: URL(string: Self.site + "/missing")!).extract(context(Self.web()))
        }
    }

    @Test func jsonMapsNestedEntriesWithAPostBody() async throws {
        let extractor = JSONExtractor(
            url: URL(string: Self.site + "/api/events")!, body: #"{"live":true}"#, items: try JSONPath("data.events[*].streams[*]"),
            fields: .init(
                url: try JSONPath("hls"), title: try JSONPath("label"), quality: try JSONPath("q"), key: try JSONPath("id"),
                feed: try JSONPath("label")))
        let candidates = try await extractor.extract(context(Self.web()))
        #expect(
            candidates.map(\.url.absoluteString) == ["https://cdn.example.com/race.m3u8?t=1", "https://site.example.com/relative/pit.m3u8"])
        #expect(candidates.map(\.title) == ["Race", "Pit lane"])
        #expect(candidates.map(\.quality) == ["1080p", "720p"])
        #expect(candidates.map(\.key) == ["11", "12"])
        #expect(candidates.map(\.feed) == ["Race", "Pit lane"])
    }

    @Test func jsonThatIsNotJSONIsAClearError() async throws {
        let extractor = JSONExtractor(
            url: URL(string: Self.site + "/api/html")!, items: try JSONPath("[*]"), fields: .init(url: try JSONPath("u")))
        await #expect {
            try await extractor.extract(context(Self.web()))
        } throws: { error in
            "\(error)".contains("did not answer JSON")
        }
    }

    @Test func jsonPathsPickWhatTheySay() throws {
        let root: Any = ["a": [["b": 1], ["b": 2], ["c": 3]], "s": "x"] as [String: Any]
        #expect(try JSONPath("a[*].b").values(in: root).count == 2)
        #expect(try JSONPath("a[1].b").string(in: root) == "2")
        #expect(try JSONPath("a[9].b").string(in: root) == nil)
        #expect(try JSONPath("s").string(in: root) == "x")
        #expect(try JSONPath("[*]").values(in: [1, 2, 3]).count == 3)
        #expect(throws: ExtractionError.self) { try JSONPath("a[") }
    }

    @Test func m3uReadsChannelsAndTheirHeaders() async throws {
        let candidates = try await M3UExtractor(url: URL(string: Self.site + "/list.m3u")!).extract(context(Self.web()))
        #expect(candidates.count == 2)
        #expect(candidates[0].title == "World feed, English")
        #expect(candidates[0].key == "f1.world")
        #expect(candidates[0].headers.value(for: "Referer") == "https://tv.example.com/")
        #expect(candidates[0].headers.value(for: "User-Agent") == "Kodi/21")
        #expect(candidates[1].title == "Onboard")
        #expect(candidates[1].url.absoluteString == "https://site.example.com/onboard/index.m3u8")
        #expect(candidates[1].headers.headers.isEmpty)
    }

    @Test func aBodyThatIsNotAnM3UListIsRefused() {
        #expect(throws: ExtractionError.self) { try M3UExtractor.parse("<html></html>", base: URL(string: Self.site)!) }
    }
}
