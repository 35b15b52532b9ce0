import Foundation
import HTTPTypes
import Hummingbird
import PitlaneCore

/// Same-origin by default. The attacker this stops is a web page in the owner's browser, which can forge
/// neither `Origin` nor `Host`:
/// - a request whose `Host` is a name Pitlane does not answer to is refused with 421: a page that
///   rebinds its own name to 127.0.0.1 (DNS rebinding) would otherwise be same-origin with Pitlane.
///   Pitlane answers to IP literals, `localhost`, `server.host` and `server.hostnames`;
/// - a state-changing request (anything but GET, HEAD, OPTIONS) from another origin, or that the browser
///   marks `Sec-Fetch-Site: cross-site`/`same-site`, is refused with 403, so a page the owner visits
///   cannot make Pitlane scrape, refresh or extract;
/// - a page of an origin in `server.cors_origins` gets CORS headers (and its preflights answered); no
///   other origin's page can read an answer (no `Access-Control-Allow-Origin`).
/// Requests without `Origin` (players, curl, the CLI) are not browsers' cross-origin requests and pass.
struct OriginPolicyMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowed: Set<String>
    let hostnames: Set<String>

    init(allowed: [String], hostnames: [String]) {
        self.allowed = Set(allowed)
        self.hostnames = Set(hostnames.map { $0.lowercased() })
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let authority = request.head.authority, !answersTo(authority) {
            return JSONResponse.error(
                "this Pitlane does not answer to \(Self.host(of: authority)); add it to server.hostnames", status: .misdirectedRequest,
                code: "unknown_host")
        }
        let changesState = ![.get, .head, .options].contains(request.method)
        if changesState, let site = request.headers[Self.fetchSite]?.lowercased(), site == "cross-site" || site == "same-site" {
            return Self.refusal(request.headers[.origin] ?? site)
        }
        guard let origin = request.headers[.origin]?.lowercased() else { return try await vary(next(request, context)) }
        if Self.isSameOrigin(origin, host: request.head.authority) { return try await vary(next(request, context)) }
        guard allowed.contains(origin) else {
            if !changesState { return try await vary(next(request, context)) }
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
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)  // a listed page may read a 404 too
        }
        Self.allow(origin, on: &response)
        return response
    }

    static var fetchSite: HTTPField.Name { HTTPField.Name("Sec-Fetch-Site")! }

    /// With listed origins, every answer may differ by `Origin`: a cache in front must not hand one
    /// origin's copy (without CORS headers) to another.
    func vary(_ response: Response) -> Response {
        guard !allowed.isEmpty else { return response }
        var response = response
        Self.addVary(&response)
        return response
    }

    func answersTo(_ authority: String) -> Bool {
        let host = Self.host(of: authority).lowercased()
        let bare = AddressPolicy.unbracketed(host)
        return AddressPolicy.isIPLiteral(bare) || bare == "localhost" || bare.hasSuffix(".localhost") || hostnames.contains(bare)
    }

    /// The host of an authority (`host:port`, `[v6]:port`, or a bare host).
    static func host(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") { return String(authority[...close]) }
        if authority.filter({ $0 == ":" }).count == 1, let colon = authority.firstIndex(of: ":") { return String(authority[..<colon]) }
        return authority
    }

    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host = host?.lowercased(), let separator = origin.range(of: "://") else { return false }
        return origin[separator.upperBound...] == host
    }

    static func allow(_ origin: String, on response: inout Response) {
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "Content-Length, Content-Range"
        addVary(&response)
    }

    static func addVary(_ response: inout Response) {
        if let existing = response.headers[.vary], !existing.isEmpty {
            if !existing.lowercased().contains("origin") { response.headers[.vary] = existing + ", Origin" }
        } else {
            response.headers[.vary] = "Origin"
        }
    }

    static func refusal(_ origin: String) -> Response {
        JSONResponse.error(
            "cross-origin request from \(origin) refused (server.cors_origins allows an origin)", status: .forbidden, code: "cross_origin")
    }
}
