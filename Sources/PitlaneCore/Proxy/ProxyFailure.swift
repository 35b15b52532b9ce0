import Foundation

/// A proxied request that cannot be answered with content, mapped to the status players handle best:
/// 502/504 for upstream trouble, 503 with Retry-After while a refresh could not save it (hls.js retries
/// 5xx, while a 4xx is fatal to it), 403 for handles Pitlane did not sign, 404 for unknown streams.
public struct ProxyFailure: Error, Sendable, Equatable {
    public var status: Int
    public var message: String
    public var retryAfter: Int?
    /// The upstream's 401, 403 or 410 when it rejected the token: the proxy refreshes the stream and tries
    /// again; if it reaches the player, it is a 503 (the refresh may still save the next request).
    public var rejection: Int?
    /// The error body's stable code (see `ErrorBody`).
    public var code: String

    public init(status: Int, message: String, retryAfter: Int? = nil, rejection: Int? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
        self.rejection = rejection
        self.code = code ?? ErrorBody.code(status: status)
    }

    static func rejected(_ status: Int) -> ProxyFailure {
        ProxyFailure(
            status: 503, message: "the upstream rejected the stream's token (\(status))", retryAfter: 2, rejection: status,
            code: "token_rejected")
    }

    /// A handle past its lifetime: the player reloads the playlist and gets fresh ones.
    static let expiredHandle = ProxyFailure(status: 410, message: "expired handle: reload the playlist", code: "expired_handle")

    /// A handle Pitlane did not seal, or sealed for another stream or feed: refused without an upstream request.
    static let invalidHandle = ProxyFailure(status: 403, message: "invalid handle", code: "invalid_handle")

    static func unknownStream(_ id: String) -> ProxyFailure {
        ProxyFailure(status: 404, message: "no stream \(id)", code: "no_stream")
    }

    static func unavailable(_ message: String) -> ProxyFailure {
        ProxyFailure(status: 503, message: message, retryAfter: 2)
    }

    static func from(_ error: any Error) -> ProxyFailure {
        switch error {
        case UpstreamError.timeout, is TimeoutError: ProxyFailure(status: 504, message: "upstream timeout", code: "upstream_timeout")
        case UpstreamError.tooSlow(let allowed):
            ProxyFailure(
                status: 504, message: "upstream timeout: the body did not arrive within \(allowed.components.seconds) s",
                code: "upstream_timeout")
        case let upstream as UpstreamError: ProxyFailure(status: 502, message: "upstream error: \(upstream)", code: "upstream_error")
        case let failure as ProxyFailure: failure
        default: ProxyFailure(status: 502, message: "upstream error: \(error)", code: "upstream_error")
        }
    }

    static func upstreamStatus(_ status: Int) -> ProxyFailure {
        ProxyFailure(status: 502, message: "upstream answered \(status)", code: "upstream_error")
    }
}

extension HLSProxy {
    /// The one place a failure becomes a reply: mapped by `ProxyFailure.from`, logged with the reason
    /// (never a URL: they carry tokens) unless it is a plain 404.
    func failureReply(_ error: any Error, stream: String, what: String) -> ProxyReply {
        let failure = ProxyFailure.from(error)
        if failure.status != 404 {
            logger.warning(
                "proxy failure",
                metadata: ["stream": "\(stream)", "what": "\(what)", "status": "\(failure.status)", "reason": "\(failure.message)"])
        }
        return .failure(failure)
    }
}
