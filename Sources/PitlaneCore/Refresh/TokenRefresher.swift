import Foundation
import Logging

/// Re-runs sources to get fresh upstream URLs for watched streams before their tokens expire, or at once
/// when the upstream rejects one. One run refreshes every active stream of its source; runs are
/// single-flight per source, spaced, bounded by the source's timeout, and never throw.
public actor TokenRefresher {
    public enum Reason: String, Sendable {
        case scheduled
        case rejected
        case expired
        case manual
    }

    private let catalog: StreamCatalog
    private let clock: any WallClock
    public nonisolated let policy: RefreshPolicy
    private let logger: Logger
    private var sources: [String: Source] = [:]
    private var inFlight: [String: Task<Bool, Never>] = [:]
    private var lastRunEnded: [String: Date] = [:]

    public init(catalog: StreamCatalog, clock: any WallClock, policy: RefreshPolicy, logger: Logger = Logger(label: "pitlane.refresh")) {
        self.catalog = catalog
        self.clock = clock
        self.policy = policy
        self.logger = logger
    }

    public func register(_ source: Source) {
        sources[source.id] = source
    }

    public func source(_ id: String) -> Source? {
        sources[id]
    }

    /// Runs a source for the first time and adds what it finds to the catalogue.
    @discardableResult
    public func discover(_ sourceID: String) async -> Result<[String], ExtractionFailure> {
        guard let source = sources[sourceID] else { return .failure(.init(message: "unknown source \(sourceID)")) }
        let result = await Self.run(source, now: clock.now())
        switch result {
        case .success(let candidates):
            let ids = await catalog.add(candidates, from: source, at: clock.now(), policy: policy)
            logger.info("source discovered streams", metadata: ["source": "\(sourceID)", "streams": "\(ids.count)"])
            return .success(ids)
        case .failure(let failure):
            logger.warning("source failed", metadata: ["source": "\(sourceID)", "error": "\(failure.message)"])
            return .failure(failure)
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
    /// A run that ended less than `minSpacing` ago counts as fresh enough.
    @discardableResult
    public func refresh(stream id: String, reason: Reason) async -> Bool {
        guard let record = await catalog.record(id) else { return false }
        return await refresh(source: record.descriptor.source, reason: reason)
    }

    @discardableResult
    public func refresh(source sourceID: String, reason: Reason) async -> Bool {
        if let running = inFlight[sourceID] { return await running.value }
        if reason != .manual, let ended = lastRunEnded[sourceID], clock.now().timeIntervalSince(ended) < policy.minSpacing {
            return true
        }
        guard let source = sources[sourceID] else { return false }
        let task = Task { await self.performRefresh(source, reason: reason) }
        inFlight[sourceID] = task
        let result = await task.value
        inFlight[sourceID] = nil
        lastRunEnded[sourceID] = clock.now()
        return result
    }

    private func performRefresh(_ source: Source, reason: Reason) async -> Bool {
        let started = clock.now()
        let active = await catalog.streams(ofSource: source.id).filter { $0.refresh.isActive(at: started) || reason != .scheduled }
        guard !active.isEmpty else { return true }
        let result = await Self.run(source, now: started)
        let now = clock.now()
        switch result {
        case .failure(let failure):
            for record in active {
                await catalog.update(record.descriptor.id) {
                    $0.refresh.lastError = failure.message
                    $0.refresh.nextRefresh = policy.retryAfterFailure(now, expiresAt: $0.refresh.expiresAt)
                }
            }
            logger.warning(
                "refresh failed", metadata: ["source": "\(source.id)", "reason": "\(reason.rawValue)", "error": "\(failure.message)"])
            return false
        case .success(let candidates):
            var allMatched = true
            for record in active {
                guard let match = StreamMatcher.match(record.descriptor, in: candidates) else {
                    allMatched = false
                    await catalog.update(record.descriptor.id) {
                        $0.refresh.lastError = "no matching stream in the source's fresh results (\(candidates.count) found)"
                        $0.refresh.nextRefresh = policy.retryAfterFailure(now, expiresAt: $0.refresh.expiresAt)
                    }
                    continue
                }
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
            return allMatched
        }
    }

    /// Runs an extractor bounded by its source's timeout; every error becomes a value.
    static func run(_ source: Source, now: Date) async -> Result<[Candidate], ExtractionFailure> {
        let extractor = source.extractor
        do {
            let candidates = try await withTimeout(source.timeout) { try await extractor.extract(ExtractionContext(now: now)) }
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
