import Foundation

/// Rate-limits sign-in attempts. An attempt is an entry counted against its client address from the
/// moment it begins (so a hundred requests sent at once count as a hundred, not as zero until bcrypt has
/// answered); a success takes back only its own entry, so signing in to one's own account does not wipe the
/// guesses made at another's. After `limit` entries within `window` an address waits until the oldest is
/// `window` old. Above that:
/// - all addresses together may fail `globalLimit` times per window (an attacker who can vary the address,
///   say through a proxy's X-Forwarded-For, still guesses slowly);
/// - at most `concurrent` attempts are checked at once (bcrypt costs a quarter of a second of CPU each).
/// IPv6 clients count by their /64 (one host usually has a whole one). At most `capacity` addresses are
/// remembered, the least recently active going first. The clock is injected; one that goes backwards never
/// makes a wait longer than `window`.
public final class LoginThrottle: @unchecked Sendable {
    /// One attempt under way: hand it back to `succeeded` or `failed`.
    public struct Attempt: Sendable {
        let client: String
        let id: Int
    }

    private struct Entry {
        var id: Int
        var at: Date
    }

    private let lock = NSLock()
    private let clock: any WallClock
    private let limit: Int
    private let globalLimit: Int
    private let concurrent: Int
    private let window: TimeInterval
    private let capacity: Int
    private var entries: [String: [Entry]] = [:]
    private var globalFailures: [Date] = []
    private var inFlight = 0
    private var nextID = 0

    public init(
        clock: any WallClock, limit: Int = 5, window: TimeInterval = 600, globalLimit: Int = 100, concurrent: Int = 4,
        capacity: Int = 4096
    ) {
        self.clock = clock
        self.limit = max(1, limit)
        self.window = window
        self.globalLimit = max(1, globalLimit)
        self.concurrent = max(1, concurrent)
        self.capacity = max(1, capacity)
    }

    /// Starts an attempt for `address`, or says how many seconds it must wait first.
    public func begin(_ address: String) -> Result<Attempt, Wait> {
        let client = Self.key(address)
        return lock.withLock {
            let now = clock.now()
            // A clock that went backwards: what seems to lie in the future counts as now, so a lockout
            // never outlasts one window.
            let recent = (entries[client] ?? []).map { Entry(id: $0.id, at: min($0.at, now)) }.filter {
                now.timeIntervalSince($0.at) < window
            }
            entries[client] = recent.isEmpty ? nil : recent
            globalFailures = globalFailures.map { min($0, now) }.filter { now.timeIntervalSince($0) < window }
            if recent.count >= limit, let oldest = recent.first { return .failure(Wait(seconds: wait(since: oldest.at, now: now))) }
            if globalFailures.count >= globalLimit, let oldest = globalFailures.first {
                return .failure(Wait(seconds: wait(since: oldest, now: now)))
            }
            guard inFlight < concurrent else { return .failure(Wait(seconds: 1)) }
            if entries[client] == nil, entries.count >= capacity,
                let stalest = entries.min(by: { ($0.value.last?.at ?? now) < ($1.value.last?.at ?? now) })?.key
            {
                entries[stalest] = nil
            }
            nextID += 1
            inFlight += 1
            entries[client, default: []].append(Entry(id: nextID, at: now))
            return .success(Attempt(client: client, id: nextID))
        }
    }

    /// The attempt signed in: its own entry is taken back, the others stay.
    public func succeeded(_ attempt: Attempt) {
        lock.withLock {
            inFlight -= 1
            entries[attempt.client]?.removeAll { $0.id == attempt.id }
            if entries[attempt.client]?.isEmpty == true { entries[attempt.client] = nil }
        }
    }

    public func failed(_ attempt: Attempt) {
        lock.withLock {
            inFlight -= 1
            globalFailures.append(clock.now())
            if globalFailures.count > globalLimit { globalFailures.removeFirst() }
        }
    }

    /// How long to wait: a failure must be `window` old (never more than `window`, whatever the clock did).
    private func wait(since oldest: Date, now: Date) -> TimeInterval {
        min(window, max(1, window - now.timeIntervalSince(oldest)))
    }

    /// An IPv4 address as it is; an IPv6 address by its /64.
    static func key(_ address: String) -> String {
        var v6 = in6_addr()
        guard address.contains(":"), inet_pton(AF_INET6, address, &v6) == 1 else { return address }
        let bytes = withUnsafeBytes(of: &v6) { Array($0.prefix(8)) }
        if bytes.allSatisfy({ $0 == 0 }) { return address }  // ::1, ::ffff:a.b.c.d: no /64 to speak of
        return bytes.map { String(format: "%02x", $0) }.joined() + "::/64"
    }

    /// The seconds an address must wait.
    public struct Wait: Error, Sendable, Equatable {
        public var seconds: TimeInterval
    }
}
