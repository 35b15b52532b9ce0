import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// A response body read once from the upstream and handed to any number of readers, each from the first
/// byte, as the bytes arrive: viewers who ask while it downloads join the download instead of starting
/// another, and viewers slightly behind read it from memory.
final class SharedBody: Sendable {
    private struct State {
        var chunks: [ByteBuffer] = []
        var size = 0
        var finished = false
        var failure: (any Error)?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    var size: Int { state.withLockedValue { $0.size } }
    var failed: Bool { state.withLockedValue { $0.failure != nil } }

    /// Reads `upstream` to the end in its own task (a reader that goes away does not stop the others).
    func fill(from upstream: UpstreamBody) {
        Task {
            do {
                for try await chunk in upstream { append(chunk) }
                finish(nil)
            } catch {
                finish(error)
            }
        }
    }

    func append(_ chunk: ByteBuffer) {
        let waiters = state.withLockedValue { state in
            state.chunks.append(chunk)
            state.size += chunk.readableBytes
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func finish(_ failure: (any Error)?) {
        let waiters = state.withLockedValue { state in
            state.finished = true
            state.failure = failure
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    enum Next {
        case chunk(ByteBuffer)
        case end
        case failed(any Error)
        case wait
    }

    private func next(at index: Int) -> Next {
        state.withLockedValue { state in
            if index < state.chunks.count { return .chunk(state.chunks[index]) }
            if state.finished { return state.failure.map { .failed($0) } ?? .end }
            return .wait
        }
    }

    private func waitForMore(after index: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLockedValue { state -> Bool in
                if index < state.chunks.count || state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// A reader from the first byte.
    func reader() -> UpstreamBody {
        UpstreamBody(SharedBodySequence(body: self))
    }

    struct SharedBodySequence: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let body: SharedBody

        func makeAsyncIterator() -> Iterator { Iterator(body: body) }

        struct Iterator: AsyncIteratorProtocol {
            let body: SharedBody
            var index = 0

            mutating func next() async throws -> ByteBuffer? {
                while true {
                    switch body.next(at: index) {
                    case .chunk(let chunk):
                        index += 1
                        return chunk
                    case .end:
                        return nil
                    case .failed(let error):
                        throw error
                    case .wait:
                        await body.waitForMore(after: index)
                    }
                }
            }
        }
    }
}

/// Single-flight segment fetches with a bounded, short-lived, least-recently-used byte cache: one upstream
/// request per segment however many viewers watch, and no wasted prefetch.
actor SegmentCache {
    struct Shared: Sendable {
        var status: Int
        var url: URL
        var headers: HeaderProfile
        var body: SharedBody
        var storedAt: Date
    }

    private var entries: [String: Shared] = [:]
    private var order: [String] = []
    private var inFlight: [String: Task<Result<Shared, Error>, Never>] = [:]
    private let clock: any WallClock
    let byteLimit: Int
    let lifetime: TimeInterval

    init(clock: any WallClock, byteLimit: Int = 64 * 1024 * 1024, lifetime: TimeInterval = 30) {
        self.clock = clock
        self.byteLimit = byteLimit
        self.lifetime = lifetime
    }

    /// The shared response for `key`; `load` runs only when no fresh entry or fetch exists. Only 200 and
    /// 206 answers are shared beyond the callers already waiting.
    func response(for key: String, load: @escaping @Sendable () async throws -> UpstreamResponse) async throws -> UpstreamResponse {
        evict()  // bodies grow while they download, so the bytes are counted again at every request
        if let entry = entries[key], clock.now().timeIntervalSince(entry.storedAt) < lifetime, !entry.body.failed {
            touch(key)
            return Self.response(entry)
        }
        if let running = inFlight[key] { return Self.response(try await running.value.get()) }
        let now = clock.now()
        let task = Task<Result<Shared, Error>, Never> {
            do {
                let response = try await load()
                let body = SharedBody()
                body.fill(from: response.body)
                return .success(Shared(status: response.status, url: response.url, headers: response.headers, body: body, storedAt: now))
            } catch {
                return .failure(error)
            }
        }
        inFlight[key] = task
        let result = await task.value
        inFlight[key] = nil
        let shared = try result.get()
        if shared.status == 200 || shared.status == 206 {
            entries[key] = shared
            touch(key)
            evict()
        }
        return Self.response(shared)
    }

    private static func response(_ shared: Shared) -> UpstreamResponse {
        UpstreamResponse(status: shared.status, url: shared.url, headers: shared.headers, body: shared.body.reader())
    }

    private func touch(_ key: String) {
        order.removeAll { $0 == key }
        order.append(key)
    }

    /// Drops expired entries, then the least recently used until the bytes fit.
    private func evict() {
        let now = clock.now()
        for (key, entry) in entries where now.timeIntervalSince(entry.storedAt) >= lifetime {
            entries[key] = nil
            order.removeAll { $0 == key }
        }
        var total = entries.values.reduce(0) { $0 + $1.body.size }
        while total > byteLimit, let oldest = order.first {
            total -= entries[oldest]?.body.size ?? 0
            entries[oldest] = nil
            order.removeFirst()
        }
    }
}
