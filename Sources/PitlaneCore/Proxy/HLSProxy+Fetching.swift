import Foundation
import NIOConcurrencyHelpers

/// Fetching: playlists through the shared playlist cache (with the master index cached per stream), and
/// segments, parts, keys and init sections through the single-flight segment cache, each body bounded.
extension HLSProxy {
    func fetchVariant(
        _ id: String, key: String, record: StreamRecord, directives: [URLQueryItem], allowRefresh: Bool = true,
        hold: Hold = Hold(limit: .zero), choose: (@Sendable (MasterIndex) async -> MasterIndex.Entry?)? = nil
    ) async throws -> (Playlist, URL, MasterIndex) {
        let box = IndexBox()
        let (playlist, finalURL, _) = try await fetchWithRefresh(id, initial: record, allowRefresh: allowRefresh, hold: hold) {
            current in
            let index = try await self.index(for: current)
            box.set(index)
            let found = if let choose { await choose(index) } else { index.entry(forKey: key) }
            guard let entry = found else {
                throw ProxyFailure(status: 404, message: "stream \(id) has no variant \(key)")
            }
            return Self.appending(directives, to: entry.upstream)
        }
        let index = box.get() ?? MasterIndex(entries: [])
        return (PlaylistVariables.resolve(playlist, url: finalURL, imported: index.variables).playlist, finalURL, index)
    }

    /// The stream's master index, from the cache while the stream's upstream URL is unchanged.
    func index(for record: StreamRecord) async throws -> MasterIndex {
        let id = record.descriptor.id
        if let cached = await indexCache.index(for: id, upstream: record.descriptor.upstream, now: clock.now()) { return cached }
        let (fetched, finalURL) = try await fetchPlaylist(record.descriptor.upstream, record: record)
        let (playlist, variables) = PlaylistVariables.resolve(fetched, url: finalURL)
        var index = playlist.kind == .master ? MasterRewriter.index(of: playlist, baseURL: finalURL) : .singleVariant(finalURL)
        index.variables = variables
        await indexCache.store(index, for: id, upstream: record.descriptor.upstream, at: clock.now())
        return index
    }

    /// The playlist and the URL that answered it, shared by every viewer through the playlist cache;
    /// throws `ProxyFailure.rejected` when the upstream rejected the token.
    func fetchPlaylist(_ url: URL, record: StreamRecord) async throws -> (Playlist, URL) {
        try await playlists.playlist(for: record.descriptor.id + "|" + url.absoluteString) {
            try await self.loadPlaylist(url, record: record)
        }
    }

    func loadPlaylist(_ url: URL, record: StreamRecord) async throws -> (Playlist, URL, Int) {
        let response = try await send(url, record: record, range: nil)
        if Self.rejectionStatuses.contains(response.status) { throw ProxyFailure.rejected(response.status) }
        guard response.status == 200 else {
            throw ProxyFailure(status: 502, message: "upstream answered \(response.status) for the playlist")
        }
        let body = try await response.body.collect(upTo: limits.playlist, within: requestTimeout)
        do {
            let parsed = try PlaylistParser.parse(body.readableBytesView)
            let now = clock.now()
            playlistAnswers.withLockedValue { $0[record.descriptor.id] = now }
            return (parsed, response.url, body.readableBytes)
        } catch {
            throw ProxyFailure(status: 502, message: "upstream body is not a playlist: \(error)")
        }
    }

    /// A segment, part, key or init section: one upstream request however many viewers ask at once. Its
    /// body is capped (`segment_max_mb`) and must arrive within a deadline derived from its duration; a
    /// body over either fails, and a failed body is never kept.
    func sendShared(_ url: URL?, record: StreamRecord, range: String?, duration: Int?) async throws -> UpstreamResponse {
        guard let url else { throw ProxyFailure(status: 502, message: "unusable upstream URL") }
        let address = url.absoluteString
        // The whole resource, sliced by `relay`, once this URL was seen ignoring a range.
        let sent = range.flatMap { rangeIgnorers.contains(address) ? nil : $0 }
        let limits = self.limits
        let allowed = limits.segmentDeadline(timeout: requestTimeout, duration: duration.map(Double.init))
        // Bytes fetched for a source that may reach private addresses (or other hosts) are never served to
        // one that may not.
        let reach =
            (record.descriptor.allowPrivate ? "private|" : "public|")
            + (record.descriptor.allowHosts?.patterns.joined(separator: ",") ?? "*")
        let key = reach + "|" + address + "|" + (sent ?? "")
        let response = try await segments.response(for: key) {
            let started = ContinuousClock.now
            var response = try await self.send(url, record: record, range: sent)
            response.body = response.body.bounded(limit: limits.segment, allowed: allowed, spent: ContinuousClock.now - started)
            return response
        }
        // Each caller checks what it needs of the shared body: up to the end of its range when the whole
        // file came, else all of it. Over the cap, it gets a 502 before a byte is relayed.
        let length = response.headers.value(for: "Content-Length").flatMap(Int.init)
        if let needed = ByteRange.ignored(range, by: response).map({ $0.range.last + 1 }) ?? length, needed > limits.segment {
            throw ProxyFailure(status: 502, message: "the upstream's body is \(needed) bytes, over segment_max_mb")
        }
        // Remembered only when slicing works (a length) and the 200 was not a fair answer (`bytes=0-`); the
        // copy kept under the ranged key is of no use to anyone after that.
        if let sent, response.status == 200, length != nil, !ByteRange.isWholeBody(sent) {
            rangeIgnorers.insert(address)
            segments.forget(key)
        }
        return response
    }

    func send(_ url: URL?, record: StreamRecord, range: String?) async throws -> UpstreamResponse {
        guard let url else { throw ProxyFailure(status: 502, message: "unusable upstream URL") }
        let request = UpstreamRequest(
            url: url, headers: record.descriptor.headers, allowPrivate: record.descriptor.allowPrivate, range: range,
            timeout: requestTimeout, allowHosts: record.descriptor.allowHosts)
        do {
            let response = try await upstream.send(request)
            metrics.upstreamResponse(stream: record.descriptor.id, status: response.status)
            return response
        } catch {
            metrics.upstreamResponse(stream: record.descriptor.id, status: nil)
            throw error
        }
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

final class IndexBox: @unchecked Sendable {
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

/// A bounded set of strings (forgotten all at once when full: it holds hints, not records).
final class BoundedSet: Sendable {
    private let members = NIOLockedValueBox(Set<String>())
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func contains(_ member: String) -> Bool { members.withLockedValue { $0.contains(member) } }

    func insert(_ member: String) {
        members.withLockedValue { members in
            if members.count >= limit { members.removeAll() }
            members.insert(member)
        }
    }
}
