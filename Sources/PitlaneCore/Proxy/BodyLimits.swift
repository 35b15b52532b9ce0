import Foundation
import NIOCore

/// How much of an upstream's body Pitlane reads, and for how long (`upstream.*_max_mb`,
/// `upstream.segment_deadline_factor`). Every body has both a cap and a total deadline: a host nobody
/// controls may send a 50 MB "playlist" or a segment that never ends.
public struct BodyLimits: Sendable, Equatable {
    /// Playlists (real ones are kilobytes).
    public var playlist = 8 * 1024 * 1024
    /// Pages, JSON API answers and channel lists.
    public var document = 4 * 1024 * 1024
    /// Segments, parts, init sections and keys.
    public var segment = 64 * 1024 * 1024
    /// A segment's body must have arrived `upstream.timeout + factor × its duration` after the request:
    /// a stream that cannot deliver a segment in a few times its length cannot be watched anyway.
    public var segmentDeadlineFactor: Double = 4

    /// The duration assumed for resources the playlist gives none (keys, init sections, preload hints).
    static let unknownDuration: Double = 10

    public init() {}

    /// The total time a segment's body may take, from the request to its last byte.
    public func segmentDeadline(timeout: Duration, duration: Double?) -> Duration {
        let played = duration.flatMap { $0.isFinite ? $0 : nil } ?? Self.unknownDuration
        let factor = segmentDeadlineFactor.isFinite ? min(max(segmentDeadlineFactor, 0), 100) : 4
        let seconds = factor * min(max(played, 0), 3600)
        return timeout + .milliseconds(Int64(seconds * 1000))
    }
}

extension UpstreamBody {
    /// The same bytes, failing with `bodyTooLarge` past `limit` bytes and with `tooSlow` once the upstream
    /// has taken more than `allowed` in all (`spent` already, to the response head). Only time spent
    /// waiting for the upstream counts, never time the reader took (a slow viewer holding the body back is
    /// not a slow upstream). Checked as chunks arrive; a body that stops sending altogether is cut by the
    /// client's read timeout.
    public func bounded(limit: Int, allowed: Duration, spent: Duration = .zero) -> UpstreamBody {
        let iterator = BoundedIterator(makeAsyncIterator(), limit: limit, allowed: allowed, spent: spent)
        return UpstreamBody(next: { try await iterator.next() })
    }
}

private final class BoundedIterator: @unchecked Sendable {
    private var base: UpstreamBody.AsyncIterator
    private var received = 0
    private var overLimit = false
    private var spent: Duration
    private let limit: Int
    private let allowed: Duration

    init(_ base: UpstreamBody.AsyncIterator, limit: Int, allowed: Duration, spent: Duration) {
        self.base = base
        self.limit = limit
        self.allowed = allowed
        self.spent = spent
    }

    func next() async throws -> ByteBuffer? {
        if received >= limit, overLimit { throw UpstreamError.bodyTooLarge(limit: limit) }
        let asked = ContinuousClock.now
        guard var chunk = try await base.next() else { return nil }
        spent += ContinuousClock.now - asked
        if spent > allowed { throw UpstreamError.tooSlow(allowed) }
        if received + chunk.readableBytes > limit {
            // The bytes up to the cap still go (a range that ends below it is served); the next read fails.
            overLimit = true
            guard received < limit, let head = chunk.readSlice(length: limit - received) else {
                throw UpstreamError.bodyTooLarge(limit: limit)
            }
            received = limit
            return head
        }
        received += chunk.readableBytes
        return chunk
    }
}
