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

    static func playlist(_ playlist: Playlist) -> ProxyReply {
        playlistText(playlist.serialized())
    }

    static func playlistText(_ text: String) -> ProxyReply {
        ProxyReply(
            status: 200,
            headers: HeaderProfile(["Content-Type": playlistContentType, "Cache-Control": "max-age=1"]),
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
