import HTTPTypes
import Hummingbird

/// Headers every response carries, errors included: `nosniff`, so a browser never runs a relayed body as
/// something it was not declared to be, and `Referrer-Policy: no-referrer`, so Pitlane's URLs (handles,
/// stream ids) never leak to another site in a Referer.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentTypeOptions: HTTPField.Name { HTTPField.Name("X-Content-Type-Options")! }
    static var referrerPolicy: HTTPField.Name { HTTPField.Name("Referrer-Policy")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            response = JSONResponse.error("internal error", status: .internalServerError)
        }
        response.headers[Self.contentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "no-referrer"
        return response
    }
}
