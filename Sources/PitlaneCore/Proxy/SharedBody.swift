import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// A response body read once from the upstream and handed to any number of readers, each from the first
/// byte, as the bytes arrive: viewers who ask while it downloads join the download instead of starting
/// another, and viewers slightly behind read it from memory.
///
/// Bounded (issue 11): a body is kept whole only up to `keepLimit`. Past that it is *streaming*: chunks
/// every reader has passed are dropped, the download waits while the slowest reader is more than `window`
/// behind (back-pressure, so a slow viewer never makes Pitlane hold a whole 100 MB segment), and it is
/// never handed to a new reader. When the last reader goes away before the end, the download is cancelled:
/// nobody reads it and it will not be kept, so its connection goes back to the pool.
final class SharedBody: Sendable {
    private struct State {
        var chunks: [ByteBuffer] = []
        /// The overall index of `chunks[0]` (chunks before it were dropped).
        var base = 0
        var kept = 0
        var downloaded = 0
        var finished = false
        var failure: (any Error)?
        /// Every reader left before the end and the download was stopped: nobody can read it from here.
        var abandoned = false
        var streaming = false
        /// Counted by the budget as evictable: complete, kept whole, nobody needs it but the cache.
        var evictable = false
        var readers: [ObjectIdentifier: Int] = [:]
        /// Until the first reader comes (it is handed out right after the response head), nothing is
        /// dropped: the chunks that arrive before it are its first bytes.
        var hadReader = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var fillWaiter: CheckedContinuation<Void, Never>?
        var fill: Task<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())
    let keepLimit: Int
    let window: Int
    let budget: ByteBudget

    init(keepLimit: Int = 16 * 1024 * 1024, window: Int = 2 * 1024 * 1024, budget: ByteBudget = ByteBudget(limit: .max)) {
        self.keepLimit = keepLimit
        self.window = window
        self.budget = budget
    }

    deinit {
        let (kept, evictable) = state.withLockedValue { ($0.kept, $0.evictable) }
        if evictable { budget.unmarkEvictable(kept) }
        budget.release(kept)
    }

    /// Keeps no more than the readers still need: for a body the cache let go, or when all bodies together
    /// are over the budget.
    func stopKeeping() {
        let freed = state.withLockedValue { state -> Int in
            if state.evictable { budget.unmarkEvictable(state.kept) }
            state.evictable = false
            state.streaming = true
            let before = state.kept
            Self.trim(&state)
            return before - state.kept
        }
        budget.release(freed)
    }

    /// The bytes this body holds in memory right now (what the cache's budget counts).
    var size: Int { state.withLockedValue { $0.kept } }
    var failed: Bool { state.withLockedValue { $0.failure != nil } }
    /// Whether a new reader can still get every byte from the first one.
    var isWhole: Bool { state.withLockedValue { !$0.streaming && $0.failure == nil } }

    /// Reads `upstream` in its own task (a reader that goes away does not stop the others).
    func fill(from upstream: UpstreamBody) {
        let task = Task {
            do {
                for try await chunk in upstream {
                    try Task.checkCancellation()
                    append(chunk)
                    if neverRead() { throw CancellationError() }
                    await waitWhileFarAhead()
                }
                finish(nil)
            } catch {
                finish(error)
            }
        }
        state.withLockedValue { $0.fill = task }
    }

    func append(_ chunk: ByteBuffer) {
        // Over the budget even if the cache dropped every complete body it keeps: this one cannot be kept.
        let noRoom = budget.take(chunk.readableBytes)
        let (waiters, freed) = state.withLockedValue { state -> ([CheckedContinuation<Void, Never>], Int) in
            guard state.failure == nil else { return ([], chunk.readableBytes) }  // abandoned: nobody gets it
            state.chunks.append(chunk)
            state.kept += chunk.readableBytes
            state.downloaded += chunk.readableBytes
            if state.downloaded > keepLimit || noRoom { state.streaming = true }
            let before = state.kept
            Self.trim(&state)
            defer { state.waiters.removeAll() }
            return (state.waiters, before - state.kept)
        }
        budget.release(freed)
        for waiter in waiters { waiter.resume() }
    }

    func finish(_ failure: (any Error)?) {
        let (waiters, filler) = state.withLockedValue { state in
            state.finished = true
            state.failure = state.failure ?? failure
            state.evictable = !state.streaming && state.failure == nil
            if state.evictable { budget.markEvictable(state.kept) }  // under the body's lock: no race with stopKeeping
            defer {
                state.waiters.removeAll()
                state.fillWaiter = nil
            }
            return (state.waiters, state.fillWaiter)
        }
        for waiter in waiters { waiter.resume() }
        filler?.resume()
    }

    /// Drops the chunks every reader has passed, once the body is streaming.
    private static func trim(_ state: inout State) {
        guard state.streaming, state.hadReader else { return }
        let slowest = state.readers.values.min() ?? (state.base + state.chunks.count)
        let droppable = min(max(0, slowest - state.base), state.chunks.count)
        guard droppable > 0 else { return }
        state.kept -= state.chunks[0..<droppable].reduce(0) { $0 + $1.readableBytes }
        state.chunks.removeFirst(droppable)
        state.base += droppable
    }

    /// No reader ever came, or every reader left while the body was small enough to be kept whole, and
    /// now more arrived than is ever kept whole or held for a reader: nothing holds the download back and
    /// nobody will read it. (Only past that: a body streams from its first chunk when there is no room, and
    /// its first reader registers a moment after the download starts.)
    private func neverRead() -> Bool {
        let unread = state.withLockedValue { state -> Bool in
            guard state.streaming, !state.hadReader || state.readers.isEmpty, state.downloaded > max(keepLimit, window) else {
                return false
            }
            state.abandoned = true
            return true
        }
        return unread
    }

    /// Back-pressure: while streaming, the download waits until the slowest reader is within `window`.
    private func waitWhileFarAhead() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLockedValue { state -> Bool in
                guard state.streaming, !state.finished, state.kept > window, !state.readers.isEmpty else { return true }
                state.fillWaiter = continuation
                return false
            }
            if proceed { continuation.resume() }
        }
    }

    /// Registers a reader at the first byte; false once chunks were dropped (it would start mid-body) or
    /// the download was stopped because its readers left (a viewer who joined just then fetches afresh).
    fileprivate func register(_ reader: ObjectIdentifier) -> Bool {
        state.withLockedValue { state in
            guard state.base == 0, !state.abandoned else { return false }
            state.readers[reader] = 0
            state.hadReader = true
            return true
        }
    }

    /// A reader went away: when it was the last and the body is not complete, nobody will read the rest.
    fileprivate func unregister(_ reader: ObjectIdentifier) {
        let (cancel, filler) = state.withLockedValue { state -> (Task<Void, Never>?, CheckedContinuation<Void, Never>?) in
            state.readers[reader] = nil
            let before = state.kept
            Self.trim(&state)
            // A body still small enough to be kept whole downloads on: the next reader (another range of a
            // file sliced for every range, another viewer) gets it from memory. One that streams goes now.
            let abandoned = state.readers.isEmpty && !state.finished && state.streaming
            if abandoned {
                // Nobody reads it and nobody will: its bytes go now, not when the cache gets to it.
                state.failure = state.failure ?? CancellationError()
                state.abandoned = true
                state.chunks.removeAll()
                state.kept = 0
            }
            budget.release(before - state.kept)
            defer { state.fillWaiter = nil }
            return (abandoned ? state.fill : nil, state.fillWaiter)
        }
        cancel?.cancel()
        filler?.resume()
    }

    enum Next {
        case chunk(ByteBuffer)
        case end
        case failed(any Error)
        case wait
    }

    private func next(_ reader: ObjectIdentifier) -> (Next, CheckedContinuation<Void, Never>?) {
        state.withLockedValue { state in
            let index = state.readers[reader] ?? state.base
            if index < state.base { return (.failed(UpstreamError.connection("the shared body moved on")), nil) }
            if index - state.base < state.chunks.count {
                let chunk = state.chunks[index - state.base]
                state.readers[reader] = index + 1
                let before = state.kept
                Self.trim(&state)
                budget.release(before - state.kept)
                let filler = state.kept <= window ? state.fillWaiter : nil
                if filler != nil { state.fillWaiter = nil }
                return (.chunk(chunk), filler)
            }
            if state.finished { return (state.failure.map { .failed($0) } ?? .end, nil) }
            return (.wait, nil)
        }
    }

    private func waitForMore(_ reader: ObjectIdentifier) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLockedValue { state -> Bool in
                let index = state.readers[reader] ?? state.base
                if index - state.base < state.chunks.count || state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// A reader from the first byte, or nil when the body has dropped its beginning (it streams): the
    /// caller then fetches the resource afresh rather than hand a player bytes from the middle.
    func reader() -> UpstreamBody? {
        guard let token = ReaderToken(body: self) else { return nil }
        return UpstreamBody(SharedBodySequence(token: token))
    }

    /// One reader's place in the body; when the reader's body is dropped (the viewer left), so is its place.
    final class ReaderToken: Sendable {
        let body: SharedBody

        init?(body: SharedBody) {
            self.body = body
            guard body.register(ObjectIdentifier(self)) else { return nil }
        }

        deinit { body.unregister(ObjectIdentifier(self)) }

        func next() async throws -> ByteBuffer? {
            while true {
                let (next, filler) = body.next(ObjectIdentifier(self))
                filler?.resume()
                switch next {
                case .chunk(let chunk): return chunk
                case .end: return nil
                case .failed(let error): throw error
                case .wait: await body.waitForMore(ObjectIdentifier(self))
                }
            }
        }
    }

    struct SharedBodySequence: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let token: ReaderToken

        func makeAsyncIterator() -> Iterator { Iterator(token: token) }

        struct Iterator: AsyncIteratorProtocol {
            let token: ReaderToken
            mutating func next() async throws -> ByteBuffer? { try await token.next() }
        }
    }
}

/// The bytes all shared bodies hold together, against the segment cache's budget (`segment_cache_mb`):
/// bytes still downloading count as much as bytes kept.
/// Going over it asks the cache to evict (once at a time), even while no viewer makes a request.
final class ByteBudget: Sendable {
    private struct State {
        var used = 0
        /// Of `used`, the bytes of complete bodies the cache keeps whole and could drop.
        var evictable = 0
        var evicting = false
        var onOver: (@Sendable () -> Void)?
    }

    private let state = NIOLockedValueBox(State())
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    var current: Int { state.withLockedValue { $0.used } }

    /// What to run when the total goes over the limit (the cache's eviction).
    func whenOver(_ action: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.onOver = action }
    }

    /// The eviction asked for has run. While the total is still over (bodies being read hold their
    /// windows, which no eviction frees), no new one is asked for until it is back under the limit;
    /// requests still evict as they come.
    func evicted() {
        state.withLockedValue { $0.evicting = $0.used > limit }
    }

    var evictableBytes: Int { state.withLockedValue { $0.evictable } }

    /// Counts `bytes` and asks for eviction when over the limit; tells whether there is no room even if
    /// every evictable body went.
    @discardableResult
    func take(_ bytes: Int) -> Bool {
        let (action, noRoom) = state.withLockedValue { state -> ((@Sendable () -> Void)?, Bool) in
            state.used += bytes
            let noRoom = state.used - state.evictable > limit
            guard state.used > limit, !state.evicting, let action = state.onOver else { return (nil, noRoom) }
            state.evicting = true
            return (action, noRoom)
        }
        action?()
        return noRoom
    }

    func markEvictable(_ bytes: Int) {
        guard bytes != 0 else { return }
        state.withLockedValue { $0.evictable += bytes }
    }

    func unmarkEvictable(_ bytes: Int) {
        guard bytes != 0 else { return }
        state.withLockedValue { $0.evictable = max(0, $0.evictable - bytes) }
    }

    func release(_ bytes: Int) {
        guard bytes != 0 else { return }
        state.withLockedValue { state in
            state.used = max(0, state.used - bytes)
            if state.used <= limit { state.evicting = false }
        }
    }
}

/// Single-flight segment fetches with a bounded, short-lived, least-recently-used byte cache: one upstream
/// request per segment however many viewers watch, and no wasted prefetch.
final class SegmentCache: Sendable {
    struct Shared: Sendable {
        var status: Int
        var url: URL
        var headers: HeaderProfile
        var body: SharedBody
    }

    typealias Loaded = Result<Shared, any Error>

    private let flights: SingleFlight<String, Loaded>
    private let clock: any WallClock
    let byteLimit: Int
    let lifetime: TimeInterval
    let budget: ByteBudget

    /// The largest body kept whole for later viewers: a quarter of the budget, at most 16 MiB.
    var keepLimit: Int { max(1024 * 1024, min(16 * 1024 * 1024, byteLimit / 4)) }

    init(clock: any WallClock, byteLimit: Int = 64 * 1024 * 1024, lifetime: TimeInterval = 30, metrics: PitlaneMetrics = .off) {
        self.clock = clock
        self.byteLimit = byteLimit
        self.lifetime = lifetime
        let budget = ByteBudget(limit: byteLimit)
        self.budget = budget
        var rules = SingleFlight<String, Loaded>.Rules()
        // Only 200 and 206 answers are shared beyond the callers already waiting.
        rules.lifetime = { loaded in
            guard case .success(let shared) = loaded, shared.status == 200 || shared.status == 206 else { return 0 }
            return lifetime
        }
        rules.usable = { loaded in (try? loaded.get())?.body.isWhole ?? false }
        rules.cost = { loaded in (try? loaded.get())?.body.size ?? 0 }
        // Bytes still downloading count too (the budget holds them all); only complete bodies can be freed.
        rules.overBudget = { _ in budget.current > byteLimit && budget.evictableBytes > 0 }
        rules.released = { loaded in (try? loaded.get())?.body.stopKeeping() }
        rules.cancelsAbandoned = true  // every viewer left before the response head: nobody will read it
        let (hit, miss) = metrics.sharedFetches(cache: "segment")
        rules.counted = { $0 ? hit.increment() : miss.increment() }
        flights = SingleFlight(clock: clock, rules: rules)
        // Bodies grow between requests: going over the budget evicts, even while no viewer asks.
        budget.whenOver { [weak self] in self?.evict() }
    }

    /// Bytes held by every shared body right now, downloading ones included.
    var bytesHeld: Int { budget.current }

    /// The shared response for `key`; `load` runs only when no fresh entry or fetch exists.
    func response(for key: String, load: @escaping @Sendable () async throws -> UpstreamResponse) async throws -> UpstreamResponse {
        let (keepLimit, budget) = (self.keepLimit, self.budget)
        let loaded = await flights.value(for: key) {
            do {
                let response = try await load()
                // Every caller left while the head was on its way: no reader will come for this body.
                try Task.checkCancellation()
                let body = SharedBody(keepLimit: keepLimit, budget: budget)
                body.fill(from: response.body)
                return .success(Shared(status: response.status, url: response.url, headers: response.headers, body: body))
            } catch {
                return .failure(error)
            }
        }
        // Nothing is dropped before a body's first reader, so the first reader always starts at byte 0; a
        // viewer who joined too late (the body already dropped its beginning) gets a fetch of its own.
        if let response = Self.response(try loaded.get()) { return response }
        return try await uncached(load)
    }

    /// A fetch for one reader, kept by nobody else.
    private func uncached(_ load: @Sendable () async throws -> UpstreamResponse) async throws -> UpstreamResponse {
        let response = try await load()
        let body = SharedBody(keepLimit: 0, budget: budget)
        body.fill(from: response.body)
        let shared = Shared(status: response.status, url: response.url, headers: response.headers, body: body)
        guard let fresh = Self.response(shared) else { throw UpstreamError.connection("the upstream body could not be read") }
        return fresh
    }

    private static func response(_ shared: Shared) -> UpstreamResponse? {
        guard let body = shared.body.reader() else { return nil }
        return UpstreamResponse(status: shared.status, url: shared.url, headers: shared.headers, body: body)
    }

    /// Lets the entry for `key` go (a copy nobody will ask for under that key again).
    func forget(_ key: String) {
        flights.remove(key)
    }

    /// Drops expired entries, then the least recently used until the bytes fit. A body that is let go
    /// keeps only what its readers still need.
    func evict() {
        flights.evict()
        budget.evicted()
    }
}
