import Foundation
import HTTPTypes
import Hummingbird
import PitlaneCore

/// With `auth.mode: password`, every request but the sign-in page, static assets, `/healthz`,
/// `/api/openapi.json` and the demo origin needs a credential, checked in this order:
/// - a playback token as the path's prefix, `/t/{token}/hls/…` or `/t/{token}/playlist.m3u`: for players
///   that cannot keep a cookie. The playlists Pitlane serves use relative URIs, so every variant and
///   segment URL a player derives carries the prefix too, and a revoked token stops all of them;
/// - `Authorization: Bearer <API token>`: for scripts;
/// - the `pitlane_session` cookie (HttpOnly, SameSite=Lax): for the web app.
/// Without one, a page is redirected to `/login` and anything else gets 401. State-changing requests also
/// pass `OriginPolicyMiddleware` (it runs first), so a cookie alone never lets another site's page act.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = PitlaneRequestContext
    static let cookieName = "pitlane_session"
    static let pages: Set<String> = ["/", "/streams", "/watch", "/settings"]

    let accounts: Accounts

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if Self.isOpen(path) { return try await next(request, context) }
        var context = context
        if let token = Self.playbackToken(in: path) {
            guard let user = accounts.user(forPlaybackToken: token) else {
                return Self.unauthorized("this playback link is not valid (any more): copy a new one from Pitlane's settings page")
            }
            context.user = user
            return try await next(request, context)
        }
        if let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("bearer "), let user = accounts.user(forAPIToken: String(authorization.dropFirst(7)))
            else { return Self.unauthorized("the API token is not valid") }
            context.user = user
            return try await next(request, context)
        }
        if let session = Self.cookie(Self.cookieName, in: request), let user = accounts.user(forSession: session) {
            context.user = user
            return try await next(request, context)
        }
        if request.method == .get, Self.pages.contains(path) {
            let target = request.uri.description
            let escaped = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2F"
            return Response(status: .seeOther, headers: [.location: "/login?next=" + escaped, .cacheControl: "no-store"])
        }
        return Self.unauthorized("sign in first (or send an API token)")
    }

    /// What anyone may fetch: the sign-in page and its assets, the health check, the API's description (it
    /// holds nothing of this server's), the demo origin (Pitlane's own upstream client fetches it without
    /// credentials).
    static func isOpen(_ path: String) -> Bool {
        switch path {
        case "/login", "/api/login", "/healthz", "/favicon.ico", "/api/openapi.json": true
        default: path.hasPrefix("/app/") || path.hasPrefix("/demo/")
        }
    }

    /// The token of a `/t/{token}/…` path, for the routes that take one.
    static func playbackToken(in path: String) -> String? {
        guard path.hasPrefix("/t/") else { return nil }
        let rest = path.dropFirst(3)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let tail = rest[slash...]
        guard tail.hasPrefix("/hls/") || tail == "/playlist.m3u" else { return nil }
        return String(rest[..<slash])
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    static func unauthorized(_ message: String) -> Response {
        var response = JSONResponse.error(message, status: .unauthorized)
        response.headers[.wwwAuthenticate] = "Bearer realm=\"Pitlane\""
        return response
    }
}
