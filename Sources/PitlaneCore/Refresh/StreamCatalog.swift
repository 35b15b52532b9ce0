import Foundation

/// The streams Pitlane knows, their current upstream URLs and refresh state. The single owner of that
/// state, so a refreshed URL is what the very next proxied request uses.
public actor StreamCatalog {
    private var records: [String: StreamRecord] = [:]
    private var order: [String] = []

    public init() {}

    public func record(_ id: String) -> StreamRecord? {
        records[id]
    }

    public func all() -> [StreamRecord] {
        order.compactMap { records[$0] }
    }

    public func streams(ofSource source: String) -> [StreamRecord] {
        order.compactMap { records[$0] }.filter { $0.descriptor.source == source }
    }

    /// Adds a source's candidates as streams, keeping existing streams (and their state) whose id repeats.
    @discardableResult
    public func add(_ candidates: [Candidate], from source: Source, at now: Date, policy: RefreshPolicy, runTime: TimeInterval = 0)
        -> [String]
    {
        var ids: [String] = []
        // Same URL without tokens = same stream, unless its own source vouches for two different keys.
        var seen: [String: [(source: String, key: String?)]] = [:]
        for record in records.values {
            seen[StreamDedupe.key(record.descriptor.upstream), default: []].append((record.descriptor.source, record.descriptor.key))
        }
        for candidate in candidates {
            let dedupe = StreamDedupe.key(candidate.url)
            let claimed = seen[dedupe]?.contains {
                $0.source != source.id || $0.key == nil || candidate.key == nil || $0.key == candidate.key
            }
            if claimed == true { continue }
            seen[dedupe, default: []].append((source.id, candidate.key))
            var id = StreamID.make(source: source.id, candidate: candidate)
            var suffix = 2
            while ids.contains(id) {
                id = StreamID.make(source: source.id, candidate: candidate) + "-\(suffix)"
                suffix += 1
            }
            ids.append(id)
            guard records[id] == nil else { continue }
            var descriptor = StreamDescriptor(
                id: id, source: source.id, title: candidate.title, quality: candidate.quality, key: candidate.key, upstream: candidate.url,
                headers: source.headers.winning(over: candidate.headers), allowPrivate: source.allowPrivate,
                allowHosts: source.allowHosts)
            descriptor.discoveredHeaders = candidate.headers
            descriptor.feed = candidate.feed
            var state = RefreshState()
            state.lastRefreshed = now
            state.issuedAt = now
            state.expiresAt = candidate.expiresAt ?? TokenExpiry.expiry(of: candidate.url)
            state.runTime = runTime
            state.nextRefresh = policy.nextRefresh(now: now, issuedAt: now, expiresAt: state.expiresAt, runTime: runTime)
            records[id] = StreamRecord(descriptor: descriptor, refresh: state)
            order.append(id)
        }
        return ids
    }

    public func setHealth(_ id: String, _ health: StreamHealth) {
        records[id]?.health = health
    }

    /// Puts back streams saved by an earlier run (before the first new run finishes). Leases are not
    /// restored: nobody is watching a stream that was just loaded from disk.
    public func restore(_ saved: [StreamRecord]) {
        for var record in saved where records[record.descriptor.id] == nil {
            record.refresh.leaseUntil = nil
            records[record.descriptor.id] = record
            order.append(record.descriptor.id)
        }
    }

    public func remove(_ id: String) {
        records[id] = nil
        order.removeAll { $0 == id }
    }

    /// Renews the stream's lease: someone is watching it.
    public func touch(_ id: String, now: Date, lease: TimeInterval) {
        records[id]?.refresh.leaseUntil = now.addingTimeInterval(lease)
    }

    func update(_ id: String, _ change: @Sendable (inout StreamRecord) -> Void) {
        guard var record = records[id] else { return }
        change(&record)
        records[id] = record
    }
}
