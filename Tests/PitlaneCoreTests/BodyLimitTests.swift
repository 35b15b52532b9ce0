import Foundation
import NIOCore
import PitlaneCore
import Testing

/// Every segment body has a size cap and a total deadline (issue 11), and an upstream that ignores
/// `Range` costs one full fetch per URL, not one per range.
struct BodyLimitTests {
    static let megabyte = 1024 * 1024

    static func segmentHarness(
        requestTimeout: Duration = .seconds(15), limits: BodyLimits = BodyLimits(), _ reply: @escaping @Sendable () -> FakeUpstream.Reply
    ) async -> ProxyHarness {
        await HLSEngineTests.harness(requestTimeout: requestTimeout, limits: limits) { path, _ in
            path == "/live/seg100.ts" ? reply() : nil
        }
    }

    static func firstSegment(_ harness: ProxyHarness, range: String? = nil) async throws -> ProxyReply {
        let segments = try await harness.segmentTokens(key: try await harness.variantPath())
        return await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: range)
    }

    static func segmentRequests(_ harness: ProxyHarness) -> [UpstreamRequest] {
        harness.upstream.requests.filter { $0.url.path == "/live/seg100.ts" }
    }

    /// The upstream says up front that the body is over `segment_max_mb`: 502 before a byte is relayed.
    @Test func aSegmentOverTheCapByItsLengthIs502() async throws {
        var limits = BodyLimits()
        limits.segment = Self.megabyte
        let harness = await Self.segmentHarness(limits: limits) {
            .init(
                status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t", "Content-Length": String(2 * Self.megabyte)]),
                stream: UpstreamBody(ChunkedBytes(bytes: [UInt8](repeating: 0x47, count: 2 * Self.megabyte), chunk: 65536)))
        }
        let reply = try await Self.firstSegment(harness)
        #expect(reply.status == 502)
        guard case .text(let message) = reply.body else { throw HLSEngineTests.HarnessError.unexpected("a message") }
        #expect(message.contains("segment_max_mb"))
    }

    /// A body with no length that grows past the cap is cut there, and what it sent is not kept: the next
    /// viewer's request goes to the upstream again.
    @Test func aSegmentThatGrowsPastTheCapIsCutAndNotKept() async throws {
        var limits = BodyLimits()
        limits.segment = Self.megabyte
        let harness = await Self.segmentHarness(limits: limits) {
            .init(
                status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t"]),
                stream: UpstreamBody(ChunkedBytes(bytes: [UInt8](repeating: 0x47, count: 3 * Self.megabyte), chunk: 65536)))
        }
        let reply = try await Self.firstSegment(harness)
        #expect(reply.status == 200)
        guard case .stream(let body) = reply.body else { throw HLSEngineTests.HarnessError.unexpected("a body") }
        await #expect(throws: UpstreamError.bodyTooLarge(limit: Self.megabyte)) { _ = try await body.collect(upTo: 8 * Self.megabyte) }
        _ = try await Self.firstSegment(harness)
        #expect(Self.segmentRequests(harness).count == 2)
    }

    /// A segment that drips is cut at `timeout + factor × duration` (0.2 s + 0.25 × 2 s here), not held
    /// for as long as the upstream likes.
    @Test func aSegmentSlowerThanItsDeadlineIsCut() async throws {
        var limits = BodyLimits()
        limits.segmentDeadlineFactor = 0.25
        let harness = await Self.segmentHarness(requestTimeout: .milliseconds(200), limits: limits) {
            .init(
                status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t"]),
                stream: drippingBody("G", every: .milliseconds(50)))
        }
        let started = ContinuousClock.now
        let reply = try await Self.firstSegment(harness)
        guard case .stream(let body) = reply.body else { throw HLSEngineTests.HarnessError.unexpected("a body") }
        await #expect(throws: UpstreamError.tooSlow(.milliseconds(700))) { _ = try await body.collect(upTo: Self.megabyte) }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(600) && elapsed < .seconds(3), "\(elapsed)")
    }

    /// Three ranges of one segment from an upstream that answers every Range with the whole body: the
    /// first teaches Pitlane that the host ignores ranges, the second fetches the whole segment once
    /// without a Range, the third is sliced from that copy. Each player gets exactly its bytes.
    @Test func rangesOfAnUpstreamThatIgnoresThemShareOneFullFetch() async throws {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let harness = await Self.segmentHarness {
            .init(
                status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t", "Content-Length": "10000"]),
                stream: UpstreamBody(ChunkedBytes(bytes: bytes, chunk: 1500)))
        }
        for (header, first, last) in [("bytes=0-999", 0, 999), ("bytes=1000-4999", 1000, 4999), ("bytes=5000-", 5000, 9999)] {
            let reply = try await Self.firstSegment(harness, range: header)
            #expect(reply.status == 206)
            guard case .stream(let body) = reply.body else { throw HLSEngineTests.HarnessError.unexpected("a body") }
            #expect(Array(buffer: try await body.collect(upTo: 1 << 20)) == Array(bytes[first...last]), "\(header)")
        }
        let requests = Self.segmentRequests(harness)
        #expect(requests.map(\.range) == ["bytes=0-999", nil])
    }

    /// The hint is per URL, and a fair 200 (to `bytes=0-`) teaches nothing: a file on the same host that
    /// honours ranges still gets its Range.
    @Test func onlyTheURLThatIgnoredARangeLosesIt() async throws {
        let bytes = [UInt8](repeating: 7, count: 10_000)
        let harness = await HLSEngineTests.harness { path, _ in
            switch path {
            case "/live/seg100.ts":
                .init(
                    status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t", "Content-Length": "10000"]),
                    bytes: bytes)
            case "/live/seg101.ts":
                .init(
                    status: 206, body: "",
                    headers: HeaderProfile(["Content-Type": "video/mp2t", "Content-Length": "10", "Content-Range": "bytes 0-9/10000"]),
                    bytes: Array(bytes.prefix(10)))
            default: nil
            }
        }
        let segments = try await harness.segmentTokens(key: try await harness.variantPath())
        for (token, range) in [
            (segments[0], "bytes=0-"), (segments[0], "bytes=0-9"), (segments[1], "bytes=0-9"), (segments[1], "bytes=10-19"),
        ] {
            let reply = await harness.proxy.resource(stream: harness.streamID, token: token, ext: "ts", range: range)
            guard case .stream(let body) = reply.body else { throw HLSEngineTests.HarnessError.unexpected("a body") }
            _ = try await body.collect(upTo: 1 << 20)
        }
        let sent = harness.upstream.requests.filter { $0.url.path.hasPrefix("/live/seg") }.map {
            "\($0.url.lastPathComponent) \($0.range ?? "-")"
        }
        #expect(sent == ["seg100.ts bytes=0-", "seg100.ts bytes=0-9", "seg101.ts bytes=0-9", "seg101.ts bytes=10-19"])
    }

    /// A file over the cap from an upstream that ignores ranges: each player's range is judged by its own
    /// end, whoever started the shared fetch: one that ends below the cap plays, one past it (or no range)
    /// is 502 before a byte is relayed.
    @Test func eachRangeIsJudgedByItsOwnEnd() async throws {
        var limits = BodyLimits()
        limits.segment = Self.megabyte
        let bytes = (0..<(2 * Self.megabyte)).map { UInt8(truncatingIfNeeded: $0) }
        let harness = await Self.segmentHarness(limits: limits) {
            .init(
                status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t", "Content-Length": String(bytes.count)]),
                stream: UpstreamBody(ChunkedBytes(bytes: bytes, chunk: 65536)))
        }
        var statuses: [Int] = []
        for range in ["bytes=0-999", nil, "bytes=2000000-2000099", "bytes=1000-1999"] {
            let reply = try await Self.firstSegment(harness, range: range)
            statuses.append(reply.status)
            if case .stream(let body) = reply.body, let range, let wanted = ByteRange.parse(range, length: bytes.count) {
                #expect(Array(buffer: try await body.collect(upTo: 1 << 22)) == Array(bytes[wanted.first...wanted.last]))
            }
        }
        #expect(statuses == [206, 502, 502, 206])
    }

    /// Time the reader takes (a slow viewer holding the body back) is not the upstream's: only waiting for
    /// the upstream counts against the deadline.
    @Test func theDeadlineCountsOnlyTheUpstreamsTime() async throws {
        let body = UpstreamBody(ChunkedBytes(bytes: [UInt8](repeating: 1, count: 5000), chunk: 1000))
            .bounded(limit: 1 << 20, allowed: .milliseconds(200))
        var iterator = body.makeAsyncIterator()
        var chunks = 0
        while try await iterator.next() != nil {
            chunks += 1
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(chunks == 5)
        let slow = drippingBody("x", every: .milliseconds(100)).bounded(limit: 1 << 20, allowed: .milliseconds(250))
        await #expect(throws: UpstreamError.tooSlow(.milliseconds(250))) { _ = try await slow.collect(upTo: 1 << 20) }
    }

    /// The handle of a segment or part carries its duration (rounded up), from which its deadline comes.
    @Test func handlesCarryTheirDuration() async throws {
        let harness = await ProxyHarness()
        let segments = try await harness.segmentTokens(key: try await harness.variantPath())
        let handle = try TestSupport.signer.verify(segments[0], stream: harness.streamID)
        #expect(handle.duration == 2)
        let playlist = try PlaylistParser.parse(
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PART:DURATION=0.334,URI=\"p0.mp4\"\n#EXTINF:3.96,\ns0.mp4\n#EXTINF:oops,\ns1.mp4\n")
        let references = MediaPlaylistWalker.references(in: playlist)
        #expect(references.map(\.duration) == [0.334, 3.96, nil])
        #expect(ResourceHandle.wholeSeconds(3.96) == 4)
        #expect(ResourceHandle.wholeSeconds(.nan) == nil)
        #expect(ResourceHandle.wholeSeconds(-1) == nil)
    }

    @Test func theDeadlineGrowsWithTheDuration() {
        let limits = BodyLimits()
        #expect(limits.segmentDeadline(timeout: .seconds(15), duration: 6) == .seconds(39))
        #expect(limits.segmentDeadline(timeout: .seconds(15), duration: nil) == .seconds(55))
        #expect(limits.segmentDeadline(timeout: .seconds(15), duration: 1e300) == .seconds(15 + 4 * 3600))
    }
}
