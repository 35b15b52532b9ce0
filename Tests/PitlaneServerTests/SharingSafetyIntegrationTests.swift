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

    /// The catalogue holds stream URLs with their tokens and Cookie headers: the data directory is 0700,
    /// its files 0600, also when an older version left them readable by everyone.
    @Test func theDataDirectoryIsItsOwnersAlone() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-modes-\(UUID())")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let old = dataDir.appendingPathComponent("catalogue.sqlite")
        FileManager.default.createFile(atPath: old.path, contents: nil, attributes: [.posixPermissions: 0o644])
        try await ServerHarness.run(dataDir: dataDir.path, expectStreams: 0) { _ in }
        let modes = try ["", "catalogue.sqlite", "secret.key"].map { name in
            let path = name.isEmpty ? dataDir.path : dataDir.appendingPathComponent(name).path
            return try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        }
        #expect(modes == [0o700, 0o600, 0o600])
    }
}
