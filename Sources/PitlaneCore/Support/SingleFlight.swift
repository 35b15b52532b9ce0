import Foundation
import NIOConcurrencyHelpers

/// Coalesces concurrent misses for one key into one run of the work, keeps its result for a while, and
/// evicts within a budget. The one copy of that idea: the playlist and rendered-playlist caches, the
/// segment cache, the refresher's source runs and the extraction cycle all use it, each with its rules.
///
/// The work runs in a task of its own, so a caller that goes away never cancels it for the others; when
/// every caller went away, the rules say whether the run is cancelled (a fetch nobody will read) or lands
/// its result for the next caller (a refresh). A lock, not an actor: callers check and join within their
/// own turn, without a hop.
final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Rules: Sendable {
        /// How long a result is handed to later callers; zero: only to the callers of its own run.
        var lifetime: @Sendable (Value) -> TimeInterval = { _ in 0 }
        /// Whether a kept result can still be handed out (a body that dropped its beginning cannot).
        var usable: @Sendable (Value) -> Bool = { _ in true }
        /// The bytes a kept result holds, read at every eviction (a body still downloading grows).
        var cost: @Sendable (Value) -> Int = { _ in 0 }
        /// Whether the kept results, costing this much together, are over the budget.
        var overBudget: @Sendable (Int) -> Bool = { _ in false }
        var maxEntries = Int.max
        /// Told when a kept result leaves (the segment cache stops keeping its body).
        var released: @Sendable (Value) -> Void = { _ in }
        /// Whether a run every caller stopped waiting for is cancelled.
        var cancelsAbandoned = false
        /// Told of every lookup: true when a kept result or a run under way answered it (metrics).
        var counted: @Sendable (_ hit: Bool) -> Void = { _ in }

        /// Keeps at most `bytes` (by `cost`) and `entries` results.
        static func budget(bytes: Int, entries: Int, cost: @escaping @Sendable (Value) -> Int) -> Rules {
            var rules = Rules()
            rules.cost = cost
            rules.overBudget = { $0 > bytes }
            rules.maxEntries = entries
            return rules
        }
    }

    private struct Kept {
        var value: Value
        /// Computed once, when the result landed (a lifetime may cost a scan of a playlist).
        var expiresAt: Date
        var lastUse: Int
    }

    private struct Flight {
        var id: Int
        var task: Task<Value, Never>
        var waiters: Int
    }

    private enum Step {
        case kept(Value)
        case flight(id: Int, Task<Value, Never>, joined: Bool)
    }

    private struct State {
        var kept: [Key: Kept] = [:]
        var flights: [Key: Flight] = [:]
        var counter = 0
        var sweeping = false
    }

    private let state = NIOLockedValueBox(State())
    private let clock: any WallClock
    let rules: Rules

    init(clock: any WallClock, rules: Rules = Rules()) {
        self.clock = clock
        self.rules = rules
    }

    /// The keys whose work is running now.
    var running: [Key] { state.withLockedValue { Array($0.flights.keys) } }

    func isRunning(_ key: Key) -> Bool { state.withLockedValue { $0.flights[key] != nil } }

    var keptCount: Int { state.withLockedValue { $0.kept.count } }

    /// The kept result for `key` while it is fresh and usable, else the result of the run under way, else
    /// of a new run of `work`.
    func value(for key: Key, _ work: @escaping @Sendable () async -> Value) async -> Value {
        evict()
        let now = clock.now()
        let step = state.withLockedValue { state -> Step in
            state.counter += 1
            if let kept = state.kept[key], now < kept.expiresAt, rules.usable(kept.value) {
                state.kept[key]?.lastUse = state.counter
                return .kept(kept.value)
            }
            if let flight = state.flights[key] {
                state.flights[key]?.waiters += 1
                return .flight(id: flight.id, flight.task, joined: true)
            }
            let id = state.counter
            let task = Task {
                let value = await work()
                self.land(key, id: id, value)
                return value
            }
            state.flights[key] = Flight(id: id, task: task, waiters: 1)
            return .flight(id: id, task, joined: false)
        }
        switch step {
        case .kept(let value):
            rules.counted(true)
            return value
        case .flight(let id, let task, let joined):
            rules.counted(joined)
            return await withTaskCancellationHandler {
                await task.value
            } onCancel: {
                self.leave(key, id: id)
            }
        }
    }

    /// Forgets the kept result for `key` (a refresh made it stale).
    func remove(_ key: Key) {
        let removed = state.withLockedValue { $0.kept.removeValue(forKey: key) }
        if let removed { rules.released(removed.value) }
    }

    /// Drops expired and unusable results, then the least recently used, one at a time, until the rest fit
    /// the budget. Each is released before the budget is looked at again: a budget that counts more than
    /// the kept results (the segment cache's counts bytes still downloading) sees what the release freed.
    func evict() {
        let now = clock.now()
        let expired = state.withLockedValue { state -> [Value] in
            var expired: [Value] = []
            for (key, kept) in state.kept where now >= kept.expiresAt || !rules.usable(kept.value) {
                state.kept[key] = nil
                expired.append(kept.value)
            }
            return expired
        }
        for value in expired { rules.released(value) }
        while let victim = state.withLockedValue({ state -> Value? in
            guard !state.kept.isEmpty else { return nil }
            let total = state.kept.values.reduce(0) { $0 + rules.cost($1.value) }
            guard state.kept.count > rules.maxEntries || rules.overBudget(total),
                let oldest = state.kept.min(by: { $0.value.lastUse < $1.value.lastUse })
            else { return nil }
            state.kept[oldest.key] = nil
            return oldest.value.value
        }) {
            rules.released(victim)
        }
    }

    /// The run finished: its result is kept when the rules say so, whoever still waits for it, unless the
    /// run was superseded (cancelled when abandoned, and a newer run started for the key).
    private func land(_ key: Key, id: Int, _ value: Value) {
        let now = clock.now()
        let lifetime = rules.lifetime(value)
        let (sweep, previous) = state.withLockedValue { state -> (Bool, Kept?) in
            guard state.flights[key]?.id == id else { return (false, nil) }
            state.flights[key] = nil
            guard lifetime > 0, lifetime.isFinite else { return (false, nil) }
            state.counter += 1
            let kept = Kept(value: value, expiresAt: now.addingTimeInterval(lifetime), lastUse: state.counter)
            let previous = state.kept.updateValue(kept, forKey: key)
            defer { state.sweeping = true }
            return (!state.sweeping, previous)
        }
        if let previous { rules.released(previous.value) }
        evict()
        if sweep { scheduleSweep(after: lifetime) }
    }

    /// Expired results go even when nobody asks again: one sweep at a time, until nothing is kept.
    private func scheduleSweep(after seconds: TimeInterval) {
        Task { [weak self] in
            let wait = seconds.isFinite ? min(max(seconds, 0.5), 60) : 1
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000) + 50))
            guard let self else { return }
            self.evict()
            let next = self.state.withLockedValue { state -> TimeInterval? in
                let now = self.clock.now()
                let remaining = state.kept.values.map { $0.expiresAt.timeIntervalSince(now) }
                guard let soonest = remaining.min() else {
                    state.sweeping = false
                    return nil
                }
                return soonest
            }
            if let next { self.scheduleSweep(after: next) }
        }
    }

    /// A caller stopped waiting: when it was the last and the rules say so, the run is cancelled.
    private func leave(_ key: Key, id: Int) {
        let abandoned = state.withLockedValue { state -> Task<Value, Never>? in
            guard var flight = state.flights[key], flight.id == id else { return nil }
            flight.waiters -= 1
            state.flights[key] = flight
            guard flight.waiters <= 0, rules.cancelsAbandoned else { return nil }
            state.flights[key] = nil  // a caller who comes later starts afresh, not with a cancelled run
            return flight.task
        }
        abandoned?.cancel()
    }
}
