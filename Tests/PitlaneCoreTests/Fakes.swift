import Foundation
import NIOCore
import PitlaneCore

/// An in-memory upstream: routes answer by path, every request is recorded.
final class FakeUpstream: UpstreamClient, @unchecked Sendable {
    struct Reply: Sendable {
        var status: Int
        var body: String
        var headers: HeaderProfile = .init()
        var finalURL: URL? = nil
        /// A body that is not text (segments); `body` is sent when nil.
        var bytes: [UInt8]? = nil
        /// A body that arrives as it likes (slow, endless); wins over the other two.
        var stream: UpstreamBody? = nil
    }

    private let lock = NSLock()
    private var handler: @Sendable (UpstreamRequest) throws -> Reply
    private var log: [UpstreamRequest] = []
    /// Time to the response head, so concurrent requests overlap.
    var latency: Duration = .zero

    init(_ handler: @escaping @Sendable (UpstreamRequest) throws -> Reply) {
        self.handler = handler
    }

    /// Every request so far, read under the lock (requests arrive from concurrent tasks).
    var requests: [UpstreamRequest] { lock.withLock { log } }

    var requestCount: Int { lock.withLock { log.count } }

    func paths() -> [String] { lock.withLock { log.map(\.url.path) } }

    func setHandler(_ handler: @escaping @Sendable (UpstreamRequest) throws -> Reply) {
        lock.withLock { self.handler = handler }
    }

    func send(_ request: UpstreamRequest) async throws -> UpstreamResponse {
        let handler = lock.withLock {
            log.append(request)
            return self.handler
        }
        if latency > .zero { try await Task.sleep(for: latency) }
        let reply = try handler(request)
        return UpstreamResponse(
            status: reply.status, url: reply.finalURL ?? request.url, headers: reply.headers,
            body: reply.stream ?? UpstreamBody(bytes: reply.bytes ?? Array(reply.body.utf8)))
    }
}

/// An extractor whose results the test sets, counting its runs.
final class FakeExtractor: Extractor, @unchecked Sendable {
    private let lock = NSLock()
    private var results: Result<[Candidate], Error>
    private var runs = 0
    private var pause: Duration = .zero
    private var stallFor: Duration = .zero
    private var onRun: @Sendable () -> Void = {}

    /// A `Task.sleep` before answering (cancellable, as well-behaved code is).
    var delay: Duration {
        get { lock.withLock { pause } }
        set { lock.withLock { pause = newValue } }
    }

    /// A wait before answering that ignores cancellation, as a blocking library call does.
    var stall: Duration {
        get { lock.withLock { stallFor } }
        set { lock.withLock { stallFor = newValue } }
    }

    /// Called at the start of every run (a test advances its clock here to give the run a duration).
    func whenRun(_ action: @escaping @Sendable () -> Void) { lock.withLock { onRun = action } }

    init(_ candidates: [Candidate]) {
        results = .success(candidates)
    }

    var runCount: Int { lock.withLock { runs } }

    func set(_ candidates: [Candidate]) { lock.withLock { results = .success(candidates) } }
    func fail(_ error: Error) { lock.withLock { results = .failure(error) } }

    func extract(_ context: ExtractionContext) async throws -> [Candidate] {
        let (result, delay, stall, onRun) = lock.withLock {
            runs += 1
            return (results, pause, stallFor, self.onRun)
        }
        onRun()
        if delay > .zero { try await Task.sleep(for: delay) }
        if stall > .zero { await uncancellableWait(stall) }
        return try result.get()
    }
}

struct FakeError: Error, CustomStringConvertible {
    var description: String { "the site is down" }
}

/// Waits without looking at cancellation, the way a blocking call does, but without holding a thread.
func uncancellableWait(_ duration: Duration) async {
    let nanoseconds = Int(duration / .nanoseconds(1))
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { continuation.resume() }
    }
}

/// Polls `condition` every 20 ms until it holds or `limit` passes; tells whether it held.
func eventually(within limit: Duration = .seconds(5), _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// A body that sends `first` and then one byte every `interval`, forever: the hostile upstream that drips.
func drippingBody(_ first: String, every interval: Duration) -> UpstreamBody {
    let stream = AsyncStream<ByteBuffer> { continuation in
        let task = Task {
            continuation.yield(ByteBuffer(string: first))
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                continuation.yield(ByteBuffer(string: "#"))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
    }
    return UpstreamBody(stream)
}
