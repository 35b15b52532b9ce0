import Foundation
import Hummingbird
import NIOCore
import PitlaneCore

/// `/healthz`: for monitoring and container health checks.
struct HealthController<Context: RequestContext>: Sendable {
    func addRoutes(to router: Router<Context>) {
        router.get("healthz", use: health)
    }

    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.encode(["status": "ok", "version": PitlaneVersion.string])
    }
}
