import HTTPTypes
import Hummingbird

/// Headers every response carries, errors included: `nosniff`, so a browser never runs a relayed body as
/// something it was not declared to be, and `Referrer-Policy: no-referrer`, so Pitlane's URLs (handles,
/// stream ids) never leak to another site in a Referer.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The router's routes, to tell "no such path" (404) from "not with this method" (405).
    let routes: RouteTable

    static var contentTypeOptions: HTTPField.Name { HTTPField.Name("X-Content-Type-Options")! }
    static var referrerPolicy: HTTPField.Name { HTTPField.Name("Referrer-Policy")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            // Hummingbird's own (no such route, a body too large): in the API's one error shape.
            response = Self.response(for: error, request: request, routes: routes)
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

    static func response(for error: HTTPError, request: Request, routes: RouteTable) -> Response {
        guard error.status == .notFound, error.body == nil else {
            var response = JSONResponse.error(error.body ?? error.status.reasonPhrase.lowercased(), status: error.status)
            response.headers.append(contentsOf: error.headers)
            return response
        }
        let allowed = routes.methods(for: request.uri.path)
        // A route of this method answered 404 itself (a handler's own "not here"): not a method problem.
        guard allowed.isEmpty || allowed.contains(request.method.rawValue) else {
            var response = JSONResponse.error(
                "\(request.uri.path) takes \(allowed.joined(separator: ", ")), not \(request.method)", status: .methodNotAllowed)
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        }
        return JSONResponse.error(
            "no such endpoint: \(request.method) \(request.uri.path) (the API is described at /api/openapi.json)", status: .notFound)
    }
}
