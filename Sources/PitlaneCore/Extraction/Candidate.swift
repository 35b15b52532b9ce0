import Foundation

/// Request headers an upstream CDN wants (Referer, Origin, User-Agent, Cookie, …), in order.
public struct HeaderProfile: Sendable, Equatable, Codable {
    public struct Header: Sendable, Equatable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var headers: [Header]

    public init(_ headers: [Header] = []) {
        self.headers = headers
    }

    public init(_ pairs: KeyValuePairs<String, String>) {
        self.headers = pairs.map { Header(name: $0.key, value: $0.value) }
    }

    public func value(for name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// This profile with `other`'s headers replacing any of the same name.
    public func merging(_ other: HeaderProfile) -> HeaderProfile {
        var merged = headers.filter { mine in !other.headers.contains { $0.name.caseInsensitiveCompare(mine.name) == .orderedSame } }
        merged.append(contentsOf: other.headers)
        return HeaderProfile(merged)
    }
}

/// What an extractor found: an upstream playlist and what is needed to fetch it.
public struct Candidate: Sendable, Equatable {
    public var url: URL
    public var title: String
    public var quality: String?
    /// A stable identity the extractor can vouch for across runs (the best way to re-match a stream).
    public var key: String?
    public var headers: HeaderProfile
    /// When the extractor knows the token's expiry better than the URL reveals it.
    public var expiresAt: Date?

    public init(
        url: URL, title: String, quality: String? = nil, key: String? = nil, headers: HeaderProfile = .init(), expiresAt: Date? = nil
    ) {
        self.url = url
        self.title = title
        self.quality = quality
        self.key = key
        self.headers = headers
        self.expiresAt = expiresAt
    }
}

/// What an extractor gets for one run.
public struct ExtractionContext: Sendable {
    public var now: Date

    public init(now: Date) {
        self.now = now
    }
}

/// The code behind a source kind. Runs may be slow or fail; callers bound them with the source's timeout.
public protocol Extractor: Sendable {
    func extract(_ context: ExtractionContext) async throws -> [Candidate]
}

/// One configured place where streams are found.
public struct Source: Sendable {
    public var id: String
    public var kind: String
    public var title: String?
    public var headers: HeaderProfile
    /// Lets upstream fetches for this source reach loopback and private addresses (the demo, test fixtures).
    public var allowPrivate: Bool
    public var timeout: Duration
    public var extractor: any Extractor

    public init(
        id: String, kind: String, title: String? = nil, headers: HeaderProfile = .init(), allowPrivate: Bool = false,
        timeout: Duration = .seconds(20), extractor: any Extractor
    ) {
        self.id = id
        self.kind = kind
        self.title = title
        self.headers = headers
        self.allowPrivate = allowPrivate
        self.timeout = timeout
        self.extractor = extractor
    }
}

/// A `static` source: the streams are written in the configuration.
public struct StaticExtractor: Extractor {
    public var candidates: [Candidate]

    public init(candidates: [Candidate]) {
        self.candidates = candidates
    }

    public func extract(_ context: ExtractionContext) async throws -> [Candidate] {
        candidates
    }
}
