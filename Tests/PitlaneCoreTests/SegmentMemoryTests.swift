import Foundation
import NIOCore
import Testing

@testable import PitlaneCore

/// A segment body is bounded in memory (issue 11): a slow viewer makes Pitlane read the upstream only a
/// bounded window ahead of it, and a download every viewer left is stopped.
struct SegmentMemoryTests {
    /// An upstream body of `chunks` × 64 KiB (endless when nil) that counts what was pulled from it and
    /// notices when nobody holds it any more.
    final class Generator: AsyncSequence, @unchecked Sendable {
        typealias Element = ByteBuffer
        private let lock = NSLock()
        private var pulledCount = 0
        private var releasedFlag = false
        let chunks: Int?

        init(chunks: Int?) { self.chunks = chunks }

        var pulled: Int { lock.withLock { pulledCount } }
        var released: Bool { lock.withLock { releasedFlag } }

        final class Tracker: @unchecked Sendable {
            let generator: Generator
            init(_ generator: Generator) { self.generator = generator }
            deinit { generator.lock.withLock { generator.releasedFlag = true } }
        }

        struct AsyncIterator: AsyncIteratorProtocol {
            let tracker: Tracker
            mutating func next() async throws -> ByteBuffer? {
                let generator = tracker.generator
                let count = generator.lock.withLock {
                    generator.pulledCount += 1
                    return generator.pulledCount
                }
                if let limit = generator.chunks, count > limit { return nil }
                await Task.yield()
                return ByteBuffer(repeating: UInt8(truncatingIfNeeded: count), count: 64 * 1024)
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(tracker: Tracker(self)) }
    }

    static func harness(_ generator: Generator, budget: Int = 4 * 1024 * 1024, fresh: Bool = false) async -> ProxyHarness {
        let harness = await ProxyHarness(segmentCacheBytes: budget)
        harness.upstream.setHandler { [unowned harness] request in
            guard request.url.lastPathComponent.hasPrefix("seg") else { return harness.answer(request) }
            let body = fresh ? Generator(chunks: generator.chunks) : generator
            return .init(status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t"]), stream: UpstreamBody(body))
        }
        return harness
    }

    /// Ten viewers each start a different large segment and read slowly: all the bodies together stay
    /// within the 64 MiB budget plus each reader's 2 MiB window, not ten times the 16 MiB kept whole.
    @Test func manyLargeBodiesTogetherStayWithinTheBudget() async throws {
        let harness = await Self.harness(Generator(chunks: 1600), budget: 64 * 1024 * 1024, fresh: true)
        var replies: [ProxyReply] = []
        for msn in 0..<10 {
            let handle = ResourceHandle(
                stream: harness.streamID, kind: .segment, url: "https://cdn.example.com/live/seg\(msn).ts?token=t1", variant: "v", msn: msn)
            let reply = await harness.proxy.resource(
                stream: harness.streamID, token: TestSupport.signer.sign(handle), ext: "ts", range: nil)
            try await Self.read(reply, chunks: 1)
            replies.append(reply)
        }
        try await Task.sleep(for: .milliseconds(800))
        let held = harness.proxy.segmentBytesHeld
        #expect(held <= (64 + 10 * 3) * 1024 * 1024, "\(held / 1024 / 1024) MiB held")
        _ = replies
    }

    static func read(_ reply: ProxyReply, chunks: Int, pause: Duration = .zero) async throws {
        guard case .stream(let body) = reply.body else { return }
        var iterator = body.makeAsyncIterator()
        for _ in 0..<chunks {
            guard try await iterator.next() != nil else { return }
            if pause > .zero { try await Task.sleep(for: pause) }
        }
    }

    /// A 100 MB segment and a viewer that has read 640 KiB: Pitlane has pulled a bounded window more
    /// (here at most the 1 MiB kept whole plus the 2 MiB window), not the whole segment.
    @Test func aSlowViewerMakesPitlaneReadOnlyABoundedWindowAhead() async throws {
        let generator = Generator(chunks: 1600)
        let harness = await Self.harness(generator)
        let key = try await harness.variantPath()
        let segments = try await harness.segmentTokens(key: key)
        let reply = await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: nil)
        try await Self.read(reply, chunks: 10, pause: .milliseconds(20))
        try await Task.sleep(for: .milliseconds(300))
        #expect(generator.pulled <= 10 + 16 + 32 + 8, "pulled \(generator.pulled) chunks of 64 KiB")
        _ = reply
    }

    /// Three viewers of an endless segment read a little and leave: the download stops.
    @Test func aDownloadEveryViewerLeftIsStopped() async throws {
        let generator = Generator(chunks: nil)
        let harness = await Self.harness(generator)
        let key = try await harness.variantPath()
        let segments = try await harness.segmentTokens(key: key)
        do {
            var replies: [ProxyReply] = []
            for _ in 0..<3 {
                replies.append(await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: nil))
            }
            for reply in replies { try await Self.read(reply, chunks: 5) }
        }
        let stopped = await eventually(within: .seconds(3)) { generator.released }
        #expect(stopped, "the upstream body is let go once nobody reads it")
        let pulled = generator.pulled
        try await Task.sleep(for: .milliseconds(200))
        #expect(generator.pulled == pulled, "and nothing more is pulled")
        #expect(generator.pulled < 200)
    }

    /// With `segment_cache_mb: 0` every body streams from its first chunk, before its first reader has
    /// registered: that must not read as "nobody will ever read it" (the benchmark's cache-off run got
    /// 100 502s of that).
    @Test func withNoCacheEverySegmentIsServed() async throws {
        let harness = await ProxyHarness(segmentCacheBytes: 0)
        harness.upstream.setHandler { [unowned harness] request in
            guard request.url.lastPathComponent.hasPrefix("seg") else { return harness.answer(request) }
            return .init(
                status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t"]),
                stream: UpstreamBody(ChunkedBytes(bytes: [UInt8](repeating: 0x47, count: 729_000), chunk: 16384)))
        }
        // The race, made certain: the whole body has arrived before its first reader comes.
        let body = SharedBody(keepLimit: 1 << 20, budget: ByteBudget(limit: 0))
        body.fill(from: UpstreamBody(ChunkedBytes(bytes: [UInt8](repeating: 0x47, count: 729_000), chunk: 16384)))
        #expect(await eventually { body.size == 729_000 || body.failed })
        let reader = try #require(body.reader(), "the first reader of a body that streams from its first chunk")
        #expect(try await reader.collect(upTo: 1 << 21).readableBytes == 729_000)

        let segments = try await harness.segmentTokens(key: try await harness.variantPath())
        var sizes: [Int] = []
        for _ in 0..<50 {
            let reply = await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: nil)
            guard case .stream(let body) = reply.body else {
                sizes.append(-reply.status)
                continue
            }
            sizes.append(try await body.collect(upTo: 1 << 21).readableBytes)
        }
        #expect(sizes == Array(repeating: 729_000, count: 50))
    }

    /// The only viewer of a body that streams (too large to keep whole) left: the download stops, and a
    /// viewer who joins it then gets no reader of it (the cache fetches afresh for them) instead of a body
    /// that fails at its first byte or starts mid-way.
    @Test func aViewerWhoJoinsAStoppedDownloadGetsAFetchOfItsOwn() async throws {
        let generator = Generator(chunks: nil)
        let body = SharedBody(keepLimit: 64 * 1024, window: 256 * 1024)
        body.fill(from: UpstreamBody(generator))
        var first = body.reader()
        var iterator = try #require(first).makeAsyncIterator()
        for _ in 0..<3 { _ = try await iterator.next() }
        first = nil
        iterator = UpstreamBody.empty.makeAsyncIterator()
        let stopped = await eventually(within: .seconds(5)) { generator.released }
        #expect(stopped, "the endless download stopped when its last reader left")
        #expect(body.reader() == nil)
    }

    /// Readers of a body small enough to be kept whole may leave early (a range sliced from the whole file
    /// ends before it): the download goes on, and the next reader gets every byte from memory. It once
    /// stopped, and each range of a file whose upstream ignores ranges fetched it again.
    @Test func aSmallBodyDownloadsOnWhenItsReaderLeavesEarly() async throws {
        let generator = Generator(chunks: 8)
        let body = SharedBody(keepLimit: 1 << 20)
        body.fill(from: UpstreamBody(generator))
        var first = body.reader()
        #expect(first != nil)
        first = nil
        let second = try #require(body.reader(), "the body is still whole")
        #expect(try await second.collect(upTo: 1 << 21).readableBytes == 8 * 64 * 1024)
        #expect(generator.pulled == 9, "one download")
    }
}
