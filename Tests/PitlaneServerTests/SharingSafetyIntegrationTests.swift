import Foundation
import PitlaneCore
import Testing

/// Issue 12's first slice, on a running server: headers on every response, a data directory only its
/// owner can read.
struct SharingSafetyIntegrationTests {
    @Test func everyResponseSaysNosniffAndNoReferrer() async throws {
        try await ServerHarness.run(expectStreams: 0) { harness in
            for path in ["healthz", "api/streams", "no/such/route", "hls/nope/master.m3u8"] {
                let response = try await harness.get(path)
                #expect(response.header("X-Content-Type-Options") == "nosniff", "\(path)")
                #expect(response.header("Referrer-Policy") == "no-referrer", "\(path)")
            }
        }
    }

    /// Any web page the owner visits used to be able to drive the API (`Access-Control-Allow-Origin: *`,
    /// POSTs without credentials): a state-changing request from another origin is now 403, and no other
    /// origin can read an answer. Players and scripts (no `Origin`) and the web app itself still can.
    @Test func anotherSitesPageCannotDriveTheAPI() async throws {
        try await ServerHarness.run(expectStreams: 0) { harness in
            let evil = [("Origin", "https://evil.example")]
            let refused = try await harness.send(.POST, "api/streams/nope/refresh", headers: evil)
            #expect(refused.status == 403)
            let extract = try await harness.send(.POST, "api/extract", headers: evil)
            #expect(extract.status == 403)
            let read = try await harness.get("api/streams", headers: evil)
            #expect(read.status == 200 && read.header("Access-Control-Allow-Origin") == nil)
            let own = "http://" + (harness.pitlane.host ?? "") + ":" + String(harness.pitlane.port ?? 0)
            #expect(try await harness.send(.POST, "api/streams/nope/refresh", headers: [("Origin", own)]).status == 404)
            #expect(try await harness.send(.POST, "api/streams/nope/refresh").status == 404)
        }
    }

    /// DNS rebinding: a page at evil.example rebinds its name to 127.0.0.1 and is then same-origin with
    /// Pitlane by the browser's rules. A Host Pitlane does not answer to is 421; `Origin: null` and a
    /// browser's `Sec-Fetch-Site: cross-site` are refused for POSTs; a name in server.hostnames works.
    @Test func aRebindingPageIsMisdirected() async throws {
        try await ServerHarness.run(configure: { config, _ in config.server.hostnames = ["pitlane.lan"] }, expectStreams: 0) { harness in
            let port = String(harness.pitlane.port ?? 0)
            let rebound = [("Host", "evil.example:" + port), ("Origin", "http://evil.example:" + port)]
            var statuses: [Int] = []
            statuses.append(try await harness.send(.POST, "api/extract", headers: rebound).status)
            statuses.append(try await harness.get("api/streams", headers: [("Host", "evil.example:" + port)]).status)
            statuses.append(try await harness.get("api/streams", headers: [("Host", "pitlane.lan:" + port)]).status)
            statuses.append(try await harness.send(.POST, "api/streams/nope/refresh", headers: [("Origin", "null")]).status)
            statuses.append(try await harness.send(.POST, "api/streams/nope/refresh", headers: [("Sec-Fetch-Site", "cross-site")]).status)
            statuses.append(try await harness.send(.POST, "api/streams/nope/refresh", headers: [("Sec-Fetch-Site", "same-origin")]).status)
            #expect(statuses == [421, 421, 200, 403, 403, 404])
        }
    }

    /// `server.cors_origins` lets the pages of an origin the owner names use the API and streams.
    @Test func aListedOriginGetsCORS() async throws {
        try await ServerHarness.run(configure: { config, _ in config.server.corsOrigins = ["https://tv.example.com"] }, expectStreams: 0) {
            harness in
            let listed = [("Origin", "https://tv.example.com")]
            let read = try await harness.get("api/streams", headers: listed)
            #expect(read.header("Access-Control-Allow-Origin") == "https://tv.example.com")
            #expect(read.header("Vary") == "Origin")
            let preflight = try await harness.send(.OPTIONS, "api/extract", headers: listed + [("Access-Control-Request-Method", "POST")])
            #expect(preflight.status == 204 && preflight.header("Access-Control-Allow-Origin") == "https://tv.example.com")
            #expect(try await harness.send(.POST, "api/streams/nope/refresh", headers: listed).status == 404)
            let other = try await harness.get("api/streams", headers: [("Origin", "https://other.example")])
            #expect(other.header("Access-Control-Allow-Origin") == nil && other.header("Vary") == "Origin")
        }
    }

    /// The catalogue holds stream URLs with their tokens and Cookie headers: the data directory is 0700,
    /// its files 0600, also when an older version left them readable by everyone.
    @Test func theDataDirectoryIsItsOwnersAlone() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-modes-\(UUID())")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let old = dataDir.appendingPathComponent("catalogue.sqlite")
        FileManager.default.createFile(atPath: old.path, contents: nil, attributes: [.posixPermissions: 0o644])
        let unrelated = dataDir.appendingPathComponent("notes.txt")
        FileManager.default.createFile(atPath: unrelated.path, contents: nil, attributes: [.posixPermissions: 0o644])
        try await ServerHarness.run(dataDir: dataDir.path, expectStreams: 0) { _ in }
        let modes = try ["", "catalogue.sqlite", "secret.key", "notes.txt"].map { name in
            let path = name.isEmpty ? dataDir.path : dataDir.appendingPathComponent(name).path
            return try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        }
        #expect(modes == [0o755, 0o600, 0o600, 0o644], "only Pitlane's own files are touched, in a directory it shares")
    }

    /// A data directory of Pitlane's own is 0700; a symbolic link in it is never followed.
    @Test func aDataDirectoryOfItsOwnIsClosed() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-own-\(UUID())")
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-outside-\(UUID())")
        FileManager.default.createFile(atPath: outside.path, contents: nil, attributes: [.posixPermissions: 0o644])
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.createSymbolicLink(at: dataDir.appendingPathComponent("catalogue.sqlite.link"), withDestinationURL: outside)
        try await ServerHarness.run(dataDir: dataDir.path, expectStreams: 0) { _ in }
        let directory = try FileManager.default.attributesOfItem(atPath: dataDir.path)[.posixPermissions] as? Int
        let target = try FileManager.default.attributesOfItem(atPath: outside.path)[.posixPermissions] as? Int
        #expect(directory == 0o700)
        #expect(target == 0o644, "the link's target is not Pitlane's to change")
    }
}
