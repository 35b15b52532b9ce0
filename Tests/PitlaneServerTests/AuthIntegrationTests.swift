import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PitlaneCore
import PitlaneServer
import Testing

/// `auth.mode: password` against the real server: the sign-in flow, the session cookie, playback tokens
/// for players, API tokens for scripts, the rate limit.
@Suite struct AuthIntegrationTests {
    static let password = "correct horse battery"

    /// Accounts in memory with alice and bob, at bcrypt's cheapest cost (the tests check the flow, not bcrypt).
    static func accounts() throws -> Accounts {
        let accounts = Accounts(store: try SQLiteAccountStore(path: nil), clock: ManualClock(ServerHarness.start), bcryptCost: 4)
        try accounts.addUser("alice", password: password)
        try accounts.addUser("bob", password: password)
        return accounts
    }

    static func run(_ accounts: Accounts, _ body: @Sendable (ServerHarness) async throws -> Void) async throws {
        try await ServerHarness.run(configure: { config, _ in config.auth.mode = .password }, accounts: accounts, body)
    }

    static func signIn(_ harness: ServerHarness, name: String = "alice", password: String = password, headers: [(String, String)] = [])
        async throws -> ServerHarness.Fetched
    {
        try await harness.send(
            .POST, "/api/login", headers: [("Content-Type", "application/json")] + headers,
            body: "{\"name\": \"\(name)\", \"password\": \"\(password)\"}")
    }

    /// A request whose redirect is seen, not followed (the harness's client follows them).
    static func withoutRedirects(
        _ harness: ServerHarness, _ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> (status: Int, location: String?) {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            var request = HTTPClientRequest(url: harness.pitlane.absoluteString + path.dropFirst())
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await client.execute(request, timeout: .seconds(10))
            try await client.shutdown()
            return (Int(response.status.code), response.headers.first(name: "Location"))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func sessionCookie(_ response: ServerHarness.Fetched) -> String? {
        response.header("Set-Cookie")?.split(separator: ";").first.map(String.init)
    }

    @Test func withoutACredentialOnlyTheSignInPageIsOpen() async throws {
        try await Self.run(try Self.accounts()) { harness in
            let refused = [
                "/api/streams", "/api/sources", "/api/schedule", "/playlist.m3u", "/hls/fixture-race/master.m3u8", "/calendar.ics",
            ]
            var statuses: [String: Int] = [:]
            for path in refused { statuses[path] = try await harness.get(path).status }
            let extract = try await harness.post("/api/extract")
            let page = try await Self.withoutRedirects(harness, "/watch?layout=2")
            let login = try await harness.get("/login")
            let css = try await harness.get("/app/app.css")
            let health = try await harness.get("/healthz")
            #expect(statuses.values.allSatisfy { $0 == 401 }, "\(statuses)")
            #expect(extract.status == 401)
            #expect(page.status == 303 && page.location == "/login?next=%2Fwatch%3Flayout%3D2")
            #expect(login.status == 200 && login.text.contains("Sign in"))
            #expect(login.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
            #expect(css.status == 200 && health.status == 200)
        }
    }

    @Test func signingInGivesAnHttpOnlySessionThatSigningOutEnds() async throws {
        try await Self.run(try Self.accounts()) { harness in
            let wrong = try await Self.signIn(harness, password: "wrong password")
            let unknown = try await Self.signIn(harness, name: "mallory")
            let right = try await Self.signIn(harness)
            let secure = try await Self.signIn(harness, name: "bob", headers: [("X-Forwarded-Proto", "https")])
            let cookie = try #require(Self.sessionCookie(right))
            let streams = try await harness.get("/api/streams", headers: [("Cookie", cookie)])
            let me = try await harness.get("/api/me", headers: [("Cookie", cookie)])
            let logout = try await harness.send(.POST, "/api/logout", headers: [("Cookie", cookie)])
            let after = try await harness.get("/api/streams", headers: [("Cookie", cookie)])
            #expect(wrong.status == 401 && unknown.status == 401 && wrong.text == unknown.text, "an unknown name reads as a wrong password")
            #expect(right.status == 200)
            let attributes = right.header("Set-Cookie") ?? ""
            #expect(attributes.contains("HttpOnly") && attributes.contains("SameSite=Lax") && !attributes.contains("Secure"))
            #expect(secure.header("Set-Cookie")?.contains("; Secure") == true, "behind https the cookie is Secure")
            #expect(streams.status == 200)
            #expect(me.text.contains("\"name\":\"alice\"") && me.text.contains("/t/"))
            #expect(logout.status == 204 && logout.header("Set-Cookie")?.contains("Max-Age=0") == true)
            #expect(after.status == 401, "the session ended on the server, not only in the browser")
        }
    }

    @Test func signInsAreRateLimitedPerClient() async throws {
        try await Self.run(try Self.accounts()) { harness in
            var failures: [Int] = []
            for _ in 0..<5 { failures.append(try await Self.signIn(harness, password: "guess guess").status) }
            let blocked = try await Self.signIn(harness)
            let elsewhere = try await Self.signIn(harness, headers: [("X-Forwarded-For", "203.0.113.9")])
            harness.clock.advance(by: 601)
            let later = try await Self.signIn(harness)
            #expect(failures == [401, 401, 401, 401, 401])
            #expect(blocked.status == 429 && blocked.header("Retry-After") != nil, "even the right password waits")
            #expect(elsewhere.status == 200, "another client (behind a reverse proxy on loopback) is not blocked")
            #expect(later.status == 200)
        }
    }

    @Test func aPlaybackTokenPlaysEveryURLItLeadsToUntilItIsReset() async throws {
        let accounts = try Self.accounts()
        try await Self.run(accounts) { harness in
            let token = try #require(try accounts.account("alice")?.playbackToken)
            let prefix = "/t/\(token)"
            let playlist = try await harness.get(prefix + "/playlist.m3u")
            let master = try await harness.get(prefix + "/hls/fixture-race/master.m3u8")
            let variantURI = try #require(
                master.text.split(separator: "\n").first { $0.hasPrefix("v/") }, "\(master.status) \(master.text)")
            let variant = try await harness.get(prefix + "/hls/fixture-race/" + variantURI)
            // `../s/…` beside `v/…`: the path a player resolves it to.
            let segmentURI = "s/" + (try #require(variant.text.split(separator: "\n").first { $0.hasPrefix("../s/") })).dropFirst(5)
            let segment = try await harness.get(prefix + "/hls/fixture-race/" + segmentURI)
            let bare = try await harness.get("/hls/fixture-race/" + segmentURI)
            try accounts.resetPlaybackToken("alice")
            let revokedMaster = try await harness.get(prefix + "/hls/fixture-race/master.m3u8")
            let revokedSegment = try await harness.get(prefix + "/hls/fixture-race/" + segmentURI)
            let wrong = try await harness.get("/t/not-a-token-at-all-really/hls/fixture-race/master.m3u8")
            #expect(playlist.status == 200)
            // The harness's four sources carry one picture: the M3U lists their feed once.
            #expect(playlist.text.contains("\(prefix)/hls/feed-race-720p/master.m3u8"), "the M3U's URLs carry the token")
            #expect(master.status == 200 && variant.status == 200 && segment.status == 200)
            #expect(bare.status == 401, "a handle alone is no credential")
            #expect(revokedMaster.status == 401 && revokedSegment.status == 401, "a reset token stops at once")
            #expect(wrong.status == 401)
        }
    }

    @Test func apiTokensActAsTheirUserUntilRevoked() async throws {
        let accounts = try Self.accounts()
        try await Self.run(accounts) { harness in
            let created = try accounts.createAPIToken(label: "script", user: "bob")
            let bearer = [("Authorization", "Bearer \(created.token)")]
            let me = try await harness.get("/api/me", headers: bearer)
            let extract = try await harness.send(.POST, "/api/extract", headers: bearer)
            let forged = try await harness.get("/api/me", headers: [("Authorization", "Bearer pl_forged")])
            try accounts.revokeAPIToken(id: created.id)
            let revoked = try await harness.get("/api/me", headers: bearer)
            let stored = try accounts.apiTokens()
            #expect(me.status == 200 && me.text.contains("\"name\":\"bob\""))
            #expect(extract.status == 200)
            #expect(forged.status == 401 && revoked.status == 401)
            #expect(stored.isEmpty)
        }
    }

    /// Twenty sign-ins sent at once from one address: only the limit is checked (the rest wait), not all
    /// twenty while bcrypt is busy.
    @Test func aBurstOfSignInsIsCountedAsItArrives() async throws {
        try await Self.run(try Self.accounts()) { harness in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await Self.signIn(harness, password: "guess guess").status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 401 }.count <= 5, "\(statuses.sorted())")
            #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 })
        }
    }

    /// `next=` only ever leads to a page of this site, however it is spelt.
    @Test func afterSigningInAFormGoesOnlyToAPathOfThisSite() async throws {
        try await Self.run(try Self.accounts()) { harness in
            var locations: [String: String] = [:]
            for next in ["/watch?layout=2", "//evil.example/", "/\t/evil.example", "/\\evil.example", "https://evil.example/", "/\r\n/x"] {
                let escaped = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let response = try await Self.withoutRedirects(
                    harness, "/api/login?next=\(escaped)", method: .POST, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                    body: "name=alice&password=\(Self.password.replacingOccurrences(of: " ", with: "+"))")
                locations[next] = "\(response.status) \(response.location ?? "-")"
            }
            #expect(locations["/watch?layout=2"] == "303 /watch?layout=2")
            for next in ["//evil.example/", "/\t/evil.example", "/\\evil.example", "https://evil.example/", "/\r\n/x"] {
                #expect(locations[next] == "303 /", "\(next) → \(locations[next] ?? "?")")
            }
        }
    }

    /// Other spellings of protected paths are refused too, not served unauthenticated.
    @Test func otherSpellingsOfAPathAreNoWayIn() async throws {
        try await Self.run(try Self.accounts()) { harness in
            var statuses: [String: Int] = [:]
            for path in [
                "//api/streams", "/app/../api/streams", "/%61pi/streams", "/API/streams", "/api/streams/",
                "/t//hls/fixture-race/master.m3u8",
                "/t/x/api/streams", "/demo/../api/streams", "/login/../api/streams",
            ] {
                statuses[path] = try await harness.get(path).status
            }
            #expect(statuses.values.allSatisfy { $0 == 401 || $0 == 404 }, "\(statuses)")
        }
    }

    /// A page on another site cannot sign a visitor in (login CSRF) or use their cookie to act.
    @Test func anotherSitesPageCanNeitherSignInNorAct() async throws {
        try await Self.run(try Self.accounts()) { harness in
            let session = try #require(Self.sessionCookie(try await Self.signIn(harness)))
            let login = try await Self.signIn(harness, headers: [("Origin", "https://evil.example")])
            let extract = try await harness.send(.POST, "/api/extract", headers: [("Cookie", session), ("Origin", "https://evil.example")])
            let fetchSite = try await harness.send(.POST, "/api/extract", headers: [("Cookie", session), ("Sec-Fetch-Site", "cross-site")])
            #expect(login.status == 403 && extract.status == 403 && fetchSite.status == 403)
        }
    }
}
