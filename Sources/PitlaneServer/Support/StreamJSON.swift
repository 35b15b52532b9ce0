import Foundation
import PitlaneCore

/// A stream as the API shows it: the list gives the summary, `/api/streams/{id}` adds `active` and
/// `refresh`. Unknown values are written as null, never left out, so clients see every field.
public struct StreamJSON: Encodable, Sendable {
    var id: String
    var source: String
    var title: String
    var quality: String?
    var playlist: String
    var rank: Int
    var health: StreamHealth?
    var detail: (active: Bool, refresh: RefreshState)?

    enum Keys: String, CodingKey { case id, source, title, quality, playlist, rank, health, active, refresh }
    enum RefreshKeys: String, CodingKey { case count, lastRefreshed, nextRefresh, expiresAt, lastError, failures, runTime }
    enum HealthKeys: String, CodingKey { case playable, latencyMs, bandwidth, resolutions, live, checkedAt, error }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeEach([.id: id, .source: source, .title: title, .quality: quality, .playlist: playlist, .rank: rank])
        if let health {
            var nested = container.nestedContainer(keyedBy: HealthKeys.self, forKey: .health)
            try nested.encodeEach([
                .playable: health.playable, .latencyMs: health.latencyMs, .bandwidth: health.bandwidth, .resolutions: health.resolutions,
                .live: health.live, .checkedAt: health.checkedAt, .error: health.error,
            ])
        } else {
            try container.encodeNil(forKey: .health)
        }
        guard let (active, state) = detail else { return }
        try container.encode(active, forKey: .active)
        var refresh = container.nestedContainer(keyedBy: RefreshKeys.self, forKey: .refresh)
        try refresh.encodeEach([
            .count: state.count, .lastRefreshed: state.lastRefreshed, .nextRefresh: state.nextRefresh, .expiresAt: state.expiresAt,
            .lastError: state.lastError, .failures: state.failures, .runTime: state.runTime,
        ])
    }
}

extension StreamJSON {
    /// The ranked catalogue as the API and `pitlane streams --json` show it.
    public static func ranked(_ records: [StreamRecord], now: Date, detailed: Bool = false) -> [StreamJSON] {
        StreamRanking.ranked(records).enumerated().map { make($1, rank: $0 + 1, now: now, detailed: detailed) }
    }

    public static func make(_ record: StreamRecord, rank: Int, now: Date, detailed: Bool) -> StreamJSON {
        let descriptor = record.descriptor
        return StreamJSON(
            id: descriptor.id, source: descriptor.source, title: descriptor.title, quality: descriptor.quality,
            playlist: "/hls/\(descriptor.id)/master.m3u8", rank: rank, health: record.health,
            detail: detailed ? (record.refresh.isActive(at: now), record.refresh) : nil)
    }
}
