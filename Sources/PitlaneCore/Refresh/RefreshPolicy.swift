import Foundation

/// The timing rules of token refresh (DESIGN.md), as pure functions of the clock.
public struct RefreshPolicy: Sendable, Equatable {
    /// The periodic refresh interval (the seed's 240 s).
    public var interval: TimeInterval
    /// How long a stream stays active after its last playlist request.
    public var lease: TimeInterval
    /// The least time between two runs of one source.
    public var minSpacing: TimeInterval
    /// How long a request that hit a 401/403/410 waits for the refresh before answering 503.
    public var holdTimeout: TimeInterval
    /// The share of a token's remaining lifetime after which it is refreshed.
    public var lifetimeShare: Double

    public init(
        interval: TimeInterval = 240, lease: TimeInterval = 60, minSpacing: TimeInterval = 3, holdTimeout: TimeInterval = 8,
        lifetimeShare: Double = 0.75
    ) {
        self.interval = interval
        self.lease = lease
        self.minSpacing = minSpacing
        self.holdTimeout = holdTimeout
        self.lifetimeShare = lifetimeShare
    }

    /// When to refresh next after a successful refresh at `now`: the earliest of the periodic interval and
    /// 75 % of the token's remaining lifetime, never sooner than the minimum spacing.
    public func nextRefresh(after now: Date, expiresAt: Date?) -> Date {
        var next = now.addingTimeInterval(interval)
        if let expiresAt {
            let byLifetime = now.addingTimeInterval(max(0, expiresAt.timeIntervalSince(now)) * lifetimeShare)
            next = min(next, byLifetime)
        }
        return max(next, now.addingTimeInterval(minSpacing))
    }

    /// When to try again after a failed refresh: sooner than the interval, but never a tight loop.
    public func retryAfterFailure(_ now: Date, expiresAt: Date?) -> Date {
        let soon = now.addingTimeInterval(max(minSpacing, min(30, interval / 4)))
        guard let expiresAt, expiresAt > now else { return soon }
        return min(soon, max(now.addingTimeInterval(minSpacing), expiresAt))
    }
}
