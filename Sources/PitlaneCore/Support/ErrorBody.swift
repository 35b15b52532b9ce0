import Foundation

/// Every error Pitlane answers over HTTP, the API's and the proxy's alike:
/// `{"error": {"code": "not_found", "message": "no stream x"}}`. `code` is stable, for programs (by
/// default the status's name); `message` is for people and may change.
public struct ErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
    }

    public var error: Detail

    public init(code: String, message: String) {
        error = Detail(code: code, message: message)
    }

    /// The default code of an error with this status.
    public static func code(status: Int) -> String {
        switch status {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 410: "gone"
        case 413: "too_large"
        case 421: "misdirected"
        case 429: "too_many_requests"
        case 502: "bad_gateway"
        case 503: "unavailable"
        case 504: "gateway_timeout"
        case 500..<600: "internal_error"
        default: "error_\(status)"
        }
    }

    /// The body as JSON text (keys sorted, slashes plain).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) }
            ?? #"{"error":{"code":"internal_error","message":""}}"#
    }
}
