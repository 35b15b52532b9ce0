import Foundation
import PitlaneCore
import Testing

/// Issue 12's first slice: what a saved catalogue or a burst of API calls must not be able to do.
struct SharingSafetyTests {
    static func service(store: InMemoryCatalogueStore, allowPrivate: Bool, headers: HeaderProfile = .init()) async -> (
        ExtractionService, StreamCatalog
    ) {
        let catalog = StreamCatalog()
        let clock = ManualClock(TestSupport.start)
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: .init())
        await refresher.register(
            Source(
                id: "src", kind: "static", headers: headers, allowPrivate: allowPrivate,
                extractor: StaticExtractor(candidates: [Candidate(url: URL(string: "http://192.168.1.5/a.m3u8")!, title: "A")])))
        return (ExtractionService(refresher: refresher, catalog: catalog, validator: nil, store: store, clock: clock), catalog)
    }

    /// A stream saved while its source allowed private addresses loses that at once when the config
    /// says otherwise: after a restart its handles used to go on fetching from the private origin.
    @Test func theCurrentConfigWinsOverTheSavedCatalogue() async throws {
        let store = InMemoryCatalogueStore()
        let (first, _) = await Self.service(store: store, allowPrivate: true, headers: HeaderProfile(["Cookie": "old=1"]))
        await first.runCycle()
        #expect(try store.load().streams.first?.descriptor.allowPrivate == true)

        let (second, catalog) = await Self.service(store: store, allowPrivate: false, headers: HeaderProfile(["Cookie": "new=2"]))
        await second.restore()
        let record = try #require(await catalog.all().first)
        #expect(record.descriptor.allowPrivate == false)
        #expect(record.descriptor.headers.value(for: "Cookie") == "new=2")
    }

    /// A header taken out of the source's configuration is gone after a restart too: the saved stream kept
    /// the merged headers, so the old Cookie (or Authorization) went on being sent.
    @Test func aHeaderRemovedFromTheConfigIsGoneAfterARestore() async throws {
        let store = InMemoryCatalogueStore()
        let (first, _) = await Self.service(
            store: store, allowPrivate: true, headers: HeaderProfile(["Cookie": "old=1", "Referer": "https://site.example/"]))
        await first.runCycle()
        let (second, catalog) = await Self.service(
            store: store, allowPrivate: true, headers: HeaderProfile(["Referer": "https://site.example/"]))
        await second.restore()
        let record = try #require(await catalog.all().first)
        #expect(record.descriptor.headers.value(for: "Cookie") == nil)
        #expect(record.descriptor.headers.value(for: "Referer") == "https://site.example/")
    }

    /// Twenty `POST /api/streams/{id}/refresh` in a row used to run the source twenty times: a manual
    /// refresh keeps `min_spacing` from the last run (and still skips a failure's longer backoff).
    @Test func manualRefreshesInARowKeepTheMinimumSpacing() async {
        let catalog = StreamCatalog()
        let clock = ManualClock(TestSupport.start)
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: RefreshPolicy(minSpacing: 3))
        let extractor = FakeExtractor([Candidate(url: URL(string: "https://cdn.example.com/a.m3u8?t=1")!, title: "A", key: "a")])
        await refresher.register(Source(id: "src", kind: "static", extractor: extractor))
        await refresher.discover("src")
        let before = extractor.runCount
        for _ in 0..<20 { await refresher.refresh(stream: "src-a", reason: .manual) }
        #expect(extractor.runCount - before == 0, "all twenty fall within min_spacing of the discovery run")
        clock.advance(by: 3)
        for _ in 0..<20 { await refresher.refresh(stream: "src-a", reason: .manual) }
        #expect(extractor.runCount - before == 1)
    }

    /// A handle issued more than its lifetime ago is answered 410 (the player reloads the playlist),
    /// without an upstream request.
    @Test func anExpiredHandleIs410() async throws {
        let harness = await ProxyHarness()
        let past = HandleSigner(
            secret: Data("test-secret-0123456789".utf8), clock: ManualClock(TestSupport.start.addingTimeInterval(-7 * 3600)))
        let handle = ResourceHandle(stream: harness.streamID, kind: .segment, url: ProxyHarness.base + "seg100.ts", variant: "v", msn: 100)
        let before = harness.upstream.requestCount
        let reply = await harness.proxy.resource(stream: harness.streamID, token: past.sign(handle), ext: "ts", range: nil)
        #expect(reply.status == 410)
        #expect(harness.upstream.requestCount == before)
    }

    /// The segment cache is keyed by URL and by whether the stream may reach private addresses: a stream
    /// of a source without `allow_private` is never served bytes another source fetched from a private one.
    @Test func privateFetchesAreNotSharedWithPublicStreams() async throws {
        let harness = await ProxyHarness()
        await harness.refresher.register(
            Source(
                id: "lan", kind: "static", allowPrivate: true,
                extractor: FakeExtractor([Candidate(url: URL(string: ProxyHarness.base + "lan/master.m3u8")!, title: "Race", key: "race")]))
        )
        await harness.refresher.discover("lan")
        let url = ProxyHarness.base + "seg100.ts?token=" + harness.token
        for stream in ["lan-race", harness.streamID] {
            let handle = ResourceHandle(stream: stream, kind: .segment, url: url, variant: "v", msn: 100)
            let reply = await harness.proxy.resource(stream: stream, token: TestSupport.signer.sign(handle), ext: "ts", range: nil)
            #expect(reply.status == 200)
            if case .stream(let body) = reply.body { _ = try await body.collect(upTo: 1 << 20) }
        }
        let fetches = harness.upstream.requests.filter { $0.url.lastPathComponent == "seg100.ts" }
        #expect(fetches.map(\.allowPrivate) == [true, false])
    }
}
