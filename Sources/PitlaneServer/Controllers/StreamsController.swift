import Foundation
import Hummingbird
import PitlaneCore

/// `/api/streams`: what Pitlane can play, and each stream's token-refresh state.
struct StreamsController<Context: RequestContext>: Sendable {
    let catalog: StreamCatalog
    let refresher: TokenRefresher
    let clock: any WallClock

    struct Summary: Encodable {
        var id: String
        var source: String
        var title: String
        var quality: String?
        var playlist: String
    }

    struct RefreshInfo: Encodable {
        var count: Int
        var lastRefreshed: Date?
        var nextRefresh: Date?
        var expiresAt: Date?
        var lastError: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(count, forKey: .count)
            try container.encode(lastRefreshed, forKey: .lastRefreshed)
            try container.encode(nextRefresh, forKey: .nextRefresh)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(lastError, forKey: .lastError)
        }

        enum CodingKeys: String, CodingKey { case count, lastRefreshed, nextRefresh, expiresAt, lastError }
    }

    struct Detail: Encodable {
        var id: String
        var source: String
        var title: String
        var quality: String?
        var playlist: String
        var active: Bool
        var refresh: RefreshInfo

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(source, forKey: .source)
            try container.encode(title, forKey: .title)
            try container.encode(quality, forKey: .quality)
            try container.encode(playlist, forKey: .playlist)
            try container.encode(active, forKey: .active)
            try container.encode(refresh, forKey: .refresh)
        }

        enum CodingKeys: String, CodingKey { case id, source, title, quality, playlist, active, refresh }
    }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("streams", use: list)
        group.get("streams/:id", use: detail)
        group.post("streams/:id/refresh", use: refresh)
    }

    static func playlistPath(_ id: String) -> String { "/hls/\(id)/master.m3u8" }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let streams = await catalog.all().map {
            Summary(
                id: $0.descriptor.id, source: $0.descriptor.source, title: $0.descriptor.title, quality: $0.descriptor.quality,
                playlist: Self.playlistPath($0.descriptor.id))
        }
        return JSONResponse.encode(["streams": streams])
    }

    @Sendable func detail(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let record = await catalog.record(id) else { return JSONResponse.error("no stream \(id)", status: .notFound) }
        return JSONResponse.encode(describe(record))
    }

    /// Re-runs the stream's source now (for API users and the web app's recovery).
    @Sendable func refresh(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        guard await catalog.record(id) != nil else { return JSONResponse.error("no stream \(id)", status: .notFound) }
        await refresher.refresh(stream: id, reason: .manual)
        guard let record = await catalog.record(id) else { return JSONResponse.error("no stream \(id)", status: .notFound) }
        return JSONResponse.encode(describe(record), status: record.refresh.lastError == nil ? .ok : .badGateway)
    }

    func describe(_ record: StreamRecord) -> Detail {
        let state = record.refresh
        return Detail(
            id: record.descriptor.id, source: record.descriptor.source, title: record.descriptor.title, quality: record.descriptor.quality,
            playlist: Self.playlistPath(record.descriptor.id), active: state.isActive(at: clock.now()),
            refresh: RefreshInfo(
                count: state.count, lastRefreshed: state.lastRefreshed, nextRefresh: state.nextRefresh, expiresAt: state.expiresAt,
                lastError: state.lastError))
    }
}
