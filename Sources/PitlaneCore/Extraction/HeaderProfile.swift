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

    /// This profile with `other`'s headers replacing any of the same name.
    public func merging(_ other: HeaderProfile) -> HeaderProfile {
        var merged = headers.filter { mine in !other.headers.contains { $0.name.caseInsensitiveCompare(mine.name) == .orderedSame } }
        merged.append(contentsOf: other.headers)
        return HeaderProfile(merged)
    }
}
