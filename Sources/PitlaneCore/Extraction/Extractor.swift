import Foundation
import NIOConcurrencyHelpers

/// The code behind a source kind. Runs may be slow or fail; callers bound them with the source's timeout.
public protocol Extractor: Sendable {
    func extract(_ context: ExtractionContext) async throws -> [Candidate]
}

/// What an extractor gets for one run: the time, and an HTTP client that sends the source's headers and
/// applies its address policy.
public struct ExtractionContext: Sendable {
    public var now: Date
    public var http: any UpstreamClient
    public var headers: HeaderProfile
    public var allowPrivate: Bool
    public var allowHosts: HostAllowList?
    public var requestTimeout: Duration
    /// Documents larger than this are refused (`upstream.document_max_mb`).
    public var documentLimit: Int
    /// What the run wants its source's status to say besides found and failed (what a browser saw).
    public let notes = RunNotes()

    public init(
        now: Date, http: any UpstreamClient = OfflineUpstream(), headers: HeaderProfile = .init(), allowPrivate: Bool = false,
        requestTimeout: Duration = .seconds(10), documentLimit: Int = BodyLimits().document, allowHosts: HostAllowList? = nil
    ) {
        self.allowHosts = allowHosts
        self.now = now
        self.http = http
        self.headers = headers
        self.allowPrivate = allowPrivate
        self.requestTimeout = requestTimeout
        self.documentLimit = documentLimit
    }

    /// Fetches a text document (a page, a JSON API, an M3U list) with the source's headers, plus `extra`
    /// (such as the Referer of the page that embedded it). Anything but 200 is an `ExtractionError`.
    public func fetchText(_ url: URL, extra: HeaderProfile = .init(), method: String = "GET", body: String? = nil) async throws -> (
        text: String, url: URL
    ) {
        let request = UpstreamRequest(
            url: url, headers: headers.winning(over: extra), allowPrivate: allowPrivate, timeout: requestTimeout, method: method,
            body: body.map { Array($0.utf8) }, allowHosts: allowHosts)
        let response = try await http.send(request)
        guard response.status == 200 else { throw ExtractionError.status(response.status, URIResolver.redacted(url)) }
        let bytes = try await response.body.collect(upTo: documentLimit, within: requestTimeout)
        return (String(decoding: bytes.readableBytesView, as: UTF8.self), response.url)
    }
}

/// Why an extractor found nothing, said so a user can act on it.
public enum ExtractionError: Error, Sendable, Equatable, CustomStringConvertible {
    case status(Int, String)
    case invalid(String)

    public var description: String {
        switch self {
        case .status(let status, let url): "\(url) answered \(status)"
        case .invalid(let reason): reason
        }
    }
}

/// The upstream of a context that was given none: every request fails. Keeps extractors that need no
/// network (static, demo) and their tests free of HTTP.
public struct OfflineUpstream: UpstreamClient {
    public init() {}

    public func send(_ request: UpstreamRequest) async throws -> UpstreamResponse {
        throw UpstreamError.connection("no network in this context")
    }
}

/// Lines an extractor leaves about one run, shown as the source's `notes` (`/api/sources`,
/// `pitlane sources check`). At most 20 are kept, each at most 500 characters.
public final class RunNotes: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    public init() {}

    public func add(_ line: String) {
        lines.withLockedValue { if $0.count < 20 { $0.append(String(line.prefix(500))) } }
    }

    public var all: [String] { lines.withLockedValue { $0 } }
}
