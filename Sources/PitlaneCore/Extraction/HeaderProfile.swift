import Foundation

/// Request headers an upstream CDN wants (Referer, Origin, User-Agent, Cookie, …), in order.
public struct HeaderProfile: Sendable, Equatable, Codable {
    public struct Header: Sendable, Equatable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var headers: [Header]

    public init(_ headers: [Header] = []) {
        self.headers = headers
    }

    public init(_ pairs: KeyValuePairs<String, String>) {
        self.headers = pairs.map { Header(name: $0.key, value: $0.value) }
    }

    public func value(for name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// This profile, plus those of `other`'s headers whose names it does not have: this one wins. Called
    /// as `configured.winning(over: discovered)`, since what the user configured for a source beats what
    /// an extractor found on a page or in a list (DESIGN.md "Precedence").
    public func winning(over other: HeaderProfile) -> HeaderProfile {
        let added = other.valid().headers.filter { theirs in
            !headers.contains { $0.name.caseInsensitiveCompare(theirs.name) == .orderedSame }
        }
        return HeaderProfile(headers + added)
    }

    /// An RFC 9110 field name: a token of letters, digits and `!#$%&'*+-.^_`|~`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0))
            }
    }

    /// A field value without line breaks, NUL or other control characters (tab is allowed): nothing that
    /// could end the header and start another.
    public static func isValidValue(_ value: String) -> Bool {
        value.unicodeScalars.allSatisfy { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }
    }

    /// This profile without the headers that are not valid (what a page or a list suggested): sending them
    /// would fail the request or, worse, split it.
    public func valid() -> HeaderProfile {
        HeaderProfile(headers.filter { Self.isValidName($0.name) && Self.isValidValue($0.value) })
    }

    /// Headers that carry credentials: they never follow a redirect to another origin.
    public static let credentialNames: Set<String> = ["cookie", "authorization", "proxy-authorization"]

    /// This profile without its credentials (for a redirect that leaves the origin, as browsers and curl do).
    public func withoutCredentials() -> HeaderProfile {
        HeaderProfile(headers.filter { !Self.credentialNames.contains($0.name.lowercased()) })
    }
}
