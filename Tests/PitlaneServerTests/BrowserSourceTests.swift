import Foundation
import HTTPTypes
import Logging
import PitlaneCore
import PitlaneServer
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `browser` kind against a real headless Chromium and the fixture origin's scripted pages. In CI
/// Chromium must be there (the suite fails without it); elsewhere the suite is skipped when it is not.
@Suite(.serialized, .enabled(if: Chromium.present))
struct BrowserSourceTests {
    /// 127.0.0.2 and 127.0.0.3 play public servers; 127.0.0.1 and ::1 stay loopback.
    static let isPublic: @Sendable (String) -> Bool = { $0 == "127.0.0.2" || $0 == "127.0.0.3" || AddressPolicy.isPublic($0) }
    static let policy = DestinationPolicy(isPublic: isPublic)
    static let now = utc("2026-06-02T12:00:00Z")

    static var logger: Logger {
        var logger = Logger(label: "test.browser")
        logger.logLevel = ProcessInfo.processInfo.environment["PITLANE_TEST_LOG"] == "1" ? .debug : .error
        return logger
    }

    static func withBrowser(
        _ settings: Configuration.Browser = .init(), _ body: @Sendable (ChromiumBrowser) async throws -> Void
    ) async throws {
        let browser = ChromiumBrowser(settings: settings, destinations: policy, logger: logger)
        do {
            try await body(browser)
        } catch {
            await browser.shutdown()
            throw error
        }
        await browser.shutdown()
    }

    static func extract(
        _ url: String, engine: any BrowserEngine, wait: Duration = .seconds(10), allowPrivate: Bool = false
    ) async throws -> (candidates: [Candidate], notes: [String]) {
        let context = ExtractionContext(now: now, allowPrivate: allowPrivate)
        let candidates = try await BrowserExtractor(url: URL(string: url)!, wait: wait, engine: engine).extract(context)
        return (candidates, context.notes.all)
    }

    @Test func aPlayerThatBuildsItsURLInScriptIsFoundWithTheHeadersItSent() async throws {
        let origin = FixtureOrigin(host: "127.0.0.2")
        try await FixtureOrigin.serving([origin]) { urls in
            let page = urls[0].absoluteString + "js/watch.html"
            // The `page` kind reads the HTML: the URL is not in it.
            let client = HTTPUpstreamClient(isPublic: Self.isPublic)
            let scanned = try await PageExtractor(url: URL(string: page)!).extract(ExtractionContext(now: Self.now, http: client))
            try await client.shutdown()
            #expect(scanned.isEmpty)

            try await Self.withBrowser { browser in
                let (found, notes) = try await Self.extract(page, engine: browser)
                let stream = try #require(found.first)
                #expect(found.count == 1, "the variant the player loaded next is not a stream of its own: \(found.map(\.url))")
                #expect(stream.url.absoluteString == urls[0].absoluteString + "js/live/master.m3u8?token=t1")
                #expect(stream.title == "Scripted Grand Prix")
                #expect(stream.headers.value(for: "X-Player") == FixtureOrigin.playerHeader)
                #expect(stream.headers.value(for: "Referer") == page)
                let cookie = stream.headers.value(for: "Cookie") ?? ""
                #expect(cookie.contains("session=s1") && cookie.contains("viewer=v1"), "\(cookie)")
                #expect(!stream.headers.headers.contains { $0.name.lowercased().hasPrefix("sec-") || $0.name.lowercased() == "accept" })
                #expect(notes.first?.contains("2 playlist(s) seen") == true, "\(notes)")
            }
        }
    }

    @Test func aPlayerInsideAnIframeFromAnotherOriginIsFound() async throws {
        let outer = FixtureOrigin(host: "127.0.0.2")
        let inner = FixtureOrigin(host: "127.0.0.3")
        try await FixtureOrigin.serving([outer, inner]) { urls in
            let innerPage = urls[1].absoluteString + "js/watch.html?area=open"
            let page = urls[0].absoluteString + "js/outer.html?inner=" + innerPage
            try await Self.withBrowser { browser in
                let (found, _) = try await Self.extract(page, engine: browser)
                let stream = try #require(found.first)
                #expect(stream.url.absoluteString == urls[1].absoluteString + "js/open/master.m3u8?token=t1")
                #expect(stream.headers.value(for: "Referer") == innerPage)
                #expect(stream.title == "Outer page")
            }
        }
    }

    @Test func aPageCannotMakeTheBrowserReachLoopback() async throws {
        let origin = FixtureOrigin(host: "127.0.0.2")
        try await FixtureOrigin.serving([origin]) { urls in
            let listener = try await CountingListener.start(port: urls[0].port!)
            let page =
                urls[0].absoluteString + "js/hostile.html?port=\(urls[0].port!)"
                + (ProcessInfo.processInfo.environment["ONLY"].map { "&only=" + $0 } ?? "")
            try await Self.withBrowser { browser in
                let report = try await browser.visit(BrowserVisit(url: URL(string: page)!, wait: .seconds(4)))
                #expect(listener.connections == 0, "a request reached loopback: \(report)")
                #expect(report.refused.count >= 8, "\(report.refused)")
                #expect(report.refused.contains { $0.contains("127.0.0.1") && $0.contains("loopback, private or link-local") })
                #expect(report.refused.contains { $0.contains("[::1]") })
                #expect(report.playlists.isEmpty, "refused playlist requests are no streams: \(report.playlists)")
                // The control: with allow_private the same page does reach the listener, so it counts.
                _ = try await browser.visit(BrowserVisit(url: URL(string: page)!, wait: .seconds(3), allowPrivate: true))
                #expect(listener.connections > 0)
            }
            await listener.stop()
        }
    }

    /// Even a source allowed private addresses (the fixture origins of tests and home networks) keeps the
    /// page away from Pitlane's own port on every local address.
    @Test func aPageCannotReachPitlaneItselfEvenWithAllowPrivate() async throws {
        let origin = FixtureOrigin(host: "127.0.0.2")
        try await FixtureOrigin.serving([origin]) { urls in
            let listener = try await CountingListener.start()
            let own = listener.port
            let browser = ChromiumBrowser(settings: .init(), destinations: Self.policy, protectedPort: { own }, logger: Self.logger)
            do {
                let page = URL(string: urls[0].absoluteString + "js/hostile.html?port=\(own)")!
                let report = try await browser.visit(BrowserVisit(url: page, wait: .seconds(3), allowPrivate: true))
                #expect(listener.connections == 0)
                #expect(report.refused.contains { $0.contains("Pitlane's own address") }, "\(report.refused)")
            } catch {
                await browser.shutdown()
                throw error
            }
            await browser.shutdown()
            await listener.stop()
        }
    }

    @Test func aPageThatNeverFinishesLoadingEndsAtItsWait() async throws {
        let origin = FixtureOrigin(host: "127.0.0.2")
        try await FixtureOrigin.serving([origin]) { urls in
            try await Self.withBrowser { browser in
                let clock = ContinuousClock()
                let started = clock.now
                let error = await #expect(throws: ExtractionError.self) {
                    _ = try await Self.extract(urls[0].absoluteString + "js/endless.html", engine: browser, wait: .seconds(2))
                }
                #expect(clock.now - started < .seconds(8))
                #expect(error?.description.contains("no playlist request within 2 s") == true, "\(String(describing: error))")
                #expect(error?.description.contains("headless") == true)
            }
        }
    }

    @Test func aCrashedBrowserIsReplacedByTheNextVisit() async throws {
        let origin = FixtureOrigin(host: "127.0.0.2")
        try await FixtureOrigin.serving([origin]) { urls in
            try await Self.withBrowser { browser in
                let page = urls[0].absoluteString + "js/cookie.html"
                #expect(try await Self.extract(page, engine: browser).candidates.count == 1)
                let pid = try #require(await browser.processID)
                kill(pid, SIGKILL)
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await Self.extract(page, engine: browser).candidates.count == 1)
                #expect(await browser.launches == 2)
                #expect(await browser.processID != pid)
            }
        }
    }

    @Test func everyVisitStartsWithoutTheCookiesAndStorageOfTheLast() async throws {
        let origin = FixtureOrigin(host: "127.0.0.2")
        try await FixtureOrigin.serving([origin]) { urls in
            try await Self.withBrowser { browser in
                let page = urls[0].absoluteString + "js/cookie.html"
                for _ in 0..<2 {
                    let found = try await Self.extract(page, engine: browser).candidates
                    #expect(found.first?.url.query == "before=%7Cnull", "\(found.map(\.url))")
                }
            }
        }
    }

    @Test func aMissingChromiumNamesThePackage() async throws {
        var settings = Configuration.Browser()
        settings.path = "/nonexistent/chromium"
        try await Self.withBrowser(settings) { browser in
            let error = await #expect(throws: BrowserError.self) {
                _ = try await browser.visit(BrowserVisit(url: URL(string: "http://127.0.0.2/")!))
            }
            #expect(error?.description.contains("apt-get install chromium") == true, "\(String(describing: error))")
        }
    }

    @Test func aBrowserOverItsMemoryBoundIsRestarted() async throws {
        var bounded = Configuration.Browser()
        bounded.memoryBytes = 8 * 1024 * 1024
        let settings = bounded
        let origin = FixtureOrigin(host: "127.0.0.2")
        try await FixtureOrigin.serving([origin]) { urls in
            try await Self.withBrowser(settings) { browser in
                let error = await #expect(throws: BrowserError.self) {
                    _ = try await browser.visit(
                        BrowserVisit(url: URL(string: urls[0].absoluteString + "js/endless.html")!, wait: .seconds(8)))
                }
                #expect(error?.description.contains("more than browser.memory_mb") == true, "\(String(describing: error))")
                #expect(await browser.processID == nil)
            }
        }
    }
}

enum Chromium {
    /// Chromium is installed, or this is CI (where its absence must fail the suite, not skip it).
    static var present: Bool {
        (try? ChromiumBrowser.executable(configured: nil)) != nil || ProcessInfo.processInfo.environment["CI"] != nil
    }
}

/// A `browser` source through `pitlane serve`'s own wiring: found, played through the proxy with the
/// headers the page used, and played on after its token expired (the refresh runs the page again).
@Suite(.serialized, .enabled(if: Chromium.present))
struct BrowserSourceIntegrationTests {
    @Test func aBrowserStreamPlaysThroughTheProxyAcrossATokenExpiry() async throws {
        try await ServerHarness.run(
            configure: { configuration, origin in
                var source = Configuration.SourceConfig(id: "scripted", kind: "browser")
                source.url = URL(string: origin.absoluteString + "js/watch.html")!
                source.allowPrivate = true
                source.timeout = 20
                configuration.sources = [source]
            }, expectStreams: 0
        ) { harness in
            var found: StreamRecord?
            for _ in 0..<300 where found == nil {
                found = await harness.app.catalog.all().first { $0.descriptor.source == "scripted" }
                if found == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let id = try #require(found?.descriptor.id)
            let master = try await harness.get("/hls/\(id)/master.m3u8")
            #expect(master.status == 200, "\(master.text)")
            let variantPath = try #require(master.text.split(separator: "\n").last.map(String.init))
            let variant = try await harness.get("/hls/\(id)/" + variantPath)
            let segments = variant.text.split(separator: "\n").filter { $0.hasPrefix("../s/") }
            #expect(segments.count == 2)
            #expect(try await harness.get("/hls/\(id)/s/" + segments[0].dropFirst(5)).body == FixtureOrigin.segment(40))

            harness.origin.currentToken = "t2"
            // The next segment's upstream URL now answers 403: the request holds while the page runs again.
            let next = try await harness.get("/hls/\(id)/s/" + segments[1].dropFirst(5))
            #expect(next.status == 200 && next.body == FixtureOrigin.segment(41), "\(next.status) \(next.text.prefix(200))")
            let refreshed = harness.origin.requests.filter { $0.path == "/js/live/seg41.ts" && $0.query == "token=t2" }
            #expect(refreshed.contains { $0.headers[HTTPField.Name("X-Player")!] == FixtureOrigin.playerHeader })
        }
    }
}
