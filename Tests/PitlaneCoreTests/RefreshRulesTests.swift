import Foundation
import PitlaneCore
import Testing

/// The token-refresh rules of DESIGN.md against sources that misbehave the way real ones do: slow, losing
/// a stream, handing back the same token, failing again and again.
struct RefreshRulesTests {
    let clock = ManualClock()
    let catalog = StreamCatalog()

    func url(_ name: String, token: String = "t1", exp: Date? = nil) -> URL {
        var text = "https://cdn.example.com/live/\(name).m3u8?token=\(token)"
        if let exp { text += "&exp=\(Int(exp.timeIntervalSince1970))" }
        return URL(string: text)!
    }

    func refresher(_ extractor: FakeExtractor, policy: RefreshPolicy = RefreshPolicy(interval: 240, lease: 600, minSpacing: 3))
        async -> TokenRefresher
    {
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: policy)
        await refresher.register(Source(id: "src", kind: "static", extractor: extractor))
        await refresher.discover("src")
        for record in await catalog.all() { await catalog.touch(record.descriptor.id, now: clock.now(), lease: 600) }
        return refresher
    }

    // MARK: Finding 1: the source's timeout bounds the run, and nothing shorter cuts its requests

    /// An API that answers after 15 s, behind a source whose timeout is 40 s: the fake answers only when
    /// the request's own deadline allows 15 s (no real waiting).
    @Test func aSourcesRequestsMayTakeAsLongAsItsTimeout() async throws {
        let api = FakeUpstream { request in
            guard request.timeout >= .seconds(15) else { throw UpstreamError.timeout }
            return .init(status: 200, body: #"{"url": "https://cdn.example.com/live/a.m3u8"}"#)
        }
        struct SlowAPI: Extractor {
            func extract(_ context: ExtractionContext) async throws -> [Candidate] {
                let (text, _) = try await context.fetchText(URL(string: "https://api.example.com/streams")!)
                guard text.contains("a.m3u8") else { return [] }
                return [Candidate(url: URL(string: "https://cdn.example.com/live/a.m3u8")!, title: "Race")]
            }
        }
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: RefreshPolicy())
        await refresher.setUpstream(api)
        await refresher.register(Source(id: "api", kind: "json", timeout: .seconds(40), extractor: SlowAPI()))
        let found = try await refresher.discover("api").get()
        #expect(found.count == 1)
    }

    // MARK: Finding 2: each stream is judged by its own match

    @Test func aStreamThatWasRefreshedIsOKWhenAnotherOfItsSourceVanished() async throws {
        let extractor = FakeExtractor([
            Candidate(url: url("a"), title: "Feed a", key: "a"), Candidate(url: url("b"), title: "Feed b", key: "b"),
        ])
        let refresher = await refresher(extractor, policy: RefreshPolicy(lease: 600, minSpacing: 0))
        extractor.set([
            Candidate(url: url("a", token: "t2"), title: "Feed a", key: "a"), Candidate(url: url("c"), title: "Feed c", key: "c"),
        ])
        clock.advance(by: 10)
        #expect(await refresher.refresh(stream: "src-a", reason: .rejected), "a's URL was refreshed")
        #expect(await catalog.record("src-a")?.descriptor.upstream == url("a", token: "t2"))
        #expect(await refresher.refresh(stream: "src-b", reason: .rejected) == false, "b is gone from the run")
    }

    // MARK: Finding 3: no stream ever moves to another feed

    @Test func aKeyedStreamIsOnlyMatchedByItsKey() async throws {
        let extractor = FakeExtractor([
            Candidate(url: url("a"), title: "Feed a", key: "a"), Candidate(url: url("b"), title: "Feed b", key: "b"),
        ])
        let refresher = await refresher(extractor)
        extractor.set([Candidate(url: url("a", token: "t2"), title: "Feed a", key: "a")])
        clock.advance(by: 10)
        await refresher.refresh(source: "src", reason: .rejected)
        let b = try #require(await catalog.record("src-b"))
        #expect(b.descriptor.upstream == url("b"), "Feed b must not play Feed a")
        #expect(b.refresh.lastError?.contains("not found in the last run") == true, "\(b.refresh.lastError ?? "nil")")
        #expect(await catalog.record("src-a")?.descriptor.upstream == url("a", token: "t2"))
    }

    @Test func aCandidateMatchesAtMostOneStream() async throws {
        let extractor = FakeExtractor([Candidate(url: url("race"), title: "Race"), Candidate(url: url("onboard"), title: "Onboard")])
        let refresher = await refresher(extractor)
        let ids = await catalog.all().map(\.descriptor.id)
        #expect(ids.count == 2)
        extractor.set([Candidate(url: url("race", token: "t2"), title: "Race")])
        clock.advance(by: 10)
        await refresher.refresh(source: "src", reason: .rejected)
        let upstreams = await catalog.all().map(\.descriptor.upstream)
        #expect(upstreams == [url("race", token: "t2"), url("onboard")], "the onboard stream keeps its own URL")
    }

    // MARK: Finding 4: refresh does not degenerate into polling

    @Test func anUnchangedURLIsNotARefresh() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a"), title: "Race", key: "race")])
        let refresher = await refresher(extractor)
        let before = try #require(await catalog.record("src-race"))
        clock.advance(by: 10)
        await refresher.refresh(source: "src", reason: .manual)
        let after = try #require(await catalog.record("src-race"))
        #expect(extractor.runCount == 2)
        #expect(after.refresh.count == 0)
        #expect(after.refresh.lastRefreshed == before.refresh.lastRefreshed)
    }

    /// A site that hands back the same 15 s token for a minute: Pitlane re-runs it a few times, backing
    /// off, not every `min_spacing`.
    @Test func theSameTokenHandedBackIsNotPolled() async throws {
        let token = Candidate(url: url("a", exp: clock.now().addingTimeInterval(15)), title: "Race", key: "race")
        let extractor = FakeExtractor([token])
        let refresher = await refresher(extractor)
        for _ in 0..<60 {
            clock.advance(by: 1)
            await refresher.tickAndWait()
        }
        #expect(extractor.runCount <= 7, "ran \(extractor.runCount) times in 60 s")
        #expect(extractor.runCount >= 3, "but it does try again")
    }

    /// A source that takes 6 s to answer, with 15 s tokens: the run is planned so that it ends (with a
    /// margin) before the token it replaces expires.
    @Test func aSlowSourceIsRunEarlyEnoughForItsOwnPace() async throws {
        let clock = self.clock
        let extractor = FakeExtractor([])
        extractor.whenRun { clock.advance(by: 6) }
        extractor.set([Candidate(url: url("a", token: "t1", exp: clock.now().addingTimeInterval(6 + 15)), title: "Race", key: "race")])
        let refresher = await refresher(extractor)
        let record = try #require(await catalog.record("src-race"))
        let expiry = try #require(record.refresh.expiresAt)
        let next = try #require(record.refresh.nextRefresh)
        #expect(next.addingTimeInterval(6 + 2) <= expiry, "planned at \(next.timeIntervalSince(expiry)) s from expiry")
        _ = refresher
    }

    /// A source that keeps failing while players keep hitting 403s is re-run with growing pauses.
    @Test func failedRunsBackOffAndSuccessResetsThem() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a"), title: "Race", key: "race")])
        let refresher = await refresher(extractor)
        extractor.fail(FakeError())
        var runs: [Int] = []
        for second in 0..<30 {
            clock.advance(by: 1)
            let before = extractor.runCount
            await refresher.refresh(stream: "src-race", reason: .rejected)
            if extractor.runCount > before { runs.append(second + 1) }
        }
        #expect(runs == [3, 6, 12, 24], "the spacing after discovery, then backoff 3, 6, 12 s: \(runs)")
        extractor.set([Candidate(url: url("a", token: "t2"), title: "Race", key: "race")])
        clock.advance(by: 24)
        #expect(await refresher.refresh(stream: "src-race", reason: .rejected))
        extractor.fail(FakeError())
        clock.advance(by: 3)
        let before = extractor.runCount
        await refresher.refresh(stream: "src-race", reason: .rejected)
        #expect(extractor.runCount == before + 1, "a success resets the backoff to min_spacing")
    }

    // MARK: Finding 5: a slow source delays no other

    /// The hanging source is due at 10 s, the healthy one at 11 s; the loop ticks once a second, one tick
    /// after the other as `RefreshService` does. The healthy one must not wait for the hanging one.
    @Test func aHangingSourceDoesNotDelayAnotherSourcesRefresh() async throws {
        let hanging = FakeExtractor([Candidate(url: url("slow"), title: "Slow", key: "slow")])
        let healthy = FakeExtractor([Candidate(url: url("demo"), title: "Demo", key: "demo")])
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: RefreshPolicy(interval: 10, lease: 600, minSpacing: 0))
        await refresher.register(Source(id: "hang", kind: "static", timeout: .seconds(20), extractor: hanging))
        await refresher.register(Source(id: "demo", kind: "static", extractor: healthy))
        await refresher.discover("hang")
        clock.advance(by: 1)
        await refresher.discover("demo")
        for record in await catalog.all() { await catalog.touch(record.descriptor.id, now: clock.now(), lease: 600) }
        hanging.stall = .seconds(3)
        healthy.set([Candidate(url: url("demo", token: "t2"), title: "Demo", key: "demo")])
        clock.advance(by: 9)
        let clock = self.clock
        let loop = Task {
            await refresher.tick()
            clock.advance(by: 1)
            await refresher.tick()
        }
        let refreshedWhileTheOtherHangs = await eventually(within: .milliseconds(2000)) {
            await catalog.record("demo-demo")?.descriptor.upstream == url("demo", token: "t2")
        }
        #expect(refreshedWhileTheOtherHangs)
        #expect(hanging.runCount == 2)
        await loop.value
    }

    // MARK: Finding 6: configured headers win over discovered ones

    @Test func theSourcesConfiguredHeadersWinOverDiscoveredOnes() async throws {
        let discovered = HeaderProfile(["Referer": "https://embed.example/", "X-Discovered": "1"])
        let extractor = FakeExtractor([Candidate(url: url("a"), title: "Race", key: "race", headers: discovered)])
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: RefreshPolicy(minSpacing: 0))
        await refresher.register(
            Source(id: "src", kind: "m3u", headers: HeaderProfile(["Referer": "https://configured.example/"]), extractor: extractor))
        await refresher.discover("src")
        var headers = try #require(await catalog.record("src-race")?.descriptor.headers)
        #expect(headers.value(for: "Referer") == "https://configured.example/")
        #expect(headers.value(for: "X-Discovered") == "1")
        extractor.set([Candidate(url: url("a", token: "t2"), title: "Race", key: "race", headers: discovered)])
        clock.advance(by: 10)
        await refresher.refresh(source: "src", reason: .manual)
        headers = try #require(await catalog.record("src-race")?.descriptor.headers)
        #expect(headers.value(for: "Referer") == "https://configured.example/", "and still after a refresh")
    }

    /// An extractor that ignores its timeout keeps running; at most two such runs of a source live at once.
    @Test func stuckRunsDoNotPileUp() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a"), title: "Race", key: "race")])
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: RefreshPolicy(minSpacing: 0))
        await refresher.register(Source(id: "src", kind: "static", timeout: .milliseconds(100), extractor: extractor))
        extractor.stall = .seconds(2)
        for _ in 0..<3 { await refresher.refresh(source: "src", reason: .manual) }
        #expect(extractor.runCount == 2)
        #expect(await refresher.allStatuses().first?.lastError?.contains("still going on") == true)
    }

    /// Plans made before the clock was set back a year are due now, not in a year.
    @Test func aClockSetBackLeavesNoStreamWaitingAYear() async throws {
        let extractor = FakeExtractor([Candidate(url: url("a"), title: "Race", key: "race")])
        let refresher = await refresher(extractor)
        clock.advance(by: -365 * 86_400)
        await catalog.touch("src-race", now: clock.now(), lease: 600)
        #expect(await refresher.dueSources() == ["src"])
    }
}
