import Foundation
import Logging

/// Runs sources: to discover their streams, and to get fresh upstream URLs for watched streams before
/// their tokens expire or at once when the upstream rejects one. One run refreshes every stream of its
/// source; runs are single-flight per source, spaced, bounded by the source's timeout, and never throw.
public actor TokenRefresher {
    public enum Reason: String, Sendable {
        case discovery
        case scheduled
        case rejected
        case expired
        case manual
    }

    private let catalog: StreamCatalog
    private let clock: any WallClock
    public nonisolated let policy: RefreshPolicy
    private let logger: Logger
    private var http: any UpstreamClient = OfflineUpstream()
    private var sources: [String: Source] = [:]
    private var sourceOrder: [String] = []
    private var statuses: [String: SourceStatus] = [:]
    private var inFlight: [String: Task<Bool, Never>] = [:]
    private var lastRunEnded: [String: Date] = [:]

    public init(catalog: StreamCatalog, clock: any WallClock, policy: RefreshPolicy, logger: Logger = Logger(label: "pitlane.refresh")) {
        self.catalog = catalog
        self.clock = clock
        self.policy = policy
        self.logger = logger
    }

    /// The client extractors fetch pages and APIs with (the proxy's shared one).
    public func setUpstream(_ client: any UpstreamClient) {
        http = client
    }

    public func register(_ source: Source) {
        if sources[source.id] == nil { sourceOrder.append(source.id) }
        sources[source.id] = source
        statuses[source.id] = statuses[source.id] ?? SourceStatus(id: source.id, kind: source.kind, enabled: source.enabled)
    }

    public var sourceIDs: [String] { sourceOrder }

    /// Puts back the statuses saved by an earlier run, keeping what each source's configuration says now.
    public func restore(_ saved: [SourceStatus]) {
        for var status in saved {
            guard let current = statuses[status.id] else { continue }
            status.kind = current.kind
            status.enabled = current.enabled
            statuses[status.id] = status
        }
    }

    /// Every registered source's status, in registration order.
    public func allStatuses() -> [SourceStatus] {
        sourceOrder.compactMap { statuses[$0] }
    }

    /// Runs a source now (ignoring the spacing) and merges what it finds into the catalogue.
    @discardableResult
    public func discover(_ sourceID: String) async -> Result<[String], ExtractionFailure> {
        guard sources[sourceID] != nil else { return .failure(.init(message: "unknown source \(sourceID)")) }
        let ok = await refresh(source: sourceID, reason: .discovery)
        if ok || statuses[sourceID]?.lastError == nil {
            return .success(await catalog.streams(ofSource: sourceID).map(\.descriptor.id))
        }
        return .failure(ExtractionFailure(message: statuses[sourceID]?.lastError ?? "failed"))
    }

    /// Runs every source at once; one slow or failing source delays none of the others.
    public func discoverAll() async {
        await withTaskGroup(of: Void.self) { group in
            for id in sourceOrder where sources[id]?.enabled == true {
                group.addTask { await self.discover(id) }
            }
        }
    }

    /// The sources with at least one active stream whose refresh is due.
    public func dueSources() async -> [String] {
        let now = clock.now()
        var due: Set<String> = []
        for record in await catalog.all() where record.refresh.isActive(at: now) {
            if let next = record.refresh.nextRefresh, next <= now { due.insert(record.descriptor.source) }
        }
        return due.sorted()
    }

    /// One step of the background loop: refreshes every due source, concurrently.
    public func tick() async {
        let due = await dueSources()
        await withTaskGroup(of: Void.self) { group in
            for source in due {
                group.addTask { _ = await self.refresh(source: source, reason: .scheduled) }
            }
        }
    }

    /// Refreshes the stream's source (single-flight, spaced) and tells whether a run succeeded.
    @discardableResult
    public func refresh(stream id: String, reason: Reason) async -> Bool {
        guard let record = await catalog.record(id) else { return false }
        return await refresh(source: record.descriptor.source, reason: reason)
    }

    /// Runs the source unless a run is under way (then waits for it) or one ended less than `minSpacing`
    /// ago (then counts that one as fresh enough, except for manual and discovery runs).
    @discardableResult
    public func refresh(source sourceID: String, reason: Reason) async -> Bool {
        if let running = inFlight[sourceID] { return await running.value }
        if reason != .manual, reason != .discovery, let ended = lastRunEnded[sourceID],
            clock.now().timeIntervalSince(ended) < policy.minSpacing
        {
            return true
        }
        guard let source = sources[sourceID], source.enabled else { return false }
        let task = Task { await self.perform(source, reason: reason) }
        inFlight[sourceID] = task
        let result = await task.value
        inFlight[sourceID] = nil
        lastRunEnded[sourceID] = clock.now()
        return result
    }

    private func perform(_ source: Source, reason: Reason) async -> Bool {
        let started = clock.now()
        let context = ExtractionContext(now: started, http: http, headers: source.headers, allowPrivate: source.allowPrivate)
        let result = await Self.run(source, context: context)
        let now = clock.now()
        statuses[source.id]?.lastRun = started
        statuses[source.id]?.duration = now.timeIntervalSince(started)
        let existing = await catalog.streams(ofSource: source.id)
        switch result {
        case .failure(let failure):
            statuses[source.id]?.lastError = failure.message
            for record in existing {
                await catalog.update(record.descriptor.id) {
                    $0.refresh.lastError = failure.message
                    $0.refresh.nextRefresh = policy.retryAfterFailure(now, expiresAt: $0.refresh.expiresAt)
                }
            }
            logger.warning(
                "source run failed", metadata: ["source": "\(source.id)", "reason": "\(reason.rawValue)", "error": "\(failure.message)"])
            return false
        case .success(let candidates):
            statuses[source.id]?.lastSuccess = now
            statuses[source.id]?.streamsFound = candidates.count
            statuses[source.id]?.lastError = nil
            let allMatched = await merge(candidates, from: source, into: existing, reason: reason, now: now)
            return allMatched
        }
    }

    /// Moves each known stream of the source to its candidate in the fresh results, adds the candidates
    /// that are new, and drops unwatched streams the source no longer lists. A watched stream without a
    /// match keeps its old URL and records the error.
    private func merge(_ candidates: [Candidate], from source: Source, into existing: [StreamRecord], reason: Reason, now: Date) async
        -> Bool
    {
        var allMatched = true
        var consumed: Set<Int> = []
        for record in existing {
            guard let match = StreamMatcher.match(record.descriptor, in: candidates) else {
                if record.refresh.isActive(at: now) {
                    allMatched = false
                    await catalog.update(record.descriptor.id) {
                        $0.refresh.lastError = "no matching stream in the source's fresh results (\(candidates.count) found)"
                        $0.refresh.nextRefresh = policy.retryAfterFailure(now, expiresAt: $0.refresh.expiresAt)
                    }
                } else {
                    await catalog.remove(record.descriptor.id)
                }
                continue
            }
            if let position = candidates.firstIndex(of: match.candidate) { consumed.insert(position) }
            let expiresAt = match.candidate.expiresAt ?? TokenExpiry.expiry(of: match.candidate.url)
            await catalog.update(record.descriptor.id) {
                $0.descriptor.upstream = match.candidate.url
                $0.descriptor.headers = source.headers.merging(match.candidate.headers)
                $0.refresh.count += 1
                $0.refresh.lastRefreshed = now
                $0.refresh.expiresAt = expiresAt
                $0.refresh.nextRefresh = policy.nextRefresh(after: now, expiresAt: expiresAt)
                $0.refresh.lastError = nil
            }
            logger.info(
                "stream refreshed",
                metadata: [
                    "stream": "\(record.descriptor.id)", "reason": "\(reason.rawValue)", "match": "\(match.rule.rawValue)",
                    "upstream": "\(URIResolver.redacted(match.candidate.url))",
                ])
        }
        let fresh = candidates.enumerated().filter { !consumed.contains($0.offset) }.map(\.element)
        if !fresh.isEmpty {
            let added = await catalog.add(fresh, from: source, at: now, policy: policy)
            if reason == .discovery {
                logger.info("source found streams", metadata: ["source": "\(source.id)", "streams": "\(added.count)"])
            }
        }
        return allMatched
    }

    /// Runs an extractor bounded by its source's timeout; every error becomes a value.
    static func run(_ source: Source, context: ExtractionContext) async -> Result<[Candidate], ExtractionFailure> {
        let extractor = source.extractor
        do {
            let candidates = try await withTimeout(source.timeout) { try await extractor.extract(context) }
            return .success(candidates)
        } catch is TimeoutError {
            return .failure(ExtractionFailure(message: "timed out after \(source.timeout)"))
        } catch {
            return .failure(ExtractionFailure(message: "\(error)"))
        }
    }
}

/// Why a source run produced nothing.
public struct ExtractionFailure: Error, Sendable, Equatable {
    public var message: String

    public init(message: String) {
        self.message = message
    }
}
