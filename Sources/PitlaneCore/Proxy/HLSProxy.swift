import Foundation
import Logging
import NIOConcurrencyHelpers

/// Serves a stream's playlists and resources under Pitlane's URL scheme (DESIGN.md): fetches the stream's
/// *current* upstream, rewrites every URI, renews the stream's lease, and recovers from rejected tokens by
/// refreshing the stream and finding the same resource again by its position.
public final class HLSProxy: Sendable {
    static let rejectionStatuses: Set<Int> = [401, 403, 410]
    static let forwardedDirectives: Set<String> = ["_HLS_msn", "_HLS_part", "_HLS_skip"]

    let catalog: StreamCatalog
    let refresher: TokenRefresher
    let upstream: any UpstreamClient
    let signer: HandleSigner
    let clock: any WallClock
    let logger: Logger
    let indexCache = MasterIndexCache()
    let playlists: PlaylistCache
    let rendered: RenderedPlaylistCache
    let segments: SegmentCache
    let requestTimeout: Duration
    let limits: BodyLimits
    /// Hosts seen answering a `Range` with the whole body: later ranged requests to them fetch the whole
    /// resource once, under one cache key, and every range is sliced from it (not one full copy per range).
    let rangeIgnorers = HostSet(limit: 256)

    public init(
        catalog: StreamCatalog, refresher: TokenRefresher, upstream: any UpstreamClient, signer: HandleSigner, clock: any WallClock,
        requestTimeout: Duration = .seconds(15), segmentCacheBytes: Int = 64 * 1024 * 1024, segmentCacheLifetime: TimeInterval = 30,
        limits: BodyLimits = BodyLimits(), logger: Logger = Logger(label: "pitlane.proxy")
    ) {
        self.playlists = PlaylistCache(clock: clock)
        self.rendered = RenderedPlaylistCache(clock: clock)
        self.segments = SegmentCache(clock: clock, byteLimit: segmentCacheBytes, lifetime: segmentCacheLifetime)
        self.catalog = catalog
        self.refresher = refresher
        self.upstream = upstream
        self.signer = signer
        self.clock = clock
        self.requestTimeout = requestTimeout
        self.limits = limits
        self.logger = logger
    }

    var policy: RefreshPolicy { refresher.policy }

    /// The bytes the shared segment bodies hold right now (counted against `segment_cache_mb`).
    public var segmentBytesHeld: Int { segments.bytesHeld }

    // MARK: Routes

    /// `/hls/{stream}/master.m3u8`
    public func master(stream id: String) async -> ProxyReply {
        do {
            let hold = Hold(limit: policy.holdTimeout)
            let record = try await activeRecord(id, hold: hold)
            let (fetched, finalURL, used) = try await fetchWithRefresh(id, initial: record, hold: hold) { $0.descriptor.upstream }
            let upstreamURL = used.descriptor.upstream
            let (playlist, variables) = PlaylistVariables.resolve(fetched, url: finalURL)
            switch playlist.kind {
            case .master:
                var rewritten = MasterRewriter(stream: id, signer: signer, report: reporter(id)).rewrite(playlist, baseURL: finalURL)
                rewritten.index.variables = variables
                await indexCache.store(rewritten.index, for: id, upstream: upstreamURL, at: clock.now())
                return .playlist(rewritten.playlist)
            case .media:
                await indexCache.store(.singleVariant(finalURL), for: id, upstream: upstreamURL, at: clock.now())
                return .playlist(MasterRewriter.singleVariantMaster(for: playlist))
            }
        } catch {
            return failureReply(error, stream: id, what: "master")
        }
    }

    /// `/hls/{stream}/v/{key}.m3u8`, with LL-HLS delivery directives forwarded.
    public func variant(stream id: String, key: String, directives: [URLQueryItem] = []) async -> ProxyReply {
        do {
            let hold = Hold(limit: policy.holdTimeout)
            let record = try await activeRecord(id, hold: hold)
            let forwarded = directives.filter { Self.forwardedDirectives.contains($0.name) }
            let (playlist, finalURL, index) = try await fetchVariant(id, key: key, record: record, directives: forwarded, hold: hold)
            guard playlist.kind == .media else {
                throw ProxyFailure(status: 502, message: "the upstream variant \(key) is a master playlist, not a media playlist")
            }
            let entry = index.entry(forKey: key)
            let rewriter = MediaRewriter(stream: id, variant: key, context: entry?.context ?? .video, signer: signer, report: reporter(id))
            let text = await rendered.text(for: "\(id)|\(key)|\(finalURL.absoluteString)", playlist: playlist) {
                rewriter.rewrite(playlist, baseURL: finalURL, variantKeyFor: { index.key(forUpstream: $0) }).serialized()
            }
            return .playlistText(text)
        } catch {
            return failureReply(error, stream: id, what: "variant \(key)")
        }
    }

    /// `/hls/{stream}/s/{handle}.{ext}`: segments, parts, init sections, keys; the body is relayed as it arrives.
    public func resource(stream id: String, token: String, ext: String, range: String?) async -> ProxyReply {
        if token == MediaRewriter.gapToken {
            return .failure(ProxyFailure(status: 404, message: "a gap: the upstream's URI for this segment could not be resolved"))
        }
        let handle: ResourceHandle
        do {
            handle = try signer.verify(token, stream: id)
        } catch {
            logger.notice("refused handle", metadata: ["stream": "\(id)", "reason": "\(error)"])
            return .failure(ProxyFailure(status: 403, message: "invalid handle"))
        }
        if handle.kind == .asset || handle.kind == .assetList { return await interstitial(handle) }
        do {
            guard let record = await catalog.record(id) else { throw ProxyFailure.unknownStream(id) }
            var url = URL(string: handle.url)
            var response = try await sendShared(url, record: record, range: range, duration: handle.duration)
            if Self.rejectionStatuses.contains(response.status) {
                logger.info(
                    "upstream rejected resource",
                    metadata: ["stream": "\(id)", "status": "\(response.status)", "msn": "\(handle.msn ?? -1)"])
                guard handle.variant != MediaRewriter.assetVariant else {
                    // An interstitial's segment: its own upstream, which no run of the stream's source refreshes.
                    throw ProxyFailure.unavailable("the interstitial's upstream rejected it (\(response.status))")
                }
                (url, response) = try await recoverResource(handle, rejectedURL: url, range: range)
            }
            guard response.status == 200 || response.status == 206 else {
                if response.status >= 500 { throw ProxyFailure.upstreamStatus(response.status) }
                if response.status == 416 {
                    return ProxyReply(status: 416, headers: passthroughHeaders(response.headers, ext: ext), body: .text(""))
                }
                throw ProxyFailure.upstreamStatus(response.status)
            }
            logger.debug(
                "resource served",
                metadata: [
                    "stream": "\(id)", "variant": "\(handle.variant ?? "-")", "kind": "\(handle.kind)", "msn": "\(handle.msn ?? -1)",
                    "part": "\(handle.part ?? -1)", "status": "\(response.status)", "upstream": "\(url.map(URIResolver.redacted) ?? "-")",
                ])
            var body = response.body
            var sniffed: String?
            let fromStart = range.map { $0.replacingOccurrences(of: " ", with: "").hasPrefix("bytes=0-") } ?? true
            if fromStart, handle.kind != .key, handle.kind != .data, !Self.tellsTheType(response.headers.value(for: "Content-Type")) {
                let peeked = try await body.peekingFirstChunk()
                body = peeked.body
                sniffed = peeked.first.flatMap { MediaExtension.sniff($0.readableBytesView) }
            }
            var headers = passthroughHeaders(response.headers, ext: ext, sniffed: sniffed)
            headers.headers.append(.init(name: "Cache-Control", value: "public, max-age=300, immutable"))
            if response.status == 200, let range, let length = response.headers.value(for: "Content-Length").flatMap(Int.init),
                let wanted = ByteRange.parse(range, length: length)
            {
                // The upstream ignored the player's Range and sent everything: answer the 206 it asked for.
                headers.headers.removeAll { ["content-length", "content-range"].contains($0.name.lowercased()) }
                headers.headers.append(.init(name: "Content-Range", value: "bytes \(wanted.first)-\(wanted.last)/\(length)"))
                headers.headers.append(.init(name: "Content-Length", value: String(wanted.count)))
                return ProxyReply(status: 206, headers: headers, body: .stream(body.slice(wanted)))
            }
            return ProxyReply(status: response.status, headers: headers, body: .stream(body))
        } catch {
            return failureReply(error, stream: id, what: "\(handle.kind) msn \(handle.msn ?? -1)")
        }
    }

    // MARK: Recovery

    /// The resource's upstream rejected its token: find the same position in the current playlist (the
    /// stream may already have fresh tokens), and if that fails too, refresh the stream and try once more.
    /// The whole recovery ends at `hold_timeout` from the rejection, whatever the upstream or source does.
    private func recoverResource(_ handle: ResourceHandle, rejectedURL: URL?, range: String?) async throws -> (URL?, UpstreamResponse) {
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
    private func withinHold<T: Sendable>(until deadline: ContinuousClock.Instant, _ step: @escaping @Sendable () async throws -> T)
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
    private func relocate(_ handle: ResourceHandle) async throws -> URL? {
        guard let variant = handle.variant, let msn = handle.msn, let record = await catalog.record(handle.stream) else { return nil }
        let (playlist, finalURL, _) = try await fetchVariant(
            handle.stream, key: variant, record: record, directives: [], allowRefresh: false)
        guard let uri = MediaPlaylistWalker.locate(kind: handle.kind, msn: msn, part: handle.part, in: playlist) else { return nil }
        return URIResolver.resolve(uri, against: finalURL)
    }

    /// Waits for a refresh of the stream's source, at most until `deadline` (the run goes on without the
    /// request if it takes longer); throws 503 when the deadline passes or the run did not find the stream.
    private func holdForRefresh(_ id: String, reason: TokenRefresher.Reason, until deadline: ContinuousClock.Instant) async throws {
        let refresher = self.refresher
        let found = try await withinHold(until: deadline) { await refresher.refresh(stream: id, reason: reason) }
        // The reason stays in the log and the API: an extractor's error text is no player's business.
        guard found else { throw ProxyFailure.unavailable("the stream's source could not refresh it (GET /api/streams/\(id) says why)") }
        await indexCache.invalidate(id)
    }

    // MARK: Fetching

    /// The stream, with its lease renewed; refreshed first when its known token expiry has passed.
    private func activeRecord(_ id: String, hold: Hold) async throws -> StreamRecord {
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
    private func fetchWithRefresh(
        _ id: String, initial: StreamRecord, allowRefresh: Bool = true, hold: Hold,
        pick: @escaping @Sendable (StreamRecord) async throws -> URL
    ) async throws -> (playlist: Playlist, finalURL: URL, record: StreamRecord) {
        let attempt: @Sendable (StreamRecord) async throws -> (Playlist, URL)? = { record in
            let url: URL
            do {
                url = try await pick(record)
            } catch is Rejected {
                return nil
            }
            if case .success(let result) = try await self.fetchPlaylist(url, record: record) { return result }
            return nil
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

    private func fetchVariant(
        _ id: String, key: String, record: StreamRecord, directives: [URLQueryItem], allowRefresh: Bool = true,
        hold: Hold = Hold(limit: .zero)
    ) async throws -> (Playlist, URL, MasterIndex) {
        let box = IndexBox()
        let (playlist, finalURL, _) = try await fetchWithRefresh(id, initial: record, allowRefresh: allowRefresh, hold: hold) {
            current in
            let index = try await self.index(for: current)
            box.set(index)
            guard let entry = index.entry(forKey: key) else {
                throw ProxyFailure(status: 404, message: "stream \(id) has no variant \(key)")
            }
            return Self.appending(directives, to: entry.upstream)
        }
        let index = box.get() ?? MasterIndex(entries: [])
        return (PlaylistVariables.resolve(playlist, url: finalURL, imported: index.variables).playlist, finalURL, index)
    }

    /// The stream's master index, from the cache while the stream's upstream URL is unchanged.
    private func index(for record: StreamRecord) async throws -> MasterIndex {
        let id = record.descriptor.id
        if let cached = await indexCache.index(for: id, upstream: record.descriptor.upstream, now: clock.now()) { return cached }
        switch try await fetchPlaylist(record.descriptor.upstream, record: record) {
        case .success(let (fetched, finalURL)):
            let (playlist, variables) = PlaylistVariables.resolve(fetched, url: finalURL)
            var index = playlist.kind == .master ? MasterRewriter.index(of: playlist, baseURL: finalURL) : .singleVariant(finalURL)
            index.variables = variables
            await indexCache.store(index, for: id, upstream: record.descriptor.upstream, at: clock.now())
            return index
        case .failure(let rejected):
            throw rejected
        }
    }

    struct Rejected: Error, Sendable {
        var status: Int
    }

    /// `.failure(status)` when the upstream rejected the token; throws for every other problem. Shared by
    /// every viewer through the playlist cache.
    func fetchPlaylist(_ url: URL, record: StreamRecord) async throws -> Result<(Playlist, URL), Rejected> {
        do {
            return .success(
                try await playlists.playlist(for: record.descriptor.id + "|" + url.absoluteString) {
                    try await self.loadPlaylist(url, record: record)
                })
        } catch let rejected as Rejected {
            return .failure(rejected)
        }
    }

    private func loadPlaylist(_ url: URL, record: StreamRecord) async throws -> (Playlist, URL, Int) {
        let response = try await send(url, record: record, range: nil)
        if Self.rejectionStatuses.contains(response.status) { throw Rejected(status: response.status) }
        guard response.status == 200 else {
            throw ProxyFailure(status: 502, message: "upstream answered \(response.status) for the playlist")
        }
        let body = try await response.body.collect(upTo: limits.playlist, within: requestTimeout)
        do {
            return (try PlaylistParser.parse(body.readableBytesView), response.url, body.readableBytes)
        } catch {
            throw ProxyFailure(status: 502, message: "upstream body is not a playlist: \(error)")
        }
    }

    /// A segment, part, key or init section: one upstream request however many viewers ask at once. Its
    /// body is capped (`segment_max_mb`) and must arrive within a deadline derived from its duration; a
    /// body over either fails, and a failed body is never kept.
    private func sendShared(_ url: URL?, record: StreamRecord, range: String?, duration: Int?) async throws -> UpstreamResponse {
        guard let url else { throw ProxyFailure(status: 502, message: "unusable upstream URL") }
        let host = url.host ?? ""
        // The whole resource, sliced by `resource`, when its host is known to ignore ranges.
        let sent = range.flatMap { rangeIgnorers.contains(host) ? nil : $0 }
        let limits = self.limits
        let allowed = limits.segmentDeadline(timeout: requestTimeout, duration: duration.map(Double.init))
        let response = try await segments.response(for: url.absoluteString + "|" + (sent ?? "")) {
            let deadline = ContinuousClock.now + allowed
            var response = try await self.send(url, record: record, range: sent)
            if let length = response.headers.value(for: "Content-Length").flatMap(Int.init), length > limits.segment {
                throw ProxyFailure(status: 502, message: "the upstream's body is \(length) bytes, over segment_max_mb")
            }
            response.body = response.body.bounded(limit: limits.segment, until: deadline, allowed: allowed)
            return response
        }
        if sent != nil, response.status == 200 { rangeIgnorers.insert(host) }
        return response
    }

    private func send(_ url: URL?, record: StreamRecord, range: String?) async throws -> UpstreamResponse {
        guard let url else { throw ProxyFailure(status: 502, message: "unusable upstream URL") }
        let request = UpstreamRequest(
            url: url, headers: record.descriptor.headers, allowPrivate: record.descriptor.allowPrivate, range: range,
            timeout: requestTimeout)
        return try await upstream.send(request)
    }

    /// Whether the upstream's Content-Type says what a resource is: not absent, generic or a disguise.
    static func tellsTheType(_ type: String?) -> Bool {
        guard let type = type?.lowercased() else { return false }
        let disguises = ["image/", "text/html", "text/css", "text/plain", "application/javascript", "application/octet-stream", "binary/"]
        return !disguises.contains { type.hasPrefix($0) }
    }

    /// The headers relayed with a resource. Its type: the upstream's when it tells one, else what the first
    /// bytes show (`sniffed`), else the extension's.
    private func passthroughHeaders(_ upstream: HeaderProfile, ext: String, sniffed: String? = nil) -> HeaderProfile {
        var headers = HeaderProfile()
        let upstreamType = upstream.value(for: "Content-Type")
        let byExtension = MediaExtension.contentType(forExtension: ext)
        var type = sniffed ?? byExtension
        if sniffed == "video/mp4", byExtension.hasPrefix("audio/") { type = "audio/mp4" }
        if let upstreamType, Self.tellsTheType(upstreamType) { type = upstreamType }
        headers.headers.append(.init(name: "Content-Type", value: type))
        // An encoding the upstream client did not decode goes with the bytes it describes.
        for name in ["Content-Encoding", "Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag"] {
            if let value = upstream.value(for: name) { headers.headers.append(.init(name: name, value: value)) }
        }
        return headers
    }

    /// Logs what a rewriter dropped (a URI it could not resolve), without the URI itself.
    func reporter(_ stream: String) -> @Sendable (String) -> Void {
        let logger = self.logger
        return { message in logger.warning("playlist rewrite", metadata: ["stream": "\(stream)", "dropped": "\(message)"]) }
    }

    func failureReply(_ error: any Error, stream: String, what: String) -> ProxyReply {
        let failure: ProxyFailure
        if let rejected = error as? Rejected {
            failure = .unavailable("the upstream rejected the stream's token (\(rejected.status))")
        } else {
            failure = .from(error)
        }
        if failure.status != 404 {
            logger.warning(
                "proxy failure",
                metadata: ["stream": "\(stream)", "what": "\(what)", "status": "\(failure.status)", "reason": "\(failure.message)"])
        }
        return .failure(failure)
    }

    static func appending(_ items: [URLQueryItem], to url: URL) -> URL {
        guard !items.isEmpty, var components = URLComponents(url: url, resolvingAgainstBaseURL: true) else { return url }
        var query = components.queryItems ?? []
        query.removeAll { item in items.contains { $0.name == item.name } }
        query.append(contentsOf: items)
        components.queryItems = query
        return components.url ?? url
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

/// A bounded set of host names (forgotten all at once when full: it is a hint, not a record).
final class HostSet: Sendable {
    private let hosts = NIOLockedValueBox(Set<String>())
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func contains(_ host: String) -> Bool { hosts.withLockedValue { $0.contains(host) } }

    func insert(_ host: String) {
        hosts.withLockedValue { hosts in
            if hosts.count >= limit { hosts.removeAll() }
            hosts.insert(host)
        }
    }
}

private final class IndexBox: @unchecked Sendable {
    private let lock = NSLock()
    private var index: MasterIndex?
    func set(_ value: MasterIndex) { lock.withLock { index = value } }
    func get() -> MasterIndex? { lock.withLock { index } }
}

/// Master indexes per stream, valid while the stream's upstream URL is the same and for a short time, so
/// variant requests do not refetch the master every time.
actor MasterIndexCache {
    static let lifetime: TimeInterval = 30
    private var entries: [String: (upstream: URL, index: MasterIndex, at: Date)] = [:]

    func index(for id: String, upstream: URL, now: Date) -> MasterIndex? {
        guard let entry = entries[id], entry.upstream == upstream, now.timeIntervalSince(entry.at) < Self.lifetime else { return nil }
        return entry.index
    }

    func store(_ index: MasterIndex, for id: String, upstream: URL, at now: Date) {
        entries[id] = (upstream, index, now)
    }

    func invalidate(_ id: String) {
        entries[id] = nil
    }
}
