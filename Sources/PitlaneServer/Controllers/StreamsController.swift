import Foundation
import HTTPTypes
import Hummingbird
import PitlaneCore

/// `/api/streams`: what Pitlane can play, and each stream's token-refresh state.
struct StreamsController<Context: RequestContext>: Sendable {
    let catalog: StreamCatalog
    let refresher: TokenRefresher
    let clock: any WallClock

    /// A stream as the API shows it: the list gives the summary, `/api/streams/{id}` adds `active` and
    /// `refresh`. Unknown values are written as null, never left out, so clients see every field.
    struct StreamJSON: Encodable {
        var id: String
        var source: String
        var title: String
        var quality: String?
        var playlist: String
        var rank: Int
        var health: StreamHealth?
        var detail: (active: Bool, refresh: RefreshState)?

        enum Keys: String, CodingKey { case id, source, title, quality, playlist, rank, health, active, refresh }
        enum RefreshKeys: String, CodingKey { case count, lastRefreshed, nextRefresh, expiresAt, lastError }
        enum HealthKeys: String, CodingKey { case playable, latencyMs, bandwidth, resolutions, live, checkedAt, error }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(id, forKey: .id)
            try container.encode(source, forKey: .source)
            try container.encode(title, forKey: .title)
            try container.encode(quality, forKey: .quality)
            try container.encode(playlist, forKey: .playlist)
            try container.encode(rank, forKey: .rank)
            if let health {
                var nested = container.nestedContainer(keyedBy: HealthKeys.self, forKey: .health)
                try nested.encode(health.playable, forKey: .playable)
                try nested.encode(health.latencyMs, forKey: .latencyMs)
                try nested.encode(health.bandwidth, forKey: .bandwidth)
                try nested.encode(health.resolutions, forKey: .resolutions)
                try nested.encode(health.live, forKey: .live)
                try nested.encode(health.checkedAt, forKey: .checkedAt)
                try nested.encode(health.error, forKey: .error)
            } else {
                try container.encodeNil(forKey: .health)
            }
            guard let (active, state) = detail else { return }
            try container.encode(active, forKey: .active)
            var refresh = container.nestedContainer(keyedBy: RefreshKeys.self, forKey: .refresh)
            try refresh.encode(state.count, forKey: .count)
            try refresh.encode(state.lastRefreshed, forKey: .lastRefreshed)
            try refresh.encode(state.nextRefresh, forKey: .nextRefresh)
            try refresh.encode(state.expiresAt, forKey: .expiresAt)
            try refresh.encode(state.lastError, forKey: .lastError)
        }
    }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("streams", use: list)
        group.get("streams/:id", use: detail)
        group.post("streams/:id/refresh", use: refresh)
    }

    static func playlistPath(_ id: String) -> String { "/hls/\(id)/master.m3u8" }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let ranked = StreamRanking.ranked(await catalog.all())
        let streams = ranked.enumerated().map { describe($1, rank: $0 + 1, detailed: false) }
        return JSONResponse.encode(["streams": streams])
    }

    @Sendable func detail(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        return await detailResponse(id, status: .ok)
    }

    /// Re-runs the stream's source now (for API users and the web app's recovery).
    @Sendable func refresh(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        guard await catalog.record(id) != nil else { return JSONResponse.error("no stream \(id)", status: .notFound) }
        await refresher.refresh(stream: id, reason: .manual)
        let failed = await catalog.record(id)?.refresh.lastError != nil
        return await detailResponse(id, status: failed ? .badGateway : .ok)
    }

    func detailResponse(_ id: String, status: HTTPResponse.Status) async -> Response {
        let ranked = StreamRanking.ranked(await catalog.all())
        guard let position = ranked.firstIndex(where: { $0.descriptor.id == id }) else {
            return JSONResponse.error("no stream \(id)", status: .notFound)
        }
        return JSONResponse.encode(describe(ranked[position], rank: position + 1, detailed: true), status: status)
    }

    func describe(_ record: StreamRecord, rank: Int, detailed: Bool) -> StreamJSON {
        let descriptor = record.descriptor
        return StreamJSON(
            id: descriptor.id, source: descriptor.source, title: descriptor.title, quality: descriptor.quality,
            playlist: Self.playlistPath(descriptor.id), rank: rank, health: record.health,
            detail: detailed ? (record.refresh.isActive(at: clock.now()), record.refresh) : nil)
    }
}
