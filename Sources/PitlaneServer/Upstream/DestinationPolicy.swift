import Foundation
import PitlaneCore

/// Where a request may go: the source's `allow_hosts`, then (unless the source allows private
/// addresses) every address its name resolves to must be public. One rule for the upstream client and
/// for the requests a browser source's page makes.
public struct DestinationPolicy: Sendable {
    /// What a checked destination may connect to.
    public enum Verdict: Sendable, Equatable {
        /// Anything its name resolves to (an allowed private source, or a public IP literal).
        case anyAddress
        /// Only these addresses, every one checked.
        case addresses([String])
    }

    let resolver: any HostResolver
    let isPublic: @Sendable (String) -> Bool

    /// - Parameters:
    ///   - resolver: turns names into addresses; the connection goes to an address it answered.
    ///   - isPublic: which addresses a request without `allowPrivate` may reach (tests widen it to a loopback
    ///     address of their own, to play the public internet).
    public init(resolver: any HostResolver = SystemResolver(), isPublic: @escaping @Sendable (String) -> Bool = AddressPolicy.isPublic) {
        self.resolver = resolver
        self.isPublic = isPublic
    }

    /// Checks `host` (a name or an IP literal, bracketed or not); throws `UpstreamError.hostNotAllowed` or
    /// `.refusedAddress`. A name is resolved once, here.
    public func check(host: String, allowPrivate: Bool, allowHosts: HostAllowList?) async throws -> Verdict {
        if let allowHosts, !allowHosts.permits(host) { throw UpstreamError.hostNotAllowed(host: host) }
        guard !allowPrivate else { return .anyAddress }
        let bare = AddressPolicy.unbracketed(host)
        if AddressPolicy.isIPLiteral(bare) {
            guard isPublic(bare) else { throw UpstreamError.refusedAddress(host: host) }
            return .anyAddress
        }
        var addresses: [String] = []
        for address in try await resolver.addresses(of: bare) where !addresses.contains(address) { addresses.append(address) }
        guard !addresses.isEmpty, addresses.allSatisfy(isPublic) else { throw UpstreamError.refusedAddress(host: host) }
        return .addresses(addresses)
    }
}
