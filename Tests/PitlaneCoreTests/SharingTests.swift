import Foundation
import PitlaneCore
import Testing

/// N viewers of one stream cost the upstream one fetch: playlists per period, segments once.
struct SharingTests {
    @Test func twentyViewersOfOneSegmentCauseOneUpstreamRequest() async throws {
        let harness = await ProxyHarness()
        let key = try await harness.variantPath()
        let segment = try #require(try await harness.segmentTokens(key: key).first)
        harness.upstream.latency = .milliseconds(50)
        let before = harness.upstream.paths().filter { $0.hasSuffix(".ts") }.count
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await ProxyHarness.text(harness.proxy.resource(stream: harness.streamID, token: segment, ext: "ts", range: nil))
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(bodies.count == 20 && Set(bodies) == ["BYTES-seg100.ts"])
        #expect(harness.upstream.paths().filter { $0.hasSuffix(".ts") }.count - before == 1)
        // A viewer a little behind reads it from memory.
        _ = try await ProxyHarness.text(harness.proxy.resource(stream: harness.streamID, token: segment, ext: "ts", range: nil))
        #expect(harness.upstream.paths().filter { $0.hasSuffix(".ts") }.count - before == 1)
        // A different byte range is a different object.
        _ = try await ProxyHarness.text(harness.proxy.resource(stream: harness.streamID, token: segment, ext: "ts", range: "bytes=0-1"))
        #expect(harness.upstream.paths().filter { $0.hasSuffix(".ts") }.count - before == 2)
    }

    @Test func twentyViewersShareOnePlaylistFetchPerPeriod() async throws {
        let harness = await ProxyHarness()
        let key = try await harness.variantPath()
        harness.clock.advance(by: 5)
        harness.upstream.latency = .milliseconds(50)
        let before = harness.upstream.paths().filter { $0.hasSuffix("720.m3u8") }.count
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { await harness.proxy.variant(stream: harness.streamID, key: key).status } }
            for await status in group { #expect(status == 200) }
        }
        #expect(harness.upstream.paths().filter { $0.hasSuffix("720.m3u8") }.count - before == 1)
        harness.clock.advance(by: 0.9)  // target duration 2 s: shared for 1 s
        _ = await harness.proxy.variant(stream: harness.streamID, key: key)
        #expect(harness.upstream.paths().filter { $0.hasSuffix("720.m3u8") }.count - before == 1)
        harness.clock.advance(by: 0.2)
        _ = await harness.proxy.variant(stream: harness.streamID, key: key)
        #expect(harness.upstream.paths().filter { $0.hasSuffix("720.m3u8") }.count - before == 2)
    }

    @Test func rejectionsAreNotShared() async throws {
        let harness = await ProxyHarness(policy: RefreshPolicy(minSpacing: 0, holdTimeout: 1))
        let key = try await harness.variantPath()
        let stale = try await harness.segmentTokens(key: key)
        harness.token = "t2"  // the origin moved on; the extractor still hands out t1: 503
        #expect(await harness.proxy.resource(stream: harness.streamID, token: stale[0], ext: "ts", range: nil).status == 503)
        harness.token = "t1"  // and back: the earlier 403 must not be served from a cache
        #expect(await harness.proxy.resource(stream: harness.streamID, token: stale[0], ext: "ts", range: nil).status == 200)
    }

    @Test func theSegmentCacheIsBoundedInBytes() async throws {
        let harness = await ProxyHarness(segmentCacheBytes: 40)
        let key = try await harness.variantPath()
        let segments = try await harness.segmentTokens(key: key)
        func fetch(_ token: String) async throws {
            _ = try await ProxyHarness.text(harness.proxy.resource(stream: harness.streamID, token: token, ext: "ts", range: nil))
        }
        func count() -> Int { harness.upstream.paths().filter { $0.hasSuffix(".ts") }.count }
        try await fetch(segments[0])
        try await fetch(segments[1])  // 2 × 15 bytes fit in 40
        try await fetch(segments[0])
        #expect(count() == 2)
        let tiny = await ProxyHarness(segmentCacheBytes: 20)
        let tinyKey = try await tiny.variantPath()
        let tinySegments = try await tiny.segmentTokens(key: tinyKey)
        for token in [tinySegments[0], tinySegments[1], tinySegments[0]] {
            _ = try await ProxyHarness.text(tiny.proxy.resource(stream: tiny.streamID, token: token, ext: "ts", range: nil))
        }
        #expect(tiny.upstream.paths().filter { $0.hasSuffix(".ts") }.count == 3, "the first segment was evicted to fit the second")
    }
}
