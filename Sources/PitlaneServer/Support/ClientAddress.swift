import HTTPTypes
import Hummingbird
import NIOCore
import PitlaneCore

/// Who made a request, as far as Pitlane can tell: the peer, or, when the peer is a reverse proxy on
/// loopback, the address it says it forwarded for (the last one, which it added itself). The sign-in rate
/// limit counts by it, and viewers are told apart by it.
enum ClientAddress {
    static func of(_ request: Request, peer address: SocketAddress?) -> String {
        let peer = address?.ipAddress ?? "unknown"
        if AddressPolicy.isLoopback(peer), let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return last
        }
        return peer
    }
}
