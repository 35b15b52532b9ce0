import Foundation

/// Rate-limits sign-in attempts per client address: after `limit` failures within `window`, that address
/// waits until the oldest of them is `window` old. A success clears its record. At most `capacity`
/// addresses are remembered (the oldest record goes first), so a flood of addresses cannot grow it. The
/// clock is injected; one that goes backwards never lengthens a wait beyond `window`.
public final class LoginThrottle: @unchecked Sendable {
    private let lock = NSLock()
    private let clock: any WallClock
    private let limit: Int
    private let window: TimeInterval
    private let capacity: Int
    private var failures: [String: [Date]] = [:]

    public init(clock: any WallClock, limit: Int = 5, window: TimeInterval = 600, capacity: Int = 4096) {
        self.clock = clock
        self.limit = max(1, limit)
        self.window = window
        self.capacity = max(1, capacity)
    }

    /// Seconds until `client` may try again, or nil if it may now.
    public func retryAfter(_ client: String) -> TimeInterval? {
        lock.withLock {
            let now = clock.now()
            let recent = (failures[client] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[client] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            // A clock that went backwards never makes the wait longer than one window.
            return min(window, max(1, window - now.timeIntervalSince(oldest)))
        }
    }

    public func failed(_ client: String) {
        lock.withLock {
            let now = clock.now()
            if failures[client] == nil, failures.count >= capacity,
                let oldest = failures.min(by: { ($0.value.last ?? now) < ($1.value.last ?? now) })?.key
            {
                failures[oldest] = nil
            }
            failures[client, default: []].append(now)
            if failures[client]!.count > limit { failures[client]!.removeFirst() }
        }
    }

    public func succeeded(_ client: String) {
        lock.withLock { failures[client] = nil }
    }
}
