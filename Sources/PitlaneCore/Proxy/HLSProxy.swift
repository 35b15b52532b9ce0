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
    /// URLs seen answering a `Range` with the whole body: later ranged requests for them fetch the whole
    /// resource under one cache key, and every range is sliced from it (not one full copy per range).
    let rangeIgnorers = BoundedSet(limit: 1024)
    let metrics: PitlaneMetrics
    /// When each stream's upstream last answered a playlist (for the playlist-age metric).
    let playlistAnswers = NIOLockedValueBox([String: Date]())
    /// Requests held for a refresh right now, per stream (a feed waits for them rather than give up).
    let holds = NIOLockedValueBox([String: Int]())

    public init(
        catalog: StreamCatalog, refresher: TokenRefresher, upstream: any UpstreamClient, signer: HandleSigner, clock: any WallClock,
        requestTimeout: Duration = .seconds(15), segmentCacheBytes: Int = 64 * 1024 * 1024, segmentCacheLifetime: TimeInterval = 30,
        limits: BodyLimits = BodyLimits(), metrics: PitlaneMetrics = .off, logger: Logger = Logger(label: "pitlane.proxy")
    ) {
        self.metrics = metrics
        self.playlists = PlaylistCache(clock: clock, metrics: metrics)
        self.rendered = RenderedPlaylistCache(clock: clock)
        self.segments = SegmentCache(clock: clock, byteLimit: segmentCacheBytes, lifetime: segmentCacheLifetime, metrics: metrics)
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

    /// The segment cache's budget (`segment_cache_mb`).
    public var segmentByteLimit: Int { segments.byteLimit }

    /// When the upstream of each stream of `streams` last answered one of its playlists; the others are
    /// forgotten (they left the catalogue).
    public func lastPlaylistAnswers(keeping streams: Set<String>) -> [String: Date] {
        playlistAnswers.withLockedValue { answers in
            answers = answers.filter { streams.contains($0.key) }
            return answers
        }
    }

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
        } catch .expired {
            // A player that paused for hours: the playlist it reloads carries fresh handles.
            return .failure(.expiredHandle)
        } catch {
            logger.notice("refused handle", metadata: ["stream": "\(id)", "reason": "\(error)"])
            return .failure(.invalidHandle)
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
            return try await relay(response, stream: id, kind: handle.kind, ext: ext, range: range)
        } catch {
            return failureReply(error, stream: id, what: "\(handle.kind) msn \(handle.msn ?? -1)")
        }
    }

    /// Logs what a rewriter dropped (a URI it could not resolve), without the URI itself.
    func reporter(_ stream: String) -> @Sendable (String) -> Void {
        let logger = self.logger
        return { message in logger.warning("playlist rewrite", metadata: ["stream": "\(stream)", "dropped": "\(message)"]) }
    }
}
