import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage, the peer's address (the sign-in rate
/// limit is per client) and the user `AuthMiddleware` found (nil with `auth.mode: none`).
public struct PitlaneRequestContext: RequestContext, RemoteAddressRequestContext, UserRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The signed-in user, or the owner of the API or playback token the request carried.
    public var user: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// A context that knows who made the request (`AuthMiddleware` sets it).
public protocol UserRequestContext {
    var user: String? { get }
}
