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
    /// The feed (one picture, carried by several streams) the configuration says this stream carries.
    public var feed: String?

    public init(
        url: URL, title: String, quality: String? = nil, key: String? = nil, headers: HeaderProfile = .init(), expiresAt: Date? = nil,
        feed: String? = nil
    ) {
        self.feed = feed
        self.url = url
        self.title = title
        self.quality = quality
        self.key = key
        self.headers = headers
        self.expiresAt = expiresAt
    }

    /// This candidate with what came from the upstream made safe to write anywhere: a title and quality on
    /// one line without control characters (they end up in `/playlist.m3u`, logs and the web app), at most
    /// 200 characters, and only valid headers.
    public func sanitized() -> Candidate {
        var copy = self
        copy.title = Self.oneLine(title).map { $0.isEmpty ? "Stream" : $0 } ?? "Stream"
        copy.quality = quality.flatMap(Self.oneLine).flatMap { $0.isEmpty ? nil : $0 }
        copy.key = key.flatMap(Self.oneLine).flatMap { $0.isEmpty ? nil : $0 }
        copy.feed = feed.flatMap(Self.oneLine).flatMap { $0.isEmpty ? nil : $0 }
        copy.headers = headers.valid()
        return copy
    }

    static func oneLine(_ text: String) -> String? {
        let spaced = String(String.UnicodeScalarView(text.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : $0 }))
        let collapsed = spaced.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        return String(collapsed.prefix(200))
    }
}
