import Foundation
import PitlaneCore
import Testing

struct ExtractionServiceTests {
    @Test func aHangingSourceNeitherDelaysNorBreaksTheOthers() async throws {
        let clock = ManualClock()
        let catalog = StreamCatalog()
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: .init())
        let hanging = FakeExtractor([])
        hanging.delay = .seconds(60)
        let failing = FakeExtractor([])
        failing.fail(FakeError())
        let good = FakeExtractor([Candidate(url: URL(string: "https://x/good.m3u8")!, title: "Good")])
        await refresher.register(Source(id: "hanging", kind: "test", timeout: .milliseconds(300), extractor: hanging))
        await refresher.register(Source(id: "failing", kind: "test", extractor: failing))
        await refresher.register(Source(id: "good", kind: "test", extractor: good))
        await refresher.register(Source(id: "off", kind: "test", enabled: false, extractor: good))
        let service = ExtractionService(refresher: refresher, catalog: catalog, validator: nil, store: nil, clock: clock)

        let started = ContinuousClock.now
        async let cycle: Void = service.runCycle()
        // The good source's stream appears long before the hanging one gives up.
        var seenEarly = false
        for _ in 0..<20 where !seenEarly {
            try await Task.sleep(for: .milliseconds(10))
            seenEarly = await catalog.all().contains { $0.descriptor.source == "good" }
        }
        await cycle
        let elapsed = ContinuousClock.now - started
        #expect(seenEarly)
        #expect(elapsed < .seconds(5), "bounded by the hanging source's own timeout")
        let statuses = Dictionary(uniqueKeysWithValues: await refresher.allStatuses().map { ($0.id, $0) })
        #expect(statuses["hanging"]?.lastError?.contains("timed out") == true)
        #expect(statuses["failing"]?.lastError == "the site is down")
        #expect(statuses["good"]?.streamsFound == 1 && statuses["good"]?.lastError == nil)
        #expect(statuses["off"]?.enabled == false && statuses["off"]?.lastRun == nil)
        #expect(good.runCount == 1, "the disabled source shares the extractor and never ran it")
    }
}
