import Foundation
import HTTPTypes
import Hummingbird
import PitlaneCore

/// `/api/streams`: what Pitlane can play, and each stream's token-refresh state.
struct StreamsController<Context: RequestContext>: Sendable {
    let catalog: StreamCatalog
    let refresher: TokenRefresher
    let clock: any WallClock

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("streams", use: list)
        group.get("streams/:id", use: detail)
        group.post("streams/:id/refresh", use: refresh)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let flag = request.uri.queryParameters.get("detail")
        guard flag == nil || flag == "0" || flag == "1" else {
            return JSONResponse.error("detail must be 0 or 1", status: .badRequest)
        }
        let detailed = flag == "1"
        let streams = StreamJSON.ranked(await catalog.all(), now: clock.now(), detailed: detailed)
        return JSONResponse.encode(["streams": streams])
    }

    @Sendable func detail(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        return await detailResponse(id, status: .ok)
    }

    /// Re-runs the stream's source now (for API users and the web app's recovery).
    @Sendable func refresh(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        guard await catalog.record(id) != nil else { return JSONResponse.error("no stream \(id)", status: .notFound, code: "no_stream") }
        await refresher.refresh(stream: id, reason: .manual)
        let failed = await catalog.record(id)?.refresh.lastError != nil
        return await detailResponse(id, status: failed ? .badGateway : .ok)
    }

    func detailResponse(_ id: String, status: HTTPResponse.Status) async -> Response {
        let ranked = StreamRanking.ranked(await catalog.all())
        guard let position = ranked.firstIndex(where: { $0.descriptor.id == id }) else {
            return JSONResponse.error("no stream \(id)", status: .notFound, code: "no_stream")
        }
        return JSONResponse.encode(StreamJSON.make(ranked[position], rank: position + 1, now: clock.now(), detailed: true), status: status)
    }
}
