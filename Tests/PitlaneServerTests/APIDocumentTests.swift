import Foundation
import PitlaneCore
import PitlaneServer
import Testing

/// The OpenAPI document at `/api/openapi.json` against the server that serves it: every route is
/// described and every description is a route; every error, API and proxy alike, is the one JSON shape.
/// (schemathesis, in CI, checks every answer against the document's schemas.)
@Suite struct APIDocumentTests {
    /// The web app's pages: HTML for people, not part of the API.
    static let pages: Set<String> = [
        "GET /", "GET /streams", "GET /watch", "GET /settings", "GET /login", "GET /favicon.ico", "GET /app/**",
    ]

    static func json(_ response: ServerHarness.Fetched) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    @Test func theDocumentDescribesEveryRouteAndNothingElse() async throws {
        try await AuthIntegrationTests.run(try AuthIntegrationTests.accounts()) { harness in
            let response = try await harness.get("/api/openapi.json")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json; charset=utf-8")
            let document = try Self.json(response)
            #expect(document["openapi"] as? String == "3.1.0")
            #expect((document["info"] as? [String: Any])?["version"] as? String == PitlaneVersion.string)
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
            let routes = Set(harness.app.routes).subtracting(Self.pages)
            #expect(routes.subtracting(documented).sorted() == [], "routes the document does not describe")
            #expect(documented.subtracting(routes).sorted() == [], "described operations the server does not have")
        }
    }

    @Test func everyErrorIsTheOneJSONShape() async throws {
        try await ServerHarness.run(configure: { config, _ in config.schedule.refresh = false }) { harness in
            let cases: [(String, String, Int, String)] = [
                ("GET", "/api/nothing-here", 404, "not_found"),
                ("DELETE", "/api/streams", 405, "method_not_allowed"),
                ("GET", "/api/streams/nope", 404, "no_stream"),
                ("GET", "/api/streams?detail=yes", 400, "bad_request"),
                ("GET", "/api/schedule?season=1066", 400, "bad_season"),
                ("GET", "/calendar.ics?sessions=warmup", 400, "unknown_session_kind"),
                ("POST", "/api/schedule/refresh?season=2026", 409, "refresh_off"),
                ("POST", "/api/login", 404, "accounts_off"),
                ("GET", "/hls/nope/master.m3u8", 404, "no_stream"),
                ("GET", "/hls/fixture-race/s/forged.ts", 403, "invalid_handle"),
                ("GET", "/hls/fixture-race/s/forged", 403, "invalid_handle"),
            ]
            for (method, path, status, code) in cases {
                let response = try await harness.send(.init(rawValue: method), path)
                #expect(response.status == status, "\(method) \(path): \(response.text)")
                #expect(response.header("Content-Type") == "application/json; charset=utf-8", "\(method) \(path)")
                let error = try #require(try Self.json(response)["error"] as? [String: Any], "\(method) \(path)")
                #expect(error["code"] as? String == code, "\(method) \(path): \(response.text)")
                #expect((error["message"] as? String)?.isEmpty == false, "\(method) \(path)")
                #expect(error.count == 2, "\(method) \(path)")
            }
            let wrongMethod = try await harness.send(.PUT, "/api/streams/x/refresh")
            #expect(wrongMethod.header("Allow") == "POST")
            let cross = try await harness.send(.POST, "/api/extract", headers: [("Origin", "http://evil.example")])
            #expect(cross.status == 403 && cross.text.contains(#""code":"cross_origin""#))
        }
    }
}
