import CoreMetrics
import Foundation
import NIOCore

/// One request to an upstream origin or CDN.
public struct UpstreamRequest: Sendable {
    public var url: URL
    public var headers: HeaderProfile
    /// Whether loopback and private addresses may be reached (only for sources that say so).
    public var allowPrivate: Bool
    /// The hosts every hop must stay on (a source's `allow_hosts`); nil for any host.
    public var allowHosts: HostAllowList?
    /// The client's `Range` header, forwarded as is.
    public var range: String?
    public var timeout: Duration
    public var method: String
    public var body: [UInt8]?

    public init(
        url: URL, headers: HeaderProfile, allowPrivate: Bool, range: String? = nil, timeout: Duration = .seconds(15),
        method: String = "GET",
        body: [UInt8]? = nil, allowHosts: HostAllowList? = nil
    ) {
        self.allowHosts = allowHosts
        self.url = url
        self.headers = headers
        self.allowPrivate = allowPrivate
        self.range = range
        self.timeout = timeout
        self.method = method
        self.body = body
    }
}

/// An upstream's answer with a body that arrives as it is read, so segments are relayed, never buffered whole.
public struct UpstreamResponse: Sendable {
    public var status: Int
    /// The URL that answered, after redirects: relative playlist URIs resolve against it.
    public var url: URL
    public var headers: HeaderProfile
    public var body: UpstreamBody

    public init(status: Int, url: URL, headers: HeaderProfile = .init(), body: UpstreamBody) {
        self.status = status
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// Why an upstream request produced no response.
public enum UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    case timeout
    case refusedAddress(host: String)
    case hostNotAllowed(host: String)
    case tooManyRedirects
    case bodyTooLarge(limit: Int)
    /// The body did not arrive within its total deadline.
    case tooSlow(Duration)
    case connection(String)

    public var description: String {
        switch self {
        case .timeout: "the upstream did not answer in time"
        case .refusedAddress(let host):
            "refused to connect to \(host): a loopback, private or link-local address (allow_private allows it)"
        case .hostNotAllowed(let host): "refused to connect to \(host): not in the source's allow_hosts"
        case .tooManyRedirects: "too many redirects"
        case .bodyTooLarge(let limit): "the body is larger than \(limit) bytes"
        case .tooSlow(let allowed): "the body did not arrive within \(allowed.components.seconds) s"
        case .connection(let reason): "connection failed: \(reason)"
        }
    }
}

/// Upstream HTTP behind a protocol: an AsyncHTTPClient implementation in the server, an in-memory fake in tests.
public protocol UpstreamClient: Sendable {
    func send(_ request: UpstreamRequest) async throws -> UpstreamResponse
}

/// A response body as an async sequence of byte buffers, erasing the transport's own body type.
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    private let makeIterator: @Sendable () -> AsyncIterator

    public init<Base: AsyncSequence & Sendable>(_ base: Base) where Base.Element == ByteBuffer {
        self.init(base, retaining: nil)
    }

    /// A body that keeps `owner` alive while it or an iterator of it exists: the connection pool a response
    /// came from must outlive the reading of its body.
    public init<Base: AsyncSequence & Sendable>(_ base: Base, retaining owner: (any AnyObject & Sendable)?)
    where Base.Element == ByteBuffer {
        makeIterator = {
            let box = IteratorBox(base.makeAsyncIterator())
            return AsyncIterator {
                withExtendedLifetime(owner) {}
                return try await box.next()
            }
        }
    }

    /// A body that is already in memory (fakes, cached responses).
    public init(bytes: some Collection<UInt8>) {
        let buffer = ByteBuffer(bytes: bytes)
        makeIterator = {
            let box = OnceBox(buffer)
            return AsyncIterator { box.take() }
        }
    }

    public static var empty: UpstreamBody { UpstreamBody(bytes: []) }

    /// A body whose chunks come from `next` (bodies derived from another one: peeked, sliced).
    init(next: @escaping @Sendable () async throws -> ByteBuffer?) {
        makeIterator = { AsyncIterator(nextChunk: next) }
    }

    /// The same body, telling `counter` the size of every chunk as it passes (bytes relayed to players).
    public func counting(_ counter: Counter) -> UpstreamBody {
        let iterator = IteratorBox(makeAsyncIterator())
        return UpstreamBody(next: {
            let chunk = try await iterator.next()
            if let chunk { counter.increment(by: chunk.readableBytes) }
            return chunk
        })
    }

    /// Reads the first chunk (to tell what the body is) and returns it with a body that still yields every
    /// byte, the first chunk included. The returned body can be read once.
    public func peekingFirstChunk() async throws -> (first: ByteBuffer?, body: UpstreamBody) {
        let box = PeekedIterator(makeAsyncIterator())
        let first = try await box.peek()
        return (first, UpstreamBody(next: { try await box.next() }))
    }

    public func makeAsyncIterator() -> AsyncIterator {
        makeIterator()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextChunk: () async throws -> ByteBuffer?

        public mutating func next() async throws -> ByteBuffer? {
            try await nextChunk()
        }
    }

    /// Reads the whole body within `deadline`, refusing more than `limit` bytes: a body that drips one byte
    /// a second fails with `UpstreamError.timeout` (504) instead of holding its request for hours.
    public func collect(upTo limit: Int, within deadline: Duration) async throws -> ByteBuffer {
        do {
            return try await withTimeout(deadline) { try await self.collect(upTo: limit) }
        } catch is TimeoutError {
            throw UpstreamError.timeout
        }
    }

    /// Reads the whole body, refusing more than `limit` bytes (playlists are small; a huge one is an error).
    public func collect(upTo limit: Int) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await var chunk in self {
            guard collected.readableBytes + chunk.readableBytes <= limit else { throw UpstreamError.bodyTooLarge(limit: limit) }
            collected.writeBuffer(&chunk)
        }
        return collected
    }
}

private final class IteratorBox<Base: AsyncIteratorProtocol>: @unchecked Sendable where Base.Element == ByteBuffer {
    var base: Base
    init(_ base: Base) { self.base = base }
    func next() async throws -> ByteBuffer? { try await base.next() }
}

private final class PeekedIterator: @unchecked Sendable {
    private var base: UpstreamBody.AsyncIterator
    private var first: ByteBuffer?
    private var peeked = false

    init(_ base: UpstreamBody.AsyncIterator) { self.base = base }

    func peek() async throws -> ByteBuffer? {
        first = try await base.next()
        peeked = true
        return first
    }

    func next() async throws -> ByteBuffer? {
        if peeked, let chunk = first {
            first = nil
            return chunk
        }
        return try await base.next()
    }
}

private final class OnceBox: @unchecked Sendable {
    private var buffer: ByteBuffer?
    init(_ buffer: ByteBuffer) { self.buffer = buffer.readableBytes > 0 ? buffer : nil }
    func take() -> ByteBuffer? {
        defer { buffer = nil }
        return buffer
    }
}
