import Foundation

/// One upstream playlist fetch shared by every viewer: entries live for about half a target duration, and
/// concurrent misses for the same URL wait for the one fetch under way. N viewers of a stream cost the
/// upstream one playlist request per period, whatever N is. Only successes are kept.
actor PlaylistCache {
    struct Entry: Sendable {
        var playlist: Playlist
        var finalURL: URL
        var fetchedAt: Date
    }

    private var entries: [String: Entry] = [:]
    private var inFlight: [String: Task<Result<(Playlist, URL), Error>, Never>] = [:]
    private let clock: any WallClock
    /// The most entries kept; the oldest go first.
    private let limit: Int

    init(clock: any WallClock, limit: Int = 512) {
        self.clock = clock
        self.limit = limit
    }

    /// How long a fetched playlist is reused: half its target duration (a master, which has none, 5 s),
    /// at least half a second, at most 10 s.
    static func lifetime(of playlist: Playlist) -> TimeInterval {
        guard playlist.kind == .media else { return 5 }
        if playlist.hasEndList { return 10 }
        return min(10, max(0.5, (playlist.targetDuration ?? 2) / 2))
    }

    /// The cached playlist for `key`, or the result of `load` (shared with concurrent callers).
    func playlist(
        for key: String, load: @escaping @Sendable () async throws -> Result<(Playlist, URL), HLSProxy.Rejected>
    ) async throws -> Result<(Playlist, URL), HLSProxy.Rejected> {
        if let entry = entries[key], clock.now().timeIntervalSince(entry.fetchedAt) < Self.lifetime(of: entry.playlist) {
            return .success((entry.playlist, entry.finalURL))
        }
        if let running = inFlight[key] { return try Self.unwrap(await running.value) }
        let task = Task<Result<(Playlist, URL), Error>, Never> {
            do {
                switch try await load() {
                case .success(let value): return .success(value)
                case .failure(let rejected): return .failure(rejected)
                }
            } catch {
                return .failure(error)
            }
        }
        inFlight[key] = task
        let result = await task.value
        inFlight[key] = nil
        if case .success(let (playlist, finalURL)) = result {
            if entries.count >= limit, let oldest = entries.min(by: { $0.value.fetchedAt < $1.value.fetchedAt })?.key {
                entries[oldest] = nil
            }
            entries[key] = Entry(playlist: playlist, finalURL: finalURL, fetchedAt: clock.now())
        }
        return try Self.unwrap(result)
    }

    private static func unwrap(_ result: Result<(Playlist, URL), Error>) throws -> Result<(Playlist, URL), HLSProxy.Rejected> {
        switch result {
        case .success(let value): return .success(value)
        case .failure(let rejected as HLSProxy.Rejected): return .failure(rejected)
        case .failure(let error): throw error
        }
    }
}

/// Rewritten media playlists, reused while the upstream playlist is the same: signing every URI again for
/// each of N viewers would cost N times the work for identical output.
actor RenderedPlaylistCache {
    private var entries: [String: (fingerprint: Int, text: String)] = [:]
    private let limit: Int

    init(limit: Int = 256) {
        self.limit = limit
    }

    func text(for key: String, playlist: Playlist, render: () -> String) -> String {
        let fingerprint = playlist.hashValue
        if let entry = entries[key], entry.fingerprint == fingerprint { return entry.text }
        let text = render()
        if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
        entries[key] = (fingerprint, text)
        return text
    }
}
