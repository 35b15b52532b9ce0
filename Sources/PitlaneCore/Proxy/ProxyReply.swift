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

    public static let playlistContentType = "application/vnd.apple.mpegurl"

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
        var headers = HeaderProfile(["Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"])
        if let retryAfter = failure.retryAfter {
            headers.headers.append(.init(name: "Retry-After", value: String(retryAfter)))
        }
        return ProxyReply(status: failure.status, headers: headers, body: .text(failure.message + "\n"))
    }
}

/// A proxied request that cannot be answered with content, mapped to the status players handle best:
/// 502/504 for upstream trouble, 503 with Retry-After while a refresh could not save it (hls.js retries
/// 5xx, while a 4xx is fatal to it), 403 for handles Pitlane did not sign, 404 for unknown streams.
public struct ProxyFailure: Error, Sendable, Equatable {
    public var status: Int
    public var message: String
    public var retryAfter: Int?

    public init(status: Int, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    static func unknownStream(_ id: String) -> ProxyFailure {
        ProxyFailure(status: 404, message: "no stream \(id)")
    }

    static func unavailable(_ message: String) -> ProxyFailure {
        ProxyFailure(status: 503, message: message, retryAfter: 2)
    }

    static func from(_ error: any Error) -> ProxyFailure {
        switch error {
        case UpstreamError.timeout, is TimeoutError: ProxyFailure(status: 504, message: "upstream timeout")
        case UpstreamError.tooSlow(let allowed):
            ProxyFailure(status: 504, message: "upstream timeout: the body did not arrive within \(allowed.components.seconds) s")
        case let upstream as UpstreamError: ProxyFailure(status: 502, message: "upstream error: \(upstream)")
        case let failure as ProxyFailure: failure
        default: ProxyFailure(status: 502, message: "upstream error: \(error)")
        }
    }

    static func upstreamStatus(_ status: Int) -> ProxyFailure {
        ProxyFailure(status: 502, message: "upstream answered \(status)")
    }
}
