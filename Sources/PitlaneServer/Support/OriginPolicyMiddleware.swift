import HTTPTypes
import Hummingbird

/// Same-origin by default. A browser sends `Origin` with every cross-origin request and with every POST:
/// - a state-changing request (anything but GET, HEAD, OPTIONS) from another origin is refused with 403,
///   so a web page the owner happens to visit cannot make Pitlane scrape, refresh or extract;
/// - a page of an origin in `server.cors_origins` gets CORS headers (and its preflights answered);
/// - any other origin gets no `Access-Control-Allow-Origin`, so its page cannot read what Pitlane answers.
/// Requests without `Origin` (players, curl, the CLI) are not browsers' cross-origin requests and pass.
/// The request's own origin is told by its `Host` (a TLS proxy in front changes the scheme, not the host).
struct OriginPolicyMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowed: Set<String>

    init(allowed: [String]) {
        self.allowed = Set(allowed)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin]?.lowercased() else { return try await next(request, context) }
        if Self.isSameOrigin(origin, host: request.head.authority) {
            return try await next(request, context)
        }
        guard allowed.contains(origin) else {
            if [.get, .head].contains(request.method) { return try await next(request, context) }
            return Self.refusal(origin)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, HEAD, POST, OPTIONS"
            response.headers[.accessControlAllowHeaders] = "Range, Content-Type, Authorization"
            response.headers[.accessControlMaxAge] = "600"
            Self.allow(origin, on: &response)
            return response
        }
        var response = try await next(request, context)
        Self.allow(origin, on: &response)
        return response
    }

    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host = host?.lowercased(), let separator = origin.range(of: "://") else { return false }
        return origin[separator.upperBound...] == host
    }

    static func allow(_ origin: String, on response: inout Response) {
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "Content-Length, Content-Range"
        response.headers[.vary] = "Origin"
    }

    static func refusal(_ origin: String) -> Response {
        JSONResponse.error("cross-origin request from \(origin) refused (server.cors_origins allows an origin)", status: .forbidden)
    }
}
