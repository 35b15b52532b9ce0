import Foundation
import Testing

@testable import PitlaneCore

/// The one single-flight primitive (issue 11), tested once for every cache and run set that uses it.
struct SingleFlightTests {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        private var cancelled = 0
        var runs: Int { lock.withLock { count } }
        var cancellations: Int { lock.withLock { cancelled } }
        func run() { lock.withLock { count += 1 } }
        func cancel() { lock.withLock { cancelled += 1 } }
    }

    static func kept(_ lifetime: TimeInterval) -> SingleFlight<String, Int>.Rules {
        var rules = SingleFlight<String, Int>.Rules()
        rules.lifetime = { _ in lifetime }
        return rules
    }

    /// Twenty callers at once: one run, and all twenty get its result.
    @Test func concurrentMissesShareOneRun() async {
        let flights = SingleFlight<String, Int>(clock: ManualClock(TestSupport.start))
        let counter = Counter()
        let results = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await flights.value(for: "k") {
                        counter.run()
                        try? await Task.sleep(for: .milliseconds(200))
                        return 42
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: 42, count: 20))
        #expect(counter.runs == 1)
        #expect(!flights.isRunning("k"))
    }

    /// A kept result is handed out for its lifetime on the injected clock, then the work runs again; a
    /// lifetime of zero shares a result only with the callers of its own run.
    @Test func resultsExpireOnTheInjectedClock() async {
        let clock = ManualClock(TestSupport.start)
        let flights = SingleFlight<String, Int>(clock: clock, rules: Self.kept(10))
        let counter = Counter()
        let work: @Sendable () async -> Int = {
            counter.run()
            return counter.runs
        }
        #expect(await flights.value(for: "k", work) == 1)
        clock.advance(by: 9)
        #expect(await flights.value(for: "k", work) == 1)
        clock.advance(by: 1)
        #expect(await flights.value(for: "k", work) == 2)
        let unkept = SingleFlight<String, Int>(clock: clock)
        _ = await unkept.value(for: "k", work)
        _ = await unkept.value(for: "k", work)
        #expect(counter.runs == 4)
        #expect(unkept.keptCount == 0)
    }

    /// Over the byte budget, the least recently used go first, and each one that goes is released.
    @Test func theBudgetEvictsTheLeastRecentlyUsed() async {
        let released = Counter()
        var rules = SingleFlight<String, Int>.Rules.budget(bytes: 250, entries: 10) { $0 }
        rules.lifetime = { _ in 60 }
        rules.released = { _ in released.run() }
        let flights = SingleFlight<String, Int>(clock: ManualClock(TestSupport.start), rules: rules)
        _ = await flights.value(for: "a") { 100 }
        _ = await flights.value(for: "b") { 100 }
        _ = await flights.value(for: "a") { 0 }  // a hit: "a" is now the most recently used
        _ = await flights.value(for: "c") { 100 }  // 300 bytes: "b" goes
        #expect(flights.keptCount == 2)
        #expect(await flights.value(for: "a") { -1 } == 100)
        #expect(await flights.value(for: "b") { 7 } == 7)
        #expect(released.runs == 1)
        var two = SingleFlight<String, Int>.Rules.budget(bytes: .max, entries: 2) { _ in 0 }
        two.lifetime = { _ in 60 }
        let few = SingleFlight<String, Int>(clock: ManualClock(TestSupport.start), rules: two)
        for key in ["x", "y", "z"] {
            _ = await few.value(for: key) { 1 }
        }
        #expect(few.keptCount == 2)
    }

    /// A budget that counts more than the kept results (the segment cache counts bytes still downloading)
    /// sees each release before the next eviction: one over the budget evicts one, not everything.
    @Test func anOutsideBudgetSeesEachRelease() async {
        final class Bytes: @unchecked Sendable {
            private let lock = NSLock()
            private var value = 0
            var current: Int { lock.withLock { value } }
            func add(_ bytes: Int) { lock.withLock { value += bytes } }
        }
        let held = Bytes()
        var rules = Self.kept(60)
        rules.overBudget = { _ in held.current > 250 }
        rules.released = { held.add(-$0) }
        let flights = SingleFlight<String, Int>(clock: ManualClock(TestSupport.start), rules: rules)
        for key in ["a", "b", "c"] {
            _ = await flights.value(for: key) {
                held.add(100)
                return 100
            }
        }
        #expect(flights.keptCount == 2)
        #expect(held.current == 200)
    }

    /// A run cancelled because every caller left, which still finishes later, does not replace the result
    /// of the run that started after it.
    @Test func aSupersededRunDoesNotOverwriteANewerResult() async throws {
        var rules = Self.kept(60)
        rules.cancelsAbandoned = true
        let flights = SingleFlight<String, Int>(clock: ManualClock(TestSupport.start), rules: rules)
        let old = Task {
            await flights.value(for: "k") {
                await uncancellableWait(.milliseconds(300))
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        old.cancel()
        #expect(await eventually { !flights.isRunning("k") })
        #expect(await flights.value(for: "k") { 2 } == 2)
        _ = await old.value
        #expect(await flights.value(for: "k") { 3 } == 2)
    }

    /// A result that can no longer be used (a body that dropped its beginning) is not handed out.
    @Test func anUnusableResultRunsTheWorkAgain() async {
        var rules = Self.kept(60)
        rules.usable = { $0 > 0 }
        let flights = SingleFlight<String, Int>(clock: ManualClock(TestSupport.start), rules: rules)
        _ = await flights.value(for: "k") { 0 }
        #expect(await flights.value(for: "k") { 5 } == 5)
        #expect(await flights.value(for: "k") { 9 } == 5)
    }

    /// When every caller went away: a fetch (cancelsAbandoned) is cancelled and the next caller starts
    /// afresh; a refresh lands its result for the next caller.
    @Test func abandonedWorkIsCancelledOrLandsByTheRules() async throws {
        let counter = Counter()
        let slow: @Sendable () async -> Int = {
            counter.run()
            do {
                try await Task.sleep(for: .seconds(5))
                return 1
            } catch {
                counter.cancel()
                return -1
            }
        }
        var cancelling = Self.kept(60)
        cancelling.lifetime = { $0 > 0 ? 60 : 0 }
        cancelling.cancelsAbandoned = true
        let fetches = SingleFlight<String, Int>(clock: ManualClock(TestSupport.start), rules: cancelling)
        let caller = Task { await fetches.value(for: "k", slow) }
        #expect(await eventually { counter.runs == 1 })
        caller.cancel()
        #expect(await eventually { counter.cancellations == 1 })
        #expect(await fetches.value(for: "k") { 2 } == 2)

        let landing = SingleFlight<String, Int>(clock: ManualClock(TestSupport.start), rules: Self.kept(60))
        let quick: @Sendable () async -> Int = {
            try? await Task.sleep(for: .milliseconds(300))
            return 3
        }
        let gaveUp = Task { await landing.value(for: "r", quick) }
        try await Task.sleep(for: .milliseconds(50))
        gaveUp.cancel()
        #expect(await eventually { !landing.isRunning("r") })
        #expect(await landing.value(for: "r") { 4 } == 3)
    }

    /// Expired results leave even when nobody asks again (a 200k-segment playlist does not stay).
    @Test func expiredResultsAreSweptWithoutARequest() async {
        let clock = ManualClock(TestSupport.start)
        let flights = SingleFlight<String, Int>(clock: clock, rules: Self.kept(0.5))
        _ = await flights.value(for: "k") { 1 }
        #expect(flights.keptCount == 1)
        clock.advance(by: 1)
        #expect(await eventually(within: .seconds(3)) { flights.keptCount == 0 })
    }
}
