import Foundation
import PitlaneCore
import Testing

/// Pitlane and a fixture origin on loopback, spoken to over real HTTP.
@Suite(.serialized)
struct ProxyIntegrationTests {
    /// Master → variant → segment, returning the segment paths of the named variant (by resolution).
    static func segmentPaths(_ harness: ServerHarness, stream: String, resolution: String = "1280x720") async throws -> [String] {
        let master = try await harness.get("/hls/\(stream)/master.m3u8")
        #expect(master.status == 200)
        #expect(master.header("Content-Type") == "application/vnd.apple.mpegurl")
        let lines = master.text.split(separator: "\n").map(String.init)
        let info = try #require(lines.firstIndex { $0.contains("RESOLUTION=\(resolution)") })
        let variant = try await harness.get("/hls/\(stream)/\(lines[info + 1])")
        #expect(variant.status == 200)
        return variant.text.split(separator: "\n").filter { $0.hasPrefix("../s/") }.map { "/hls/\(stream)/s/" + $0.dropFirst(5) }
    }

    @Test func playsByteExactWithTheHeaderProfileAndNoUpstreamURLs() async throws {
        try await ServerHarness.run { harness in
            let list = try await harness.get("/api/streams")
            #expect(list.text.contains("\"playlist\":\"/hls/fixture-race/master.m3u8\""))
            let master = try await harness.get("/hls/fixture-race/master.m3u8")
            #expect(!master.text.contains("127.0.0.1") && !master.text.contains("token="))

            let segments = try await Self.segmentPaths(harness, stream: "fixture-race")
            #expect(segments.count == 2 && segments.allSatisfy { $0.hasSuffix(".ts") })
            let segment = try await harness.get(segments[0])
            #expect(segment.status == 200)
            #expect(segment.body == FixtureOrigin.segment(40))
            #expect(segment.header("Content-Type") == "video/mp2t")

            let disguised = try await Self.segmentPaths(harness, stream: "fixture-race", resolution: "640x360")
            #expect(disguised.allSatisfy { $0.hasSuffix(".ts") }, "segments served as .png still get a media extension")
            let png = try await harness.get(disguised[1])
            #expect(png.body == FixtureOrigin.segment(41))
            #expect(png.header("Content-Type") == "video/mp2t")

            let fetched = harness.origin.requests.filter { $0.path.hasPrefix("/live/") }
            #expect(!fetched.isEmpty)
            #expect(fetched.allSatisfy { $0.headers[.referer] == FixtureOrigin.referer })
        }
    }

    @Test func twentyViewersCostTheOriginOneRequestPerSegmentAndPlaylist() async throws {
        try await ServerHarness.run { harness in
            let segments = try await Self.segmentPaths(harness, stream: "fixture-race")
            let playlistsBefore = harness.origin.requests.filter { $0.path == "/live/high.m3u8" }.count
            let bodies = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for _ in 0..<20 { group.addTask { try await harness.get(segments[1]).body } }
                return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
            }
            #expect(bodies.count == 20 && bodies.allSatisfy { $0 == FixtureOrigin.segment(41) })
            #expect(harness.origin.requests.filter { $0.path == "/live/seg41.ts" }.count == 1)
            let master = try await harness.get("/hls/fixture-race/master.m3u8").text
            let variant = try #require(master.split(separator: "\n").last.map(String.init))
            // The playlist fetched above is still cached: move past its lifetime so the 20 viewers need a
            // fresh one, which they must share.
            harness.clock.advance(by: 10)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await harness.get("/hls/fixture-race/\(variant)").status } }
                for try await status in group { #expect(status == 200) }
            }
            #expect(harness.origin.requests.filter { $0.path == "/live/high.m3u8" }.count - playlistsBefore == 1)
        }
    }

    @Test func forwardsRangeAndPasses206Through() async throws {
        try await ServerHarness.run { harness in
            let segments = try await Self.segmentPaths(harness, stream: "fixture-race")
            let partial = try await harness.get(segments[0], headers: [("Range", "bytes=100-299")])
            #expect(partial.status == 206)
            #expect(partial.body == Array(FixtureOrigin.segment(40)[100...299]))
            #expect(partial.header("Content-Range") == "bytes 100-299/262144")
        }
    }

    @Test func aTamperedHandleIs403WithoutAnUpstreamRequest() async throws {
        try await ServerHarness.run { harness in
            let segments = try await Self.segmentPaths(harness, stream: "fixture-race")
            let live = { harness.origin.requests.filter { $0.path.hasPrefix("/live/") }.count }
            let before = live()
            var tampered = Array(segments[0])
            let position = tampered.count / 2
            tampered[position] = tampered[position] == "A" ? "B" : "A"
            #expect(try await harness.get(String(tampered)).status == 403)
            #expect(try await harness.get("/hls/fixture-race/s/unsigned.ts").status == 403)
            #expect(try await harness.get(segments[0].replacingOccurrences(of: "fixture-race", with: "redirected-race")).status == 403)
            #expect(live() == before)
        }
    }

    @Test func aTokenThatDiesMidStreamIsRefreshedAndTheClientGets200() async throws {
        try await ServerHarness.run { harness in
            let segments = try await Self.segmentPaths(harness, stream: "fixture-race")
            harness.origin.currentToken = "t2"
            let segment = try await harness.get(segments[1])
            #expect(segment.status == 200)
            #expect(segment.body == FixtureOrigin.segment(41))
            #expect(harness.origin.requests.contains { $0.path == "/live/seg41.ts" && $0.query == "token=t2" })
            let state = try await harness.get("/api/streams/fixture-race")
            #expect(state.text.contains("\"count\":1"))
            #expect(state.text.contains("\"active\":true"))
            #expect(state.text.contains("\"lastError\":null"))
            // And the next playlist already carries the fresh token: no second 403 round trip.
            let rejectedBefore = harness.origin.requests.filter { $0.query == "token=t1" }.count
            _ = try await Self.segmentPaths(harness, stream: "fixture-race")
            #expect(harness.origin.requests.filter { $0.query == "token=t1" }.count == rejectedBefore)
        }
    }

    @Test func followsRedirectsAndResolvesAgainstTheFinalURL() async throws {
        try await ServerHarness.run { harness in
            let segments = try await Self.segmentPaths(harness, stream: "redirected-race")
            #expect(try await harness.get(segments[0]).body == FixtureOrigin.segment(40))
            #expect(harness.origin.requests.contains { $0.path == "/live/high.m3u8" })
        }
    }

    @Test func refusesPrivateAddressesUnlessTheSourceAllowsThem() async throws {
        try await ServerHarness.run { harness in
            let before = harness.origin.requests.count
            let reply = try await harness.get("/hls/guarded-race/master.m3u8")
            #expect(reply.status == 502)
            #expect(reply.text.contains("refused to connect to 127.0.0.1"))
            #expect(harness.origin.requests.count == before)
        }
    }

    @Test func aBodyThatIsNotAPlaylistIs502WithTheReason() async throws {
        try await ServerHarness.run { harness in
            let reply = try await harness.get("/hls/html-race/master.m3u8")
            #expect(reply.status == 502)
            #expect(reply.text.contains("not a playlist"))
            #expect(try await harness.get("/hls/nope/master.m3u8").status == 404)
        }
    }

    @Test func theDemoOriginServesLiveHLSWhoseTokensExpire() async throws {
        try await ServerHarness.run { harness in
            let list = try await harness.get("/api/streams")
            for title in ["World feed", "Onboard A", "Onboard B", "Pit lane"] { #expect(list.text.contains("\"title\":\"\(title)\"")) }
            let segments = try await Self.segmentPaths(harness, stream: "demo-world", resolution: "640x360")
            #expect(segments.count == 6)
            let segment = try await harness.get(segments[5])
            #expect(segment.status == 200)
            #expect(segment.body.first == 0x47, "an MPEG-TS sync byte")

            let record = try #require(await harness.app.catalog.record("demo-world"))
            let direct = record.descriptor.upstream.absoluteString
            #expect(try await harness.get(direct).status == 200)
            harness.clock.advance(by: 31)
            #expect(try await harness.get(direct).status == 403)
            // Through Pitlane the same moment plays on: the known expiry triggers a refresh first.
            #expect(try await harness.get("/hls/demo-world/master.m3u8").status == 200)
        }
    }

    @Test func healthAndIndexAnswer() async throws {
        try await ServerHarness.run { harness in
            let health = try await harness.get("/healthz")
            #expect(health.status == 200 && health.text.contains("\"status\":\"ok\""))
            let index = try await harness.get("/")
            #expect(index.status == 200 && index.text.contains("<title>Calendar · Pitlane</title>"))
            let script = try await harness.get("/app/js/watch.js")
            #expect(script.status == 200 && script.header("Content-Type") == "text/javascript; charset=utf-8")
            #expect(try await harness.get("/watch").text.contains("/app/js/watch.js"))
            #expect(try await harness.get("/app/../Package.swift").status == 404)
            #expect(try await harness.get("/app/nope.js").status == 404)
            let head = try await harness.send(.HEAD, "/hls/demo-world/master.m3u8")
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(head.header("Content-Type") == "application/vnd.apple.mpegurl")
            let unchanged = try await harness.post("/api/streams/demo-world/refresh")
            #expect(unchanged.status == 200 && unchanged.text.contains("\"count\":0"), "the same token is not a refresh")
            harness.clock.advance(by: 5)
            let refresh = try await harness.post("/api/streams/demo-world/refresh")
            #expect(refresh.status == 200 && refresh.text.contains("\"count\":1"), "\(refresh.text)")
            #expect(refresh.text.contains("\"failures\":0") && refresh.text.contains("\"nextRefresh\":\"20"))
            #expect(refresh.text.contains("\"runTime\":0"))
        }
    }
}
