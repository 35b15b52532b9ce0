import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import PitlaneCore

/// Signing in and out, and what the web app shows of the account: `POST /api/login`, `POST /api/logout`,
/// `GET /api/me`, `POST /api/me/playback-token`. With `auth.mode: none`, `/api/me` says so and the rest
/// answer 404 (`accounts_off`).
struct AuthController: Sendable {
    typealias Context = PitlaneRequestContext
    let accounts: Accounts?
    let throttle: LoginThrottle

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("me", use: me)
        group.post("login", use: login)
        group.post("logout", use: logout)
        group.post("me/playback-token", use: resetPlaybackToken)
    }

    struct Credentials: Decodable {
        var name: String
        var password: String
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> Response {
        guard let accounts else { return Self.accountsOff }
        let body = try await request.body.collect(upTo: 16 * 1024)
        let isForm = request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
        guard let credentials = isForm ? Self.form(body) : try? JSONDecoder().decode(Credentials.self, from: body) else {
            return JSONResponse.error("send {\"name\": …, \"password\": …}", status: .badRequest)
        }
        let attempt: LoginThrottle.Attempt
        switch throttle.begin(ClientAddress.of(request, peer: context.remoteAddress)) {
        case .success(let started): attempt = started
        case .failure(let wait):
            let seconds = Int(wait.seconds.rounded(.up))
            var response = JSONResponse.error(
                "too many sign-in attempts: try again in \(seconds) s", status: .tooManyRequests, code: "sign_in_throttled")
            response.headers[.retryAfter] = "\(seconds)"
            return response
        }
        // bcrypt takes a quarter of a second on purpose: on NIO's blocking pool, not the server's threads
        // (and the throttle lets only a few run at once).
        let verified =
            (try? await NIOThreadPool.singleton.runIfActive { accounts.verify(name: credentials.name, password: credentials.password) })
            ?? false
        guard verified else {
            throttle.failed(attempt)
            return JSONResponse.error("wrong name or password", status: .unauthorized, code: "wrong_credentials")
        }
        throttle.succeeded(attempt)
        let token = try accounts.startSession(for: credentials.name)
        var response: Response
        if isForm {
            let next = request.uri.queryParameters.get("next").flatMap(Self.localPath) ?? "/"
            response = Response(status: .seeOther, headers: [.location: next])
        } else {
            response = JSONResponse.encode(["name": credentials.name])
        }
        response.headers[.setCookie] = Self.sessionCookie(
            token, maxAge: Int(accounts.sessionLifetime), secure: Self.isHTTPS(request))
        return response
    }

    @Sendable func logout(_ request: Request, context: Context) async throws -> Response {
        guard accounts != nil else { return Self.accountsOff }
        if let token = AuthMiddleware.cookie(AuthMiddleware.cookieName, in: request) { accounts?.endSession(token) }
        var response = Response(status: .noContent)
        response.headers[.setCookie] = Self.sessionCookie("", maxAge: 0, secure: Self.isHTTPS(request))
        return response
    }

    struct Me: Encodable {
        var auth: String
        var name: String?
        /// The playback token's path prefix and the M3U playlist for players (VLC, Kodi, Jellyfin).
        var playbackPrefix: String?
        var playlistURL: String?
    }

    @Sendable func me(_ request: Request, context: Context) async throws -> Response {
        guard let accounts else { return JSONResponse.encode(Me(auth: "none")) }
        guard let name = context.user, let account = try accounts.account(name) else {
            return AuthMiddleware.unauthorized("sign in first")
        }
        let prefix = "/t/\(account.playbackToken)"
        return JSONResponse.encode(Me(auth: "password", name: name, playbackPrefix: prefix, playlistURL: prefix + "/playlist.m3u"))
    }

    /// Signing in and out and playback tokens with `auth.mode: none`.
    static var accountsOff: Response {
        JSONResponse.error("accounts are off (auth.mode: none)", status: .notFound, code: "accounts_off")
    }

    @Sendable func resetPlaybackToken(_ request: Request, context: Context) async throws -> Response {
        guard accounts != nil else { return Self.accountsOff }
        guard let accounts, let name = context.user else { return AuthMiddleware.unauthorized("sign in first") }
        try accounts.resetPlaybackToken(name)
        return try await me(request, context: context)
    }

    static func sessionCookie(_ value: String, maxAge: Int, secure: Bool) -> String {
        "\(AuthMiddleware.cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// Behind a TLS reverse proxy (which says so in X-Forwarded-Proto), the cookie is Secure.
    static func isHTTPS(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https" || request.head.scheme == "https"
    }

    /// Only a path of this site: `next=` must not send a signed-in browser elsewhere. Browsers drop tabs and
    /// line breaks inside a URL and read `\` as `/`, so `/<tab>/evil.example` would be `//evil.example`: no
    /// control character and no backslash at all.
    static func localPath(_ next: String) -> String? {
        guard next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
            !next.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { return nil }
        return next
    }

    /// `name=…&password=…` (a form posted without JavaScript), decoded by hand: URLComponents traps on
    /// some malformed input, and this is anyone's input.
    static func form(_ body: ByteBuffer) -> Credentials? {
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let decode = { (text: Substring) in text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            if let key = decode(parts[0]), let value = decode(parts[1]) { fields[key] = value }
        }
        guard let name = fields["name"], let password = fields["password"] else { return nil }
        return Credentials(name: name, password: password)
    }
}
