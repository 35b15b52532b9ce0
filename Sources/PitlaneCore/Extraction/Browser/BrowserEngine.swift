import Foundation

/// A headless browser that loads a page, runs its scripts and reports the playlists it requested: the
/// engine behind the `browser` source kind. The real one drives Chromium (PitlaneServer); tests use a fake.
public protocol BrowserEngine: Sendable {
    func visit(_ visit: BrowserVisit) async throws -> BrowserReport
}

/// One page load: where to go, how long to wait, which requests count as playlists and where the page
/// may send requests.
public struct BrowserVisit: Sendable {
    public var url: URL
    /// How long to wait for a playlist request; the visit ends earlier, shortly after the first one.
    public var wait: Duration
    /// Matches playlist URLs that neither end in `.m3u8` nor come back with an HLS content type.
    public var pattern: NSRegularExpression?
    /// Lets the page reach loopback and private addresses (the source's `allow_private`).
    public var allowPrivate: Bool
    /// The only hosts the page may reach (the source's `allow_hosts`), nil for any public host.
    public var allowHosts: HostAllowList?
    /// Playlist bodies larger than this are not read.
    public var documentLimit: Int

    public init(
        url: URL, wait: Duration = .seconds(15), pattern: NSRegularExpression? = nil, allowPrivate: Bool = false,
        allowHosts: HostAllowList? = nil, documentLimit: Int = BodyLimits().document
    ) {
        self.url = url
        self.wait = wait
        self.pattern = pattern
        self.allowPrivate = allowPrivate
        self.allowHosts = allowHosts
        self.documentLimit = documentLimit
    }

    /// HLS content types, as players and CDNs write them.
    public static let playlistTypes: Set<String> = [
        "application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl",
    ]

    /// Whether a request is for a playlist: its path ends in `.m3u8`, its URL matches the source's
    /// `pattern`, or (once the answer is in) its content type says HLS.
    public func isPlaylist(url: String, contentType: String? = nil) -> Bool {
        if let contentType, Self.playlistTypes.contains(Self.mediaType(contentType)) { return true }
        let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        if path.lowercased().hasSuffix(".m3u8") { return true }
        guard let pattern else { return false }
        return pattern.firstMatch(in: url, range: NSRange(url.startIndex..., in: url)) != nil
    }

    static func mediaType(_ contentType: String) -> String {
        (contentType.split(separator: ";").first.map(String.init) ?? contentType).trimmingCharacters(in: .whitespaces).lowercased()
    }
}

/// What a visit saw.
public struct BrowserReport: Sendable, Equatable {
    /// One playlist request the page made.
    public struct Sighting: Sendable, Equatable {
        public var url: URL
        /// The request headers as sent (Referer, Origin, Cookie, and what the page's script added).
        public var headers: HeaderProfile
        /// The response status, nil when no answer arrived before the visit ended.
        public var status: Int?
        /// The playlist's text when it was read (to tell a master from its variants).
        public var body: String?

        /// Answered, and with success.
        public var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }

        public init(url: URL, headers: HeaderProfile = .init(), status: Int? = nil, body: String? = nil) {
            self.url = url
            self.headers = headers
            self.status = status
            self.body = body
        }
    }

    public var title: String?
    public var playlists: [Sighting]
    /// Requests the address policy failed, as "URL (reason)" with query strings redacted.
    public var refused: [String]
    /// How many requests the page made in all.
    public var requests: Int
    /// Why the page itself did not load, if it did not.
    public var loadError: String?

    public init(
        title: String? = nil, playlists: [Sighting] = [], refused: [String] = [], requests: Int = 0, loadError: String? = nil
    ) {
        self.title = title
        self.playlists = playlists
        self.refused = refused
        self.requests = requests
        self.loadError = loadError
    }
}

/// Why a browser visit could not happen at all.
public enum BrowserError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Chromium is not installed where configured or looked for.
    case notInstalled(String)
    /// The browser would not start, died, or stopped answering.
    case failed(String)

    public var description: String {
        switch self {
        case .notInstalled(let detail):
            "\(detail): install Debian's `chromium` package (apt-get install chromium) or set browser.path"
        case .failed(let detail): "the browser \(detail)"
        }
    }
}
