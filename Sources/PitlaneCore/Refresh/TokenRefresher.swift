import Foundation
import Logging

/// Runs sources: to discover their streams, and to get fresh upstream URLs for watched streams before
/// their tokens expire or at once when the upstream rejects one. One run refreshes every stream of its
/// source; runs are single-flight per source, spaced, backed off after failures, bounded by the source's
/// timeout (even when the extractor ignores cancellation), each source on its own schedule, and never throw.
public actor TokenRefresher {
    /// How a stream's last error begins when its source's last run did not list it (a feed moves off it).
    public static let notFoundPrefix = "not found in the last run"

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
    private var documentLimit = BodyLimits().document
    /// When each source's last run ended (manual refreshes keep `min_spacing` from it).
    private var lastFinished: [String: Date] = [:]
    private var sources: [String: Source] = [:]
    private var sourceOrder: [String] = []
    private var statuses: [String: SourceStatus] = [:]
    /// Source runs under way, shared by everyone who asks meanwhile. A run whose callers gave up (a hold
    /// that timed out) is not cancelled: it lands its result for the next request.
    private let runs: SingleFlight<String, RunOutcome>
    /// Per source: the last run's outcome, answered to requests that come before the next run may start.
    private var lastOutcome: [String: RunOutcome] = [:]
    /// Per source: the earliest time of its next run (the spacing after a success, the backoff after failures).
    private var notBefore: [String: Date] = [:]
    private var sourceFailures: [String: Int] = [:]
    /// Per source: the durations of its last successful runs, so refreshes are planned for its pace.
    private var runTimes: [String: [TimeInterval]] = [:]
    private let liveRuns = LiveRuns()
    private let metrics: PitlaneMetrics

    public init(
        catalog: StreamCatalog, clock: any WallClock, policy: RefreshPolicy, metrics: PitlaneMetrics = .off,
        logger: Logger = Logger(label: "pitlane.refresh")
    ) {
        self.metrics = metrics
        self.catalog = catalog
        self.clock = clock
        self.policy = policy
        self.runs = SingleFlight(clock: clock)
        self.logger = logger
    }

    /// The client extractors fetch pages and APIs with (the proxy's shared one).
    public func setUpstream(_ client: any UpstreamClient, limits: BodyLimits = BodyLimits()) {
        http = client
        documentLimit = limits.document
    }

    public func register(_ source: Source) {
        if sources[source.id] == nil { sourceOrder.append(source.id) }
        sources[source.id] = source
        statuses[source.id] = statuses[source.id] ?? SourceStatus(id: source.id, kind: source.kind, enabled: source.enabled)
    }

    public var sourceIDs: [String] { sourceOrder }

    /// Per source, its failed runs since its last success.
    public func failuresInRow() -> [String: Int] { sourceFailures }

    /// The sources whose run is under way.
    public func runningSources() -> [String] { runs.running.sorted() }

    /// Puts back the statuses saved by an earlier run, keeping what each source's configuration says now.
    /// What the current configuration says of a source that decides how its streams are fetched: it wins
    /// over what a saved catalogue remembers.
    public func fetchPolicy(ofSource id: String) -> (allowPrivate: Bool, allowHosts: HostAllowList?, headers: HeaderProfile)? {
        sources[id].map { ($0.allowPrivate, $0.allowHosts, $0.headers) }
    }

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
        let outcome = await refresh(source: sourceID, reason: .discovery)
        if let failure = outcome.failure { return .failure(failure) }
        return .success(await catalog.streams(ofSource: sourceID).map(\.descriptor.id))
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
        // A plan further ahead than any plan can be means the clock was set back: due now, not in a year.
        let furthest = now.addingTimeInterval(policy.furthestPlan + 1)
        for record in await catalog.all() where record.refresh.isActive(at: now) {
            if let next = record.refresh.nextRefresh, next <= now || next > furthest { due.insert(record.descriptor.source) }
        }
        return due.sorted()
    }

    /// One step of the background loop: starts a run for every due source that is not already running
    /// and returns at once. Each source runs on its own schedule, so one that hangs to its timeout
    /// delays no other source's refresh.
    @discardableResult
    public func tick() async -> [Task<RunOutcome, Never>] {
        let due = await dueSources().filter { !runs.isRunning($0) }
        return due.map { source in Task { await self.refresh(source: source, reason: .scheduled) } }
    }

    /// Refreshes the stream's source (single-flight, spaced) and tells whether that run found this
    /// stream: each stream is judged by its own match, never by its source's run as a whole.
    @discardableResult
    public func refresh(stream id: String, reason: Reason) async -> Bool {
        guard let record = await catalog.record(id) else { return false }
        return await refresh(source: record.descriptor.source, reason: reason).found.contains(id)
    }

    /// Runs the source unless a run is under way (then shares it) or the next run may not start yet (the
    /// spacing after a success, the backoff after failures; then answers the last run's outcome). Manual
    /// and discovery runs ignore the spacing and the backoff.
    @discardableResult
    public func refresh(source sourceID: String, reason: Reason) async -> RunOutcome {
        guard let source = sources[sourceID] else { return RunOutcome(failure: ExtractionFailure(message: "unknown source \(sourceID)")) }
        if !runs.isRunning(sourceID), let closed = gate(source, reason: reason) { return closed }
        // Asked again inside the run: a run that ended between the check above and this call has set the
        // spacing by now, and the next run must keep it.
        return await runs.value(for: sourceID) { await self.runUnlessGated(source, reason: reason) }
    }

    private func runUnlessGated(_ source: Source, reason: Reason) async -> RunOutcome {
        if let closed = gate(source, reason: reason) { return closed }
        return await perform(source, reason: reason)
    }

    /// The answer instead of a run, when no run may start now: the spacing after a success, the backoff
    /// after failures (discovery runs ignore both; manual ones, `POST /api/streams/{id}/refresh`, only the
    /// backoff: twenty requests in a row run the source once per `min_spacing`), or a disabled source.
    private func gate(_ source: Source, reason: Reason) -> RunOutcome? {
        let now = clock.now()
        if reason == .manual, let finished = lastFinished[source.id], now >= finished,
            now.timeIntervalSince(finished) < policy.minSpacing
        {
            return lastOutcome[source.id] ?? RunOutcome(failure: ExtractionFailure(message: "waiting before the next run"))
        }
        if reason != .manual, reason != .discovery, let gate = notBefore[source.id], now < gate,
            gate.timeIntervalSince(now) <= policy.furthestPlan  // a clock set back does not block
        {
            return lastOutcome[source.id] ?? RunOutcome(failure: ExtractionFailure(message: "waiting before the next run"))
        }
        return source.enabled ? nil : RunOutcome()
    }

    /// One run of a source, from start to bookkeeping.
    private func perform(_ source: Source, reason: Reason) async -> RunOutcome {
        let started = clock.now()
        let context = ExtractionContext(
            now: started, http: http, headers: source.headers, allowPrivate: source.allowPrivate, requestTimeout: source.timeout,
            documentLimit: documentLimit, allowHosts: source.allowHosts)
        let result = await Self.run(source, context: context, live: liveRuns)
        let now = clock.now()
        let duration = max(0, now.timeIntervalSince(started))

        statuses[source.id]?.lastRun = started
        statuses[source.id]?.duration = duration
        let notes = context.notes.all
        statuses[source.id]?.notes = notes.isEmpty ? nil : notes
        let existing = await catalog.streams(ofSource: source.id)
        let outcome: RunOutcome
        switch result {
        case .failure(let failure):
            metrics.sourceRun(source: source.id, seconds: duration, succeeded: false)
            let failures = sourceFailures[source.id, default: 0] + 1
            sourceFailures[source.id] = failures
            notBefore[source.id] = now.addingTimeInterval(policy.retryDelay(after: failures))
            statuses[source.id]?.lastError = failure.message
            for record in existing {
                if reason != .discovery { metrics.refreshed(stream: record.descriptor.id, outcome: .failed) }
                await catalog.update(record.descriptor.id) {
                    $0.refresh.lastError = failure.message
                    $0.refresh.failures += 1
                    $0.refresh.nextRefresh = now.addingTimeInterval(policy.retryDelay(after: $0.refresh.failures))
                }
            }
            logger.warning(
                "source run failed",
                metadata: [
                    "source": "\(source.id)", "reason": "\(reason.rawValue)", "error": "\(failure.message)", "failures": "\(failures)",
                ])
            outcome = RunOutcome(failure: failure)
        case .success(let candidates):
            metrics.sourceRun(source: source.id, seconds: duration, succeeded: true)
            sourceFailures[source.id] = 0
            notBefore[source.id] = now.addingTimeInterval(policy.minSpacing)
            runTimes[source.id] = (runTimes[source.id, default: []] + [duration]).suffix(5)
            statuses[source.id]?.lastSuccess = now
            statuses[source.id]?.streamsFound = candidates.count
            statuses[source.id]?.lastError = nil
            let found = await merge(candidates, from: source, into: existing, reason: reason, now: now)
            outcome = RunOutcome(found: found)
        }
        lastOutcome[source.id] = outcome
        lastFinished[source.id] = now
        return outcome
    }

    /// The run time refreshes of this source are planned with: the longest of its last few successful runs.
    private func runTime(of sourceID: String) -> TimeInterval {
        runTimes[sourceID]?.max() ?? 0
    }

    /// Moves each known stream of the source to its candidate in the fresh results, adds the candidates
    /// that are new, and drops unwatched streams the source no longer lists. A watched stream without a
    /// match keeps its old URL and records that it was not found. Returns the streams that were found.
    private func merge(_ candidates: [Candidate], from source: Source, into existing: [StreamRecord], reason: Reason, now: Date) async
        -> Set<String>
    {
        let matches = StreamMatcher.assign(existing.map(\.descriptor), in: candidates)
        let runTime = runTime(of: source.id)
        var found: Set<String> = []
        for record in existing {
            let id = record.descriptor.id
            guard let match = matches[id] else {
                if record.refresh.isActive(at: now) {
                    await catalog.update(id) {
                        $0.refresh.failures += 1
                        $0.refresh.lastError = Self.notFoundPrefix + " (\(candidates.count) found)"
                        $0.refresh.nextRefresh = now.addingTimeInterval(policy.retryDelay(after: $0.refresh.failures))
                    }
                    logger.warning("stream not found in its source's run", metadata: ["stream": "\(id)", "source": "\(source.id)"])
                    metrics.refreshed(stream: id, outcome: .notFound)
                } else {
                    await catalog.remove(id)
                }
                continue
            }
            found.insert(id)
            let candidate = candidates[match.index]
            let unchanged = candidate.url == record.descriptor.upstream
            let expiresAt = candidate.expiresAt ?? TokenExpiry.expiry(of: candidate.url)
            let wasDue = record.refresh.nextRefresh.map { $0 <= now } ?? false
            await catalog.update(id) {
                $0.descriptor.headers = source.headers.winning(over: candidate.headers)
                $0.descriptor.discoveredHeaders = candidate.headers
                $0.descriptor.feed = candidate.feed
                $0.refresh.failures = 0
                $0.refresh.lastError = nil
                $0.refresh.expiresAt = expiresAt
                $0.refresh.runTime = runTime
                if unchanged {
                    if wasDue { $0.refresh.unchanged += 1 }
                } else {
                    $0.descriptor.upstream = candidate.url
                    $0.refresh.count += 1
                    $0.refresh.lastRefreshed = now
                    $0.refresh.issuedAt = now
                    $0.refresh.unchanged = 0
                }
                $0.refresh.nextRefresh = policy.nextRefresh(
                    now: now, issuedAt: $0.refresh.issuedAt ?? now, expiresAt: expiresAt, runTime: runTime, unchanged: $0.refresh.unchanged)
            }
            let metadata: Logger.Metadata = [
                "stream": "\(id)", "reason": "\(reason.rawValue)", "match": "\(match.rule.rawValue)",
                "upstream": "\(URIResolver.redacted(candidate.url))",
            ]
            if unchanged {
                logger.debug("source handed back the same URL", metadata: metadata)
            } else {
                logger.info("stream refreshed", metadata: metadata)
            }
            if reason != .discovery { metrics.refreshed(stream: id, outcome: unchanged ? .unchanged : .refreshed) }
        }
        let claimed = Set(matches.values.map(\.index))
        let fresh = candidates.indices.filter { !claimed.contains($0) }.map { candidates[$0] }
        if !fresh.isEmpty {
            let added = await catalog.add(fresh, from: source, at: now, policy: policy, runTime: runTime)
            found.formUnion(added)
            if reason == .discovery {
                logger.info("source found streams", metadata: ["source": "\(source.id)", "streams": "\(added.count)"])
            }
        }
        return found
    }

    /// Runs an extractor bounded by its source's timeout; every error becomes a value. An extractor that
    /// ignores cancellation goes on after its timeout; while two such runs of a source are still alive, no
    /// third one starts (they would pile up, each with its connections).
    static func run(_ source: Source, context: ExtractionContext, live: LiveRuns) async -> Result<[Candidate], ExtractionFailure> {
        let extractor = source.extractor
        guard live.begin(source.id, limit: 2) else {
            return .failure(ExtractionFailure(message: "its last runs are still going on after their timeout; not starting another"))
        }
        do {
            let candidates = try await withTimeout(source.timeout) {
                defer { live.end(source.id) }
                return try await extractor.extract(context).map { $0.sanitized() }
            }
            return .success(candidates)
        } catch is TimeoutError {
            return .failure(ExtractionFailure(message: "timed out after \(source.timeout)"))
        } catch {
            return .failure(ExtractionFailure(message: "\(error)"))
        }
    }
}

/// How many extractor runs of each source are alive, counting those a timeout gave up on.
final class LiveRuns: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    /// Counts a new run unless `limit` are alive already.
    func begin(_ source: String, limit: Int) -> Bool {
        lock.withLock {
            guard counts[source, default: 0] < limit else { return false }
            counts[source, default: 0] += 1
            return true
        }
    }

    func end(_ source: String) {
        lock.withLock { counts[source] = max(0, counts[source, default: 0] - 1) }
    }
}

/// What one run of a source did: the streams it found (refreshed, unchanged or new), or why it failed.
public struct RunOutcome: Sendable, Equatable {
    public var found: Set<String>
    public var failure: ExtractionFailure?

    public init(found: Set<String> = [], failure: ExtractionFailure? = nil) {
        self.found = found
        self.failure = failure
    }

    public var succeeded: Bool { failure == nil }
}

/// Why a source run produced nothing.
public struct ExtractionFailure: Error, Sendable, Equatable {
    public var message: String

    public init(message: String) {
        self.message = message
    }
}
