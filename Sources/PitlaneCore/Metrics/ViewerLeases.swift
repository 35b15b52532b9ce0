import Foundation
import NIOConcurrencyHelpers

/// Who watches what: a viewer (a player, told apart by the server: its address and user agent) holds a
/// lease on a stream while it keeps fetching the stream's playlists, as the stream's own lease works. The
/// count of live leases is the stream's viewers. Bounded: at most `limit` viewers per stream are told apart.
public final class ViewerLeases: Sendable {
    private let clock: any WallClock
    private let lease: TimeInterval
    private let limit: Int
    private let leases = NIOLockedValueBox([String: [String: Date]]())

    public init(clock: any WallClock, lease: TimeInterval, limit: Int = 1000) {
        self.clock = clock
        self.lease = lease
        self.limit = limit
    }

    /// The viewer fetched one of the stream's playlists now.
    public func touch(stream: String, viewer: String) {
        let now = clock.now()
        let expiry = now.addingTimeInterval(lease)
        leases.withLockedValue { leases in
            var viewers = leases[stream, default: [:]]
            if viewers[viewer] == nil, viewers.count >= limit {
                viewers = viewers.filter { $0.value > now }
                guard viewers.count < limit else {
                    leases[stream] = viewers
                    return
                }
            }
            viewers[viewer] = expiry
            leases[stream] = viewers
        }
    }

    /// Per stream, the viewers whose lease is live now; streams without one are left out (and forgotten).
    public func counts() -> [String: Int] {
        let now = clock.now()
        return leases.withLockedValue { leases in
            var counts: [String: Int] = [:]
            for (stream, viewers) in leases {
                let live = viewers.filter { $0.value > now }
                if live.isEmpty {
                    leases[stream] = nil
                } else {
                    leases[stream] = live
                    counts[stream] = live.count
                }
            }
            return counts
        }
    }
}
