import Foundation
import Hummingbird
import PitlaneCore

/// `/api/sources` and `POST /api/extract`: which sources work, and running them on demand.
struct SourcesController<Context: RequestContext>: Sendable {
    let refresher: TokenRefresher
    let extraction: ExtractionService

    /// A source's status as JSON; unknown values are null, never left out.
    struct SourceJSON: Encodable {
        var status: SourceStatus

        enum Keys: String, CodingKey { case id, kind, enabled, lastRun, lastSuccess, duration, streamsFound, lastError, notes }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encodeEach([
                .id: status.id, .kind: status.kind, .enabled: status.enabled, .lastRun: status.lastRun, .lastSuccess: status.lastSuccess,
                .duration: status.duration.map { ($0 * 1000).rounded() / 1000 }, .streamsFound: status.streamsFound,
                .lastError: status.lastError, .notes: status.notes ?? [],
            ])
        }
    }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("sources", use: list)
        group.post("extract", use: extract)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.encode(["sources": await refresher.allStatuses().map(SourceJSON.init)])
    }

    /// Runs every enabled source and validates the streams now; answers when done (each source is
    /// bounded by its timeout).
    @Sendable func extract(_ request: Request, context: Context) async throws -> Response {
        await extraction.runCycle()
        return try await list(request, context: context)
    }
}
