import Foundation
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
        var detail: (active: Bool, refresh: RefreshState)?

        enum Keys: String, CodingKey { case id, source, title, quality, playlist, active, refresh }
        enum RefreshKeys: String, CodingKey { case count, lastRefreshed, nextRefresh, expiresAt, lastError }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(id, forKey: .id)
            try container.encode(source, forKey: .source)
            try container.encode(title, forKey: .title)
            try container.encode(quality, forKey: .quality)
            try container.encode(playlist, forKey: .playlist)
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
        let streams = await catalog.all().map { describe($0, detailed: false) }
        return JSONResponse.encode(["streams": streams])
    }

    @Sendable func detail(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let record = await catalog.record(id) else { return JSONResponse.error("no stream \(id)", status: .notFound) }
        return JSONResponse.encode(describe(record, detailed: true))
    }

    /// Re-runs the stream's source now (for API users and the web app's recovery).
    @Sendable func refresh(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        guard await catalog.record(id) != nil else { return JSONResponse.error("no stream \(id)", status: .notFound) }
        await refresher.refresh(stream: id, reason: .manual)
        guard let record = await catalog.record(id) else { return JSONResponse.error("no stream \(id)", status: .notFound) }
        return JSONResponse.encode(describe(record, detailed: true), status: record.refresh.lastError == nil ? .ok : .badGateway)
    }

    func describe(_ record: StreamRecord, detailed: Bool) -> StreamJSON {
        let descriptor = record.descriptor
        return StreamJSON(
            id: descriptor.id, source: descriptor.source, title: descriptor.title, quality: descriptor.quality,
            playlist: Self.playlistPath(descriptor.id),
            detail: detailed ? (record.refresh.isActive(at: clock.now()), record.refresh) : nil)
    }
}
