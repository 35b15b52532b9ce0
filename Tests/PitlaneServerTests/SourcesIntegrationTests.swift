import Foundation
import PitlaneCore
import Testing

/// The declarative source kinds against fixture sites on loopback, through `pitlane serve`'s own wiring.
@Suite(.serialized)
struct SourcesIntegrationTests {
    static func sources(_ origin: URL, hangTimeout: Double = 1) -> [Configuration.SourceConfig] {
        var page = Configuration.SourceConfig(id: "site", kind: "page")
        page.url = URL(string: origin.absoluteString + "site/watch.html")!
        var api = Configuration.SourceConfig(id: "api", kind: "json")
        api.url = URL(string: origin.absoluteString + "api/events.json")!
        api.items = "data.events[*].streams[*]"
        api.fields = .init(url: "hls", title: "name", quality: "q", key: "id")
        var list = Configuration.SourceConfig(id: "list", kind: "m3u")
        list.url = URL(string: origin.absoluteString + "lists/f1.m3u")!
        var hang = Configuration.SourceConfig(id: "hang", kind: "page")
        hang.url = URL(string: origin.absoluteString + "hang?seconds=\(Int(hangTimeout) + 1)")!
        hang.timeout = hangTimeout
        var garbage = Configuration.SourceConfig(id: "garbage", kind: "json")
        garbage.url = URL(string: origin.absoluteString + "garbage.json")!
        garbage.items = "[*]"
        garbage.fields = .init(url: "url")
        return [page, api, list, hang, garbage].map {
            var source = $0
            source.allowPrivate = true
            return source
        }
    }

    static func json(_ fetched: ServerHarness.Fetched) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(fetched.body)) as? [String: Any])
    }

    static func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<200 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError.timedOut(what)
    }

    /// Waits for the first extraction cycle (the hanging source has given up and streams are checked).
    static func waitForFirstCycle(_ harness: ServerHarness) async throws {
        try await waitUntil("the first cycle") {
            let streams = try json(try await harness.get("/api/streams"))["streams"] as? [[String: Any]] ?? []
            return !streams.isEmpty && streams.allSatisfy { !($0["health"] is NSNull) }
        }
    }

    @Test func everyKindFindsItsStreamsAndOneBadSourceBreaksNothing() async throws {
        try await ServerHarness.run(configure: { $0.sources = Self.sources($1) }) { harness in
            try await Self.waitForFirstCycle(harness)
            let sources = try Self.json(try await harness.get("/api/sources"))["sources"] as? [[String: Any]] ?? []
            let byID = Dictionary(uniqueKeysWithValues: sources.map { ($0["id"] as? String ?? "", $0) })
            #expect(byID["site"]?["streamsFound"] as? Int == 2)
            #expect(byID["api"]?["streamsFound"] as? Int == 2)
            #expect(byID["list"]?["streamsFound"] as? Int == 1)
            for id in ["site", "api", "list"] { #expect(byID[id]?["lastError"] is NSNull, "\(id): \(byID[id]?["lastError"] ?? "")") }
            // Its request and its run share the source's timeout: whichever notices first says so.
            let hang = byID["hang"]?["lastError"] as? String ?? ""
            #expect(hang.contains("timed out") || hang.contains("did not answer in time"), "\(hang)")
            #expect((byID["garbage"]?["lastError"] as? String)?.contains("did not answer JSON") == true)
            #expect(byID["site"]?["kind"] as? String == "page" && byID["site"]?["lastRun"] is String)

            let streams = try Self.json(try await harness.get("/api/streams"))["streams"] as? [[String: Any]] ?? []
            let titles = streams.map { $0["title"] as? String ?? "" }
            #expect(titles.contains("Fixture Grand Prix 2"))
            #expect(titles.contains("Race low"))
            #expect(titles.contains("World feed (list)"))
            let masters = streams.filter {
                ($0["source"] as? String).map { ["fixture", "site", "api"].contains($0) } == true && ($0["quality"] as? String) != "360p"
            }
            #expect(masters.count == 2, "the master found by three sources is one stream (plus the page's high variant)")
            #expect(streams.map { $0["rank"] as? Int ?? 0 } == Array(1...streams.count))
            let health = streams.map { ($0["health"] as? [String: Any])?["playable"] as? Bool }
            #expect(health.first == true)
            #expect(health.firstIndex(of: false)! > health.lastIndex(of: true)!, "playable streams rank first")

            // A stream found inside nested iframes plays, fetched with the page it was found on as Referer.
            let embedded = try #require(streams.first { $0["title"] as? String == "Fixture Grand Prix 2" })
            let id = try #require(embedded["id"] as? String)
            let media = try await harness.get("/hls/\(id)/master.m3u8")
            let variant = try await harness.get("/hls/\(id)/" + (media.text.split(separator: "\n").last.map(String.init) ?? ""))
            let segment = try #require(variant.text.split(separator: "\n").first { $0.hasPrefix("../s/") })
            #expect(try await harness.get("/hls/\(id)/s/" + segment.dropFirst(5)).body == FixtureOrigin.segment(40))
            let seen = harness.origin.requests.filter { $0.path == "/live/high.m3u8" }
            #expect(seen.contains { $0.headers[.referer] == harness.origin.base + "site/player.html?v=2" })

            let playlist = try await harness.get("/playlist.m3u")
            #expect(playlist.text.hasPrefix("#EXTM3U\n"))
            #expect(playlist.text.contains("\(harness.pitlane.absoluteString)hls/\(id)/master.m3u8"))
            #expect(!playlist.text.contains("guarded-race"), "streams that failed validation are left out")
        }
    }

    @Test func aRestartAnswersFromTheSavedCatalogueAtOnce() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-restart-\(UUID())").path
        try await ServerHarness.run(configure: { $0.sources = Self.sources($1) }, dataDir: dataDir) { harness in
            try await Self.waitForFirstCycle(harness)
        }
        try await ServerHarness.run(configure: { $0.sources = Self.sources($1, hangTimeout: 6) }, dataDir: dataDir, expectStreams: 0) {
            harness in
            let started = ContinuousClock.now
            let streams = try Self.json(try await harness.get("/api/streams"))["streams"] as? [[String: Any]] ?? []
            #expect(ContinuousClock.now - started < .seconds(2))
            let restored = streams.first { $0["title"] as? String == "Fixture Grand Prix 2" }
            #expect(restored != nil, "known before the new cycle (held up by a 6 s source) finishes")
            #expect((restored?["health"] as? [String: Any])?["playable"] as? Bool == true)
            let sources = try Self.json(try await harness.get("/api/sources"))["sources"] as? [[String: Any]] ?? []
            #expect(sources.first { $0["id"] as? String == "site" }?["lastSuccess"] is String)
        }
    }
}
