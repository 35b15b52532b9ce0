import Foundation

/// The timing rules of token refresh (DESIGN.md), as pure functions of the clock.
public struct RefreshPolicy: Sendable, Equatable {
    /// The periodic refresh interval (the seed's 240 s), and the longest pause between failed runs.
    public var interval: TimeInterval
    /// How long a stream stays active after its last playlist request.
    public var lease: TimeInterval
    /// The least time between two runs of one source.
    public var minSpacing: TimeInterval
    /// How long a request that hit a 401/403/410 waits for the refresh before answering 503.
    public var holdTimeout: Duration
    /// The share of a token's lifetime (as issued) after which it is refreshed.
    public var lifetimeShare: Double

    public init(
        interval: TimeInterval = 240, lease: TimeInterval = 60, minSpacing: TimeInterval = 3, holdTimeout: TimeInterval = 8,
        lifetimeShare: Double = 0.75
    ) {
        self.interval = interval
        self.lease = lease
        self.minSpacing = minSpacing
        // Bounded here too (the loader allows 1–60 s): a Duration cannot hold 1e300 seconds and traps.
        self.holdTimeout = .seconds(min(max(holdTimeout.isFinite ? holdTimeout : 8, 0), 3600))
        self.lifetimeShare = lifetimeShare
    }

    /// What a run must leave between its end and the expiry of the token it replaces: the loop's one-second
    /// tick plus the spacing a rejected request would have to wait for the next run.
    public var margin: TimeInterval { max(2, minSpacing) }

    /// The furthest ahead any plan or pause can lie; one further ahead means the clock was set back.
    public var furthestPlan: TimeInterval { max(interval, minSpacing) }

    /// When to run the source again for a stream whose current URL was first handed out at `issuedAt`:
    /// the earliest of the periodic interval, `lifetimeShare` of the token's lifetime as issued, and its
    /// expiry less the source's recent run time and the margin, so that no player request meets the 403.
    ///
    /// - Parameter unchanged: how many runs in a row handed back this same URL once it was due. Each one
    ///   doubles the pause (from `minSpacing`, capped at the interval) instead of re-running the source
    ///   every `minSpacing`; while the token is still valid the pause never passes the latest safe time.
    public func nextRefresh(now: Date, issuedAt: Date, expiresAt: Date?, runTime: TimeInterval, unchanged: Int = 0) -> Date {
        var next = now.addingTimeInterval(interval)
        if let expiresAt {
            let lifetime = max(0, expiresAt.timeIntervalSince(issuedAt))
            let latest = expiresAt.addingTimeInterval(-(max(0, runTime) + margin))
            next = min(next, issuedAt.addingTimeInterval(lifetime * lifetimeShare), latest)
            if unchanged > 0 {
                next = max(next, now.addingTimeInterval(retryDelay(after: unchanged)))
                if expiresAt > now { next = min(next, max(latest, now.addingTimeInterval(minSpacing))) }
            }
        }
        return max(next, now.addingTimeInterval(minSpacing))
    }

    /// The pause after the `failures`-th failed run in a row: `minSpacing` doubled each time (3 s, 6 s,
    /// 12 s …), capped at the interval. A success starts again from `minSpacing`.
    public func retryDelay(after failures: Int) -> TimeInterval {
        guard failures > 0 else { return minSpacing }
        let base = max(1, minSpacing)
        let doubled = base * pow(2, Double(min(failures - 1, 20)))
        return min(max(interval, base), doubled)
    }
}
