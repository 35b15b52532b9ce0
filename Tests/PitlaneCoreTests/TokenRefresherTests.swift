import Foundation
import PitlaneCore
import Testing

struct TokenRefresherTests {
    let clock = ManualClock()
    let catalog = StreamCatalog()
    let policy = RefreshPolicy(interval: 240, lease: 60, minSpacing: 3, holdTimeout: 8)

    func url(_ token: String, exp: Date? = nil) -> URL {
        var text = "https://cdn.example.com/live/master.m3u8?token=\(token)"
        if let exp { text += "&exp=\(Int(exp.timeIntervalSince1970))" }
        return URL(string: text)!
    }

    func setUp(_ extractor: FakeExtractor) async -> TokenRefresher {
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: policy)
        await refresher.register(Source(id: "src", kind: "static", extractor: extractor))
        await refresher.discover("src")
        return refresher
    }

    @Test func schedulesAt75PercentOfTheTokenLifetimeAsIssued() {
        let now = clock.now()
        func next(expiresIn: TimeInterval?, issuedAgo: TimeInterval = 0, runTime: TimeInterval = 0) -> TimeInterval {
            policy.nextRefresh(
                now: now, issuedAt: now.addingTimeInterval(-issuedAgo), expiresAt: expiresIn.map { now.addingTimeInterval($0) },
                runTime: runTime
            ).timeIntervalSince(now)
        }
        #expect(next(expiresIn: 100) == 75)
        #expect(next(expiresIn: 3600) == 240)
        #expect(next(expiresIn: nil) == 240)
        #expect(next(expiresIn: -10) == 3, "never sooner than the spacing")
        #expect(next(expiresIn: 60, issuedAgo: 40) == 35, "75 % of the lifetime as issued (100 s), not of what is left")
        #expect(next(expiresIn: 100, runTime: 30) == 67, "expiry less the run time and the margin")
    }

    @Test func backsOffFromTheSpacingToTheInterval() {
        #expect((0...8).map { policy.retryDelay(after: $0) } == [3, 3, 6, 12, 24, 48, 96, 192, 240])
    }

    @Test func refreshesOnlyWatchedStreamsWhenDue() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a", exp: clock.now().addingTimeInterval(40)), title: "Race", key: "race")])
        let refresher = await setUp(extractor)
        let id = try #require(await catalog.all().first?.descriptor.id)
        #expect(await catalog.record(id)?.refresh.nextRefresh == clock.now().addingTimeInterval(30))

        clock.advance(by: 31)
        await refresher.tickAndWait()
        #expect(extractor.runCount == 1, "nobody watches: no refresh")

        await catalog.touch(id, now: clock.now(), lease: policy.lease)
        extractor.set([Candidate(url: url("b", exp: clock.now().addingTimeInterval(40)), title: "Race", key: "race")])
        await refresher.tickAndWait()
        #expect(extractor.runCount == 2)
        let record = try #require(await catalog.record(id))
        #expect(record.descriptor.upstream.query?.contains("token=b") == true)
        #expect(record.refresh.count == 1)
        #expect(record.refresh.lastRefreshed == clock.now())
        #expect(record.refresh.expiresAt == clock.now().addingTimeInterval(40))
        #expect(record.refresh.nextRefresh == clock.now().addingTimeInterval(30))

        clock.advance(by: 29)
        await refresher.tickAndWait()
        #expect(extractor.runCount == 2, "not due yet")
        clock.advance(by: 1)
        await refresher.tickAndWait()
        #expect(extractor.runCount == 3)

        clock.advance(by: 61)
        await refresher.tickAndWait()
        #expect(extractor.runCount == 3, "the lease ran out")
    }

    @Test func oneRunRefreshesEveryActiveStreamOfTheSource() async throws {
        let extractor = FakeExtractor([
            Candidate(url: url("a1"), title: "World", key: "world"), Candidate(url: url("b1"), title: "Onboard", key: "onboard"),
        ])
        let refresher = await setUp(extractor)
        for record in await catalog.all() { await catalog.touch(record.descriptor.id, now: clock.now(), lease: 60) }
        extractor.set([
            Candidate(url: url("a2"), title: "World", key: "world"), Candidate(url: url("b2"), title: "Onboard", key: "onboard"),
        ])
        clock.advance(by: 10)
        #expect(await refresher.refresh(source: "src", reason: .rejected).succeeded)
        #expect(extractor.runCount == 2)
        let tokens = await catalog.all().map { $0.descriptor.upstream.query ?? "" }
        #expect(tokens == ["token=a2", "token=b2"])
    }

    @Test func concurrentRefreshesShareOneRun() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a"), title: "Race", key: "race")])
        let refresher = await setUp(extractor)
        extractor.delay = .milliseconds(50)
        clock.advance(by: 10)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { await refresher.refresh(source: "src", reason: .rejected) } }
        }
        #expect(extractor.runCount == 2, "one discovery + one shared refresh run")
        await refresher.refresh(source: "src", reason: .rejected)
        #expect(extractor.runCount == 2, "within the minimum spacing")
        clock.advance(by: 3)
        await refresher.refresh(source: "src", reason: .rejected)
        #expect(extractor.runCount == 3)
    }

    @Test func aFailedRunKeepsTheOldURLAndRetriesSooner() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a"), title: "Race", key: "race")])
        let refresher = await setUp(extractor)
        let id = try #require(await catalog.all().first?.descriptor.id)
        await catalog.touch(id, now: clock.now(), lease: 600)
        extractor.fail(FakeError())
        clock.advance(by: 240)
        await refresher.tickAndWait()
        var record = try #require(await catalog.record(id))
        #expect(record.descriptor.upstream == url("a"))
        #expect(record.refresh.lastError == "the site is down")
        #expect(record.refresh.nextRefresh == clock.now().addingTimeInterval(3), "the first pause of the backoff")
        #expect(record.refresh.failures == 1)

        extractor.set([Candidate(url: url("x"), title: "Other", key: "other"), Candidate(url: url("y"), title: "Another", key: "another")])
        clock.advance(by: 30)
        await refresher.tickAndWait()
        record = try #require(await catalog.record(id))
        #expect(record.descriptor.upstream == url("a"), "no match: keep the old URL")
        #expect(record.refresh.lastError?.contains("not found in the last run") == true)
        #expect(record.refresh.count == 0)

        extractor.set([Candidate(url: url("z"), title: "Race", key: "race")])
        clock.advance(by: 30)
        await refresher.tickAndWait()
        record = try #require(await catalog.record(id))
        #expect(record.descriptor.upstream == url("z"))
        #expect(record.refresh.lastError == nil)
        #expect(record.refresh.count == 1)
    }

    @Test func aHangingSourceTimesOutWithoutThrowing() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a"), title: "Race", key: "race")])
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: policy)
        await refresher.register(Source(id: "src", kind: "static", timeout: .milliseconds(50), extractor: extractor))
        await refresher.discover("src")
        extractor.delay = .seconds(30)
        clock.advance(by: 10)
        let ok = await refresher.refresh(source: "src", reason: .manual).succeeded
        #expect(!ok)
        #expect(await catalog.all().first?.refresh.lastError?.contains("timed out") == true)
    }

    @Test func aFailedDiscoveryIsAValue() async {
        let extractor = FakeExtractor([])
        extractor.fail(FakeError())
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: policy)
        await refresher.register(Source(id: "src", kind: "static", extractor: extractor))
        let result = await refresher.discover("src")
        #expect(throws: ExtractionFailure.self) { try result.get() }
        #expect(await catalog.all().isEmpty)
    }

    @Test func streamIDsAreStableAndReadable() {
        let keyed = Candidate(url: url("a"), title: "World feed", key: "World Feed")
        #expect(StreamID.make(source: "demo", candidate: keyed) == "demo-world-feed")
        let first = StreamID.make(source: "src", candidate: Candidate(url: url("a"), title: "Race (HD)"))
        let second = StreamID.make(source: "src", candidate: Candidate(url: url("b"), title: "Race (HD)"))
        #expect(first == second, "tokens in the query do not change the id")
        #expect(first.hasPrefix("src-race-hd-"))
    }
}

extension TokenRefresher {
    /// A tick whose runs the test waits for.
    func tickAndWait() async {
        for run in await tick() { _ = await run.value }
    }
}
