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
    }

    private let lock = NSLock()
    private var handler: @Sendable (UpstreamRequest) throws -> Reply
    private(set) var requests: [UpstreamRequest] = []
    /// Time to the response head, so concurrent requests overlap.
    var latency: Duration = .zero

    init(_ handler: @escaping @Sendable (UpstreamRequest) throws -> Reply) {
        self.handler = handler
    }

    var requestCount: Int { lock.withLock { requests.count } }

    func paths() -> [String] { lock.withLock { requests.map(\.url.path) } }

    func setHandler(_ handler: @escaping @Sendable (UpstreamRequest) throws -> Reply) {
        lock.withLock { self.handler = handler }
    }

    func send(_ request: UpstreamRequest) async throws -> UpstreamResponse {
        let handler = lock.withLock {
            requests.append(request)
            return self.handler
        }
        if latency > .zero { try await Task.sleep(for: latency) }
        let reply = try handler(request)
        return UpstreamResponse(
            status: reply.status, url: reply.finalURL ?? request.url, headers: reply.headers,
            body: UpstreamBody(bytes: Array(reply.body.utf8)))
    }
}

/// An extractor whose results the test sets, counting its runs.
final class FakeExtractor: Extractor, @unchecked Sendable {
    private let lock = NSLock()
    private var results: Result<[Candidate], Error>
    private(set) var runs = 0
    var delay: Duration = .zero

    init(_ candidates: [Candidate]) {
        results = .success(candidates)
    }

    var runCount: Int { lock.withLock { runs } }

    func set(_ candidates: [Candidate]) { lock.withLock { results = .success(candidates) } }
    func fail(_ error: Error) { lock.withLock { results = .failure(error) } }

    func extract(_ context: ExtractionContext) async throws -> [Candidate] {
        let (result, delay) = lock.withLock {
            runs += 1
            return (results, self.delay)
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        return try result.get()
    }
}

struct FakeError: Error, CustomStringConvertible {
    var description: String { "the site is down" }
}
