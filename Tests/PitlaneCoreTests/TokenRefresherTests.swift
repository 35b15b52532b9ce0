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

    @Test func schedulesAt75PercentOfTheTokenLifetime() {
        let now = clock.now()
        #expect(policy.nextRefresh(after: now, expiresAt: now.addingTimeInterval(100)) == now.addingTimeInterval(75))
        #expect(policy.nextRefresh(after: now, expiresAt: now.addingTimeInterval(3600)) == now.addingTimeInterval(240))
        #expect(policy.nextRefresh(after: now, expiresAt: nil) == now.addingTimeInterval(240))
        #expect(policy.nextRefresh(after: now, expiresAt: now.addingTimeInterval(-10)) == now.addingTimeInterval(3))
    }

    @Test func refreshesOnlyWatchedStreamsWhenDue() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a", exp: clock.now().addingTimeInterval(40)), title: "Race", key: "race")])
        let refresher = await setUp(extractor)
        let id = try #require(await catalog.all().first?.descriptor.id)
        #expect(await catalog.record(id)?.refresh.nextRefresh == clock.now().addingTimeInterval(30))

        clock.advance(by: 31)
        await refresher.tick()
        #expect(extractor.runCount == 1, "nobody watches: no refresh")

        await catalog.touch(id, now: clock.now(), lease: policy.lease)
        extractor.set([Candidate(url: url("b", exp: clock.now().addingTimeInterval(40)), title: "Race", key: "race")])
        await refresher.tick()
        #expect(extractor.runCount == 2)
        let record = try #require(await catalog.record(id))
        #expect(record.descriptor.upstream.query?.contains("token=b") == true)
        #expect(record.refresh.count == 1)
        #expect(record.refresh.lastRefreshed == clock.now())
        #expect(record.refresh.expiresAt == clock.now().addingTimeInterval(40))
        #expect(record.refresh.nextRefresh == clock.now().addingTimeInterval(30))

        clock.advance(by: 29)
        await refresher.tick()
        #expect(extractor.runCount == 2, "not due yet")
        clock.advance(by: 1)
        await refresher.tick()
        #expect(extractor.runCount == 3)

        clock.advance(by: 61)
        await refresher.tick()
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
        #expect(await refresher.refresh(source: "src", reason: .rejected))
        #expect(extractor.runCount == 2)
        let tokens = await catalog.all().map { $0.descriptor.upstream.query ?? "" }
        #expect(tokens == ["token=a2", "token=b2"])
    }

    @Test func concurrentRefreshesShareOneRun() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a"), title: "Race", key: "race")])
        let refresher = await setUp(extractor)
        extractor.delay = .milliseconds(50)
        clock.advance(by: 10)
        await withTaskGroup(of: Bool.self) { group in
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
        await refresher.tick()
        var record = try #require(await catalog.record(id))
        #expect(record.descriptor.upstream == url("a"))
        #expect(record.refresh.lastError == "the site is down")
        #expect(record.refresh.nextRefresh == clock.now().addingTimeInterval(30))

        extractor.set([Candidate(url: url("x"), title: "Other", key: "other"), Candidate(url: url("y"), title: "Another", key: "another")])
        clock.advance(by: 30)
        await refresher.tick()
        record = try #require(await catalog.record(id))
        #expect(record.descriptor.upstream == url("a"), "no match: keep the old URL")
        #expect(record.refresh.lastError?.contains("no matching stream") == true)
        #expect(record.refresh.count == 0)

        extractor.set([Candidate(url: url("z"), title: "Race", key: "race")])
        clock.advance(by: 30)
        await refresher.tick()
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
        let ok = await refresher.refresh(source: "src", reason: .manual)
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
