import Foundation
import PitlaneCore
import Testing

/// The `browser` kind's domain side with a fake browser: which requests become streams, with which
/// headers and titles, what it says when it finds nothing; its configuration; the tab bound.
struct BrowserExtractorTests {
    /// Answers every visit with the same report and remembers the visits.
    final class FakeBrowser: BrowserEngine, @unchecked Sendable {
        let report: BrowserReport
        private let lock = NSLock()
        private var seen: [BrowserVisit] = []

        init(_ report: BrowserReport) {
            self.report = report
        }

        var visits: [BrowserVisit] { lock.withLock { seen } }

        func visit(_ visit: BrowserVisit) async throws -> BrowserReport {
            lock.withLock { seen.append(visit) }
            return report
        }
    }

    static let page = URL(string: "https://tv.example.com/watch")!
    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    static func sighting(_ url: String, status: Int? = 200, body: String? = nil, headers: KeyValuePairs<String, String> = [:])
        -> BrowserReport.Sighting
    {
        .init(url: URL(string: url)!, headers: HeaderProfile(headers), status: status, body: body)
    }

    @Test func playlistRequestsBecomeStreamsWithTheHeadersThePageSent() async throws {
        let browser = FakeBrowser(
            BrowserReport(
                title: "Race TV",
                playlists: [
                    Self.sighting(
                        "https://cdn.example.com/live/master.m3u8?tok=1",
                        body: "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"audio/en.m3u8\"\n"
                            + "#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"a\"\nlow/index.m3u8?tok=1\n",
                        headers: [
                            "Referer": "https://tv.example.com/watch", "Origin": "https://tv.example.com", "Cookie": "s=1",
                            "X-Token": "abc", "User-Agent": "HeadlessChrome", "Accept": "*/*", "Sec-Fetch-Mode": "cors",
                            "sec-ch-ua": "x", "Accept-Encoding": "gzip", ":authority": "cdn.example.com",
                        ]),
                    Self.sighting("https://cdn.example.com/live/low/index.m3u8?tok=1"),
                    Self.sighting("https://cdn.example.com/live/audio/en.m3u8"),
                    Self.sighting("https://cdn.example.com/live/master.m3u8?tok=1"),
                    Self.sighting("https://other.example.com/denied.m3u8", status: 403),
                    Self.sighting("https://other.example.com/slow.m3u8", status: nil),
                ], refused: ["http://127.0.0.1:8080/ (loopback, private or link-local address)"], requests: 12))
        let context = ExtractionContext(
            now: Self.now, allowPrivate: true, documentLimit: 1000, allowHosts: HostAllowList(["*.example.com"]))
        let found = try await BrowserExtractor(url: Self.page, wait: .seconds(7), engine: browser).extract(context)
        #expect(
            found.map(\.url.absoluteString) == ["https://cdn.example.com/live/master.m3u8?tok=1", "https://other.example.com/slow.m3u8"])
        #expect(found.map(\.title) == ["Race TV 1", "Race TV 2"])
        #expect(
            found[0].headers.headers.map(\.name).sorted() == ["Cookie", "Origin", "Referer", "User-Agent", "X-Token"],
            "\(found[0].headers.headers.map(\.name))")
        let visit = try #require(browser.visits.first)
        #expect(visit.url == Self.page && visit.wait == .seconds(7) && visit.allowPrivate && visit.documentLimit == 1000)
        #expect(visit.allowHosts == HostAllowList(["*.example.com"]))
        #expect(
            context.notes.all == [
                "12 requests; 6 playlist(s) seen; 1 refused: http://127.0.0.1:8080/ (loopback, private or link-local address)"
            ])
    }

    @Test func theConfiguredTitleWinsAndOneStreamHasNoNumber() async throws {
        let browser = FakeBrowser(BrowserReport(title: "Page title", playlists: [Self.sighting("https://cdn.example.com/a.m3u8")]))
        let found = try await BrowserExtractor(url: Self.page, title: "Onboard", engine: browser).extract(ExtractionContext(now: Self.now))
        #expect(found.map(\.title) == ["Onboard"])
        let untitled = try await BrowserExtractor(url: Self.page, engine: FakeBrowser(BrowserReport(playlists: browser.report.playlists)))
            .extract(ExtractionContext(now: Self.now))
        #expect(untitled.map(\.title) == ["tv.example.com"])
    }

    @Test func findingNothingSaysWhatThePageDid() async throws {
        let browser = FakeBrowser(
            BrowserReport(
                playlists: [Self.sighting("https://cdn.example.com/a.m3u8?token=secret", status: 403)],
                refused: ["http://10.0.0.1/ (loopback, private or link-local address)"], requests: 3,
                loadError: "net::ERR_CONNECTION_REFUSED"))
        let error = await #expect(throws: ExtractionError.self) {
            _ = try await BrowserExtractor(url: Self.page, wait: .seconds(15), engine: browser).extract(ExtractionContext(now: Self.now))
        }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("no playlist request within 15 s (the page did not load: net::ERR_CONNECTION_REFUSED)"), "\(message)")
        #expect(message.contains("answered 403") && !message.contains("secret"), "tokens stay out of errors: \(message)")
        #expect(message.contains("1 request(s) refused by the address policy"))
        #expect(message.hasSuffix("a site that refuses headless browsers is out of reach"))
    }

    @Test func aPlaylistIsARequestForM3U8AnHLSTypeOrThePattern() throws {
        let visit = BrowserVisit(url: Self.page, pattern: try NSRegularExpression(pattern: #"/playlist\.php\?id=\d+"#))
        #expect(visit.isPlaylist(url: "https://x/live/INDEX.M3U8?token=1"))
        #expect(visit.isPlaylist(url: "https://x/stream", contentType: "application/vnd.apple.mpegurl; charset=utf-8"))
        #expect(visit.isPlaylist(url: "https://x/stream", contentType: "Application/X-MpegURL"))
        #expect(visit.isPlaylist(url: "https://x/playlist.php?id=7"))
        #expect(!visit.isPlaylist(url: "https://x/segment.ts", contentType: "video/mp2t"))
        #expect(!visit.isPlaylist(url: "https://x/page?next=a.m3u8x"))
        #expect(!BrowserVisit(url: Self.page).isPlaylist(url: "https://x/playlist.php?id=7"))
    }

    @Test func theConfigurationReadsTheKindAndTheBrowser() throws {
        let config = try ConfigLoader.parse(
            """
            browser: {path: /opt/chromium/chrome, concurrency: 3, memory_mb: 512, sandbox: "off"}
            sources:
              - {id: js, kind: browser, url: "https://tv.example.com/live", wait: 20, pattern: 'playlist\\.php'}
              - {id: quick, kind: browser, url: "https://tv.example.com/quick", wait: 5, timeout: 7}
            """)
        #expect(config.browser.path == "/opt/chromium/chrome" && config.browser.concurrency == 3)
        #expect(config.browser.memoryBytes == 512 * 1024 * 1024 && config.browser.sandbox == .off)
        #expect(config.sources[0].wait == 20 && config.sources[0].timeout == 30, "the wait plus 10 s without a timeout of its own")
        #expect(config.sources[0].pattern == #"playlist\.php"#)
        #expect(config.sources[1].wait == 5 && config.sources[1].timeout == 7)
        #expect(Configuration().browser.concurrency == 2 && Configuration().browser.sandbox == .auto)
        #expect(throws: ConfigError.self) { _ = try ExtractorRegistry.builtIn.makeSource(config.sources[0]) }
        let registry = ExtractorRegistry.builtIn.adding(browser: FakeBrowser(BrowserReport()))
        let source = try registry.makeSource(config.sources[0])
        #expect(source.kind == "browser" && source.timeout == .seconds(30))
    }

    @Test(arguments: [
        ("sources: [{id: a, kind: browser}]", "sources[0].url: is required"),
        ("sources: [{id: a, kind: browser, url: 'http://x/', wait: 0}]", "sources[0].wait: must be between 1 and 300 seconds"),
        (
            "sources: [{id: a, kind: browser, url: 'http://x/', wait: 20, timeout: 21}]",
            "sources[0].timeout: 21 s leaves no time beyond wait (20 s): make it at least 22 s"
        ),
        ("sources: [{id: a, kind: browser, url: 'http://x/', iframe_depth: 2}]", "sources[0].iframe_depth: unknown key for kind browser"),
        ("sources: [{id: a, kind: page, url: 'http://x/', wait: 2}]", "sources[0].wait: unknown key for kind page"),
        ("browser: {concurrency: 0}", "browser.concurrency: must be between 1 and 8"),
        ("browser: {memory_mb: 64}", "browser.memory_mb: must be between 128 and 16384"),
        ("browser: {sandbox: maybe}", "browser.sandbox: 'maybe' is not one of"),
        ("browser: {headless: false}", "browser.headless: unknown key"),
    ])
    func badBrowserSettingsNameTheKey(_ yaml: String, _ message: String) {
        #expect {
            _ = try ConfigLoader.parse(yaml)
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test func atMostSoManyHoldersAtOnceAndACancelledWaiterLeaves() async throws {
        let slots = AsyncSlots(2)
        let inside = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await slots.withSlot {
                        let now = inside.add(1)
                        inside.noteMax(now)
                        try await Task.sleep(for: .milliseconds(20))
                        _ = inside.add(-1)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(inside.max == 2)
        // A waiter cancelled in line gives up at once and takes no slot with it.
        let holder = Task { try await slots.withSlot { try await Task.sleep(for: .seconds(30)) } }
        let other = Task { try await slots.withSlot { try await Task.sleep(for: .seconds(30)) } }
        try await Task.sleep(for: .milliseconds(50))
        let waiter = Task { try await slots.withSlot { 1 } }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await slots.waiting == 1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        holder.cancel()
        other.cancel()
        #expect(try await slots.withSlot { 2 } == 2)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        private var highest = 0
        func add(_ delta: Int) -> Int {
            lock.withLock {
                value += delta; return value
            }
        }
        func noteMax(_ candidate: Int) { lock.withLock { highest = Swift.max(highest, candidate) } }
        var max: Int { lock.withLock { highest } }
    }
}
