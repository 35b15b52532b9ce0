/// The hosts a source's fetches may reach (`allow_hosts`), for people who want to name their CDNs rather than
/// trust the address check alone. `example.com` is that host only; `*.example.com` is any host below it
/// (not `example.com` itself). Names compare case-insensitively, without a trailing dot.
public struct HostAllowList: Sendable, Equatable, Codable {
    public var patterns: [String]

    public init(_ patterns: [String]) {
        self.patterns = patterns.map(Self.normalized)
    }

    /// Whether a URL host (a name or an IP literal, bracketed or not) is on the list.
    public func permits(_ host: String) -> Bool {
        let name = Self.normalized(host)
        return patterns.contains { pattern in
            if pattern.hasPrefix("*.") { return name.hasSuffix(pattern.dropFirst()) && name.count > pattern.count - 1 }
            return name == pattern
        }
    }

    /// Why a pattern is not one, or nil: used by the config loader.
    public static func problem(with pattern: String) -> String? {
        let name = pattern.hasPrefix("*.") ? String(pattern.dropFirst(2)) : pattern
        guard !name.isEmpty, !name.contains("*"), !name.contains("/"), !name.contains(":") || AddressPolicy.isIPLiteral(name),
            name.allSatisfy({ $0.isLetter || $0.isNumber || "-.:[]".contains($0) })
        else {
            return "'\(pattern)' is not a host name, '*.' and a name, or an IP address"
        }
        return nil
    }

    static func normalized(_ host: String) -> String {
        var lowered = AddressPolicy.unbracketed(host).lowercased()
        while lowered.hasSuffix(".") { lowered.removeLast() }
        return lowered
    }
}
