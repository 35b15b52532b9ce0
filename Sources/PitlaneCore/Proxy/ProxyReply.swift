import Foundation

/// What the proxy answers a player, independent of the HTTP framework that sends it.
public struct ProxyReply: Sendable {
    public enum Body: Sendable {
        case text(String)
        case stream(UpstreamBody)
    }

    public var status: Int
    public var headers: HeaderProfile
    public var body: Body

    public init(status: Int, headers: HeaderProfile = .init(), body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static let playlistContentType = MediaExtension.playlistType

    /// A playlist may be kept a second, and served a second longer while a cache in front refetches it:
    /// one request to Pitlane per second however many viewers poll, and never a frozen live edge (a cache
    /// stops serving the old copy after that second even when the refetch failed).
    public static let playlistCacheControl = "max-age=1, stale-while-revalidate=1"

    static func playlist(_ playlist: Playlist) -> ProxyReply {
        playlistText(playlist.serialized())
    }

    static func playlistText(_ text: String) -> ProxyReply {
        ProxyReply(
            status: 200,
            headers: HeaderProfile(["Content-Type": playlistContentType, "Cache-Control": playlistCacheControl]),
            body: .text(text))
    }

    static func failure(_ failure: ProxyFailure) -> ProxyReply {
        var headers = HeaderProfile(["Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"])
        if let retryAfter = failure.retryAfter {
            headers.headers.append(.init(name: "Retry-After", value: String(retryAfter)))
        }
        return ProxyReply(
            status: failure.status, headers: headers, body: .text(ErrorBody(code: failure.code, message: failure.message).json))
    }
}
