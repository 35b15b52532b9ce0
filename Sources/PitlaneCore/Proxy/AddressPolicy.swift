import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decides which resolved addresses upstream fetches may reach. Pitlane fetches URLs found by extractors
/// and in upstream playlists, so without this a hostile playlist could point it at the home network or
/// a cloud metadata service.
public enum AddressPolicy {
    /// Whether an IP address (v4 or v6, as text) is a public, routable unicast address.
    public static func isPublic(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return isPublicV4(withUnsafeBytes(of: &v4) { Array($0) })
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            return isPublicV6(withUnsafeBytes(of: &v6) { Array($0) })
        }
        return false
    }

    /// Whether a URL host is an IP literal rather than a name that needs resolving.
    public static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        let bare = unbracketed(host)
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }

    /// A URL host without the brackets of an IPv6 literal (`[::1]` → `::1`); anything else as it is.
    public static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// Whether an IP address (bracketed or not) is a loopback one: 127.0.0.0/8, ::1, or IPv4-mapped 127/8.
    public static func isLoopback(_ address: String) -> Bool {
        let bare = unbracketed(address)
        var v4 = in_addr()
        if inet_pton(AF_INET, bare, &v4) == 1 { return withUnsafeBytes(of: &v4) { $0[0] } == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        guard bytes[0..<10].allSatisfy({ $0 == 0 }) else { return false }
        if bytes[10] == 0xFF && bytes[11] == 0xFF { return bytes[12] == 127 }  // ::ffff:127.x.x.x
        return bytes[10..<15].allSatisfy { $0 == 0 } && bytes[15] == 1  // ::1
    }

    static func isPublicV4(_ bytes: [UInt8]) -> Bool {
        let (a, b, c) = (bytes[0], bytes[1], bytes[2])
        switch a {
        case 0, 10, 127: return false  // "this network", private, loopback
        case 100 where (64...127).contains(b): return false  // carrier-grade NAT
        case 169 where b == 254: return false  // link-local, cloud metadata
        case 172 where (16...31).contains(b): return false
        case 192 where b == 168: return false
        case 192 where b == 0 && (c == 0 || c == 2): return false  // IETF protocol assignments, TEST-NET-1
        case 192 where b == 88 && c == 99: return false  // 6to4 relay anycast
        case 198 where b == 18 || b == 19: return false  // benchmarking
        case 198 where b == 51 && c == 100, 203 where b == 0 && c == 113: return false  // TEST-NET-2/3
        case 224...255: return false  // multicast, reserved, broadcast
        default: return true
        }
    }

    static func isPublicV6(_ bytes: [UInt8]) -> Bool {
        if bytes[0..<10].allSatisfy({ $0 == 0 }) {
            if bytes[10] == 0xFF && bytes[11] == 0xFF { return isPublicV4(Array(bytes[12..<16])) }  // IPv4-mapped
            return false  // ::, ::1, IPv4-compatible
        }
        if bytes[0..<8].allSatisfy({ $0 == 0 }), bytes[8] == 0xFF, bytes[9] == 0xFF, bytes[10] == 0, bytes[11] == 0 {
            return isPublicV4(Array(bytes[12..<16]))  // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765)
        }
        if bytes[0] == 0x00, bytes[1] == 0x64, bytes[2] == 0xFF, bytes[3] == 0x9B {
            // NAT64 well-known prefix 64:ff9b::/96; the local-use 64:ff9b:1::/48 (RFC 8215) never.
            return bytes[4..<12].allSatisfy { $0 == 0 } ? isPublicV4(Array(bytes[12..<16])) : false
        }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return isPublicV4(Array(bytes[2..<6])) }  // 6to4 2002:a.b.c.d::/48
        if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0, bytes[3] == 0 { return false }  // Teredo 2001::/32: any IPv4 behind it
        if bytes[0] == 0x01, bytes[1..<8].allSatisfy({ $0 == 0 }) { return false }  // discard-only 100::/64
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0xC0 { return false }  // site-local fec0::/10 (deprecated, still routed locally)
        if bytes[0] & 0xFE == 0xFC { return false }  // unique local fc00::/7
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return false }  // link-local fe80::/10
        if bytes[0] == 0xFF { return false }  // multicast
        if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0x0D, bytes[3] == 0xB8 { return false }  // documentation
        return true
    }
}
