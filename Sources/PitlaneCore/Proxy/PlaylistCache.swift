import Foundation

/// One upstream playlist fetch shared by every viewer: results live for about half a target duration, and
/// concurrent misses for the same URL wait for the one fetch under way. N viewers of a stream cost the
/// upstream one playlist request per period, whatever N is. Only successes are kept, within a byte budget
/// (a 200k-segment playlist is not kept for long, nor are many of them).
final class PlaylistCache: Sendable {
    typealias Fetched = Result<(playlist: Playlist, finalURL: URL, bytes: Int), any Error>

    /// Playlist text kept at most (the parsed form takes a few times as much).
    static let budget = 32 * 1024 * 1024
    private let flights: SingleFlight<String, Fetched>

    init(clock: any WallClock, limit: Int = 512, metrics: PitlaneMetrics = .off) {
        var rules = SingleFlight<String, Fetched>.Rules.budget(bytes: Self.budget, entries: limit) { fetched in
            (try? fetched.get().bytes) ?? 0
        }
        let (hit, miss) = metrics.sharedFetches(cache: "playlist")
        rules.counted = { $0 ? hit.increment() : miss.increment() }
        rules.lifetime = { fetched in (try? fetched.get()).map { Self.lifetime(of: $0.playlist) } ?? 0 }
        flights = SingleFlight(clock: clock, rules: rules)
    }

    /// How long a fetched playlist is reused: half its target duration (a master, which has none, 5 s),
    /// at least half a second, at most 10 s.
    static func lifetime(of playlist: Playlist) -> TimeInterval {
        guard playlist.kind == .media else { return 5 }
        if playlist.hasEndList { return 10 }
        return min(10, max(0.5, (playlist.targetDuration ?? 2) / 2))
    }

    /// The cached playlist for `key`, or the result of `load` (shared with concurrent callers). A
    /// rejection (`ProxyFailure.rejected`) is shared with them too, and never kept.
    func playlist(for key: String, load: @escaping @Sendable () async throws -> (Playlist, URL, Int)) async throws -> (Playlist, URL) {
        let fetched = await flights.value(for: key) {
            do {
                let (playlist, url, bytes) = try await load()
                return .success((playlist, url, bytes))
            } catch {
                return .failure(error)
            }
        }
        let value = try fetched.get()
        return (value.playlist, value.finalURL)
    }
}

/// Rewritten media playlists, reused while the upstream playlist is the same: signing every URI again for
/// each of N viewers would cost N times the work for identical output. Kept within a byte budget, for as
/// long as the upstream playlist is.
final class RenderedPlaylistCache: Sendable {
    private let flights: SingleFlight<String, String>

    init(clock: any WallClock, limit: Int = 256) {
        var rules = SingleFlight<String, String>.Rules.budget(bytes: PlaylistCache.budget, entries: limit) { $0.utf8.count }
        rules.lifetime = { _ in 10 }
        flights = SingleFlight(clock: clock, rules: rules)
    }

    func text(for key: String, playlist: Playlist, render: @escaping @Sendable () -> String) async -> String {
        await flights.value(for: "\(key)|\(playlist.hashValue)") { render() }
    }
}
