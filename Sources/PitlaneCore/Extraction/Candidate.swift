import Foundation

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
