import Foundation

/// Recovery: a rejected token is refreshed while the request is held (at most `hold_timeout` in all), and
/// the same resource is found again by its position in the fresh playlist.
extension HLSProxy {
    /// The resource's upstream rejected its token: find the same position in the current playlist (the
    /// stream may already have fresh tokens), and if that fails too, refresh the stream and try once more.
    /// The whole recovery ends at `hold_timeout` from the rejection, whatever the upstream or source does.
    func recoverResource(_ handle: ResourceHandle, rejectedURL: URL?, range: String?) async throws -> (URL?, UpstreamResponse) {
        let deadline = ContinuousClock.now + policy.holdTimeout
        let located = try await withinHold(until: deadline) { try? await self.relocate(handle) }
        if let located, located != rejectedURL, let record = await catalog.record(handle.stream) {
            let response = try await withinHold(until: deadline) {
                try await self.sendShared(located, record: record, range: range, duration: handle.duration)
            }
            if !Self.rejectionStatuses.contains(response.status) { return (located, response) }
        }
        try await holdForRefresh(handle.stream, reason: .rejected, until: deadline)
        let relocated = try await withinHold(until: deadline) { try await self.relocate(handle) }
        guard let relocated, let record = await catalog.record(handle.stream) else {
            throw ProxyFailure.unavailable("the resource is no longer in the refreshed playlist")
        }
        let response = try await withinHold(until: deadline) {
            try await self.sendShared(relocated, record: record, range: range, duration: handle.duration)
        }
        if Self.rejectionStatuses.contains(response.status) {
            throw ProxyFailure.unavailable("the upstream still rejects the resource after a refresh (\(response.status))")
        }
        return (relocated, response)
    }

    /// Runs one step of a hold, answering 503 when the hold's deadline passes first.
    func withinHold<T: Sendable>(until deadline: ContinuousClock.Instant, _ step: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { throw ProxyFailure.unavailable("the refresh did not finish within the hold") }
        do {
            return try await withTimeout(remaining, step)
        } catch is TimeoutError {
            throw ProxyFailure.unavailable("the refresh did not finish within the hold; it goes on for the next request")
        }
    }

    /// Finds the handle's resource in the stream's current media playlist by its position.
    func relocate(_ handle: ResourceHandle) async throws -> URL? {
        guard let variant = handle.variant, let msn = handle.msn, let record = await catalog.record(handle.stream) else { return nil }
        let (playlist, finalURL, _) = try await fetchVariant(
            handle.stream, key: variant, record: record, directives: [], allowRefresh: false)
        guard let uri = MediaPlaylistWalker.locate(kind: handle.kind, msn: msn, part: handle.part, in: playlist) else { return nil }
        return URIResolver.resolve(uri, against: finalURL)
    }

    /// Waits for a refresh of the stream's source, at most until `deadline` (the run goes on without the
    /// request if it takes longer); throws 503 when the deadline passes or the run did not find the stream.
    func holdForRefresh(_ id: String, reason: TokenRefresher.Reason, until deadline: ContinuousClock.Instant) async throws {
        let refresher = self.refresher
        let started = ContinuousClock.now
        holds.withLockedValue { $0[id, default: 0] += 1 }
        defer {
            holds.withLockedValue { holds in
                holds[id] = (holds[id] ?? 1) > 1 ? (holds[id] ?? 1) - 1 : nil
            }
        }
        let found: Bool
        do {
            found = try await withinHold(until: deadline) { await refresher.refresh(stream: id, reason: reason) }
        } catch {
            metrics.held(stream: id, seconds: (ContinuousClock.now - started).seconds, outcome: .timedOut)
            throw error
        }
        metrics.held(stream: id, seconds: (ContinuousClock.now - started).seconds, outcome: found ? .saved : .failed)
        // The reason stays in the log and the API: an extractor's error text is no player's business.
        guard found else { throw ProxyFailure.unavailable("the stream's source could not refresh it (GET /api/streams/\(id) says why)") }
        await indexCache.invalidate(id)
    }

    /// The stream, with its lease renewed; refreshed first when its known token expiry has passed.
    func activeRecord(_ id: String, hold: Hold) async throws -> StreamRecord {
        guard let record = await catalog.record(id) else { throw ProxyFailure.unknownStream(id) }
        let now = clock.now()
        await catalog.touch(id, now: now, lease: policy.lease)
        if let expiresAt = record.refresh.expiresAt, expiresAt <= now {
            try? await holdForRefresh(id, reason: .expired, until: hold.deadline())
            return await catalog.record(id) ?? record
        }
        return record
    }

    /// Fetches a playlist at the URL `pick` chooses from the stream's record; on 401/403/410, refreshes the
    /// stream (bounded by the hold timeout) and fetches once more from the fresh record.
    func fetchWithRefresh(
        _ id: String, initial: StreamRecord, allowRefresh: Bool = true, hold: Hold,
        pick: @escaping @Sendable (StreamRecord) async throws -> URL
    ) async throws -> (playlist: Playlist, finalURL: URL, record: StreamRecord) {
        let attempt: @Sendable (StreamRecord) async throws -> (Playlist, URL)? = { record in
            do {
                return try await self.fetchPlaylist(try await pick(record), record: record)
            } catch let failure as ProxyFailure where failure.rejection != nil {
                return nil
            }
        }
        if let (playlist, finalURL) = try await attempt(initial) { return (playlist, finalURL, initial) }
        guard allowRefresh else { throw ProxyFailure.unavailable("the upstream rejected the playlist") }
        let deadline = hold.deadline()
        try await holdForRefresh(id, reason: .rejected, until: deadline)
        guard let fresh = await catalog.record(id) else { throw ProxyFailure.unknownStream(id) }
        if let (playlist, finalURL) = try await withinHold(until: deadline, { try await attempt(fresh) }) {
            return (playlist, finalURL, fresh)
        }
        throw ProxyFailure.unavailable("the upstream still rejects the playlist after a refresh")
    }
}

/// The hold of one player request. It starts at the request's first rejection (or known expiry), and every
/// later step of that request shares its deadline: a request is held at most `hold_timeout` in all.
final class Hold: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Duration
    private var started: ContinuousClock.Instant?

    init(limit: Duration) {
        self.limit = limit
    }

    func deadline() -> ContinuousClock.Instant {
        lock.withLock {
            if let started { return started + limit }
            let now = ContinuousClock.now
            started = now
            return now + limit
        }
    }
}
