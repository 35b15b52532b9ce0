import Foundation

/// What identifies a stream and how to fetch its upstream right now.
public struct StreamDescriptor: Sendable, Equatable, Codable {
    public var id: String
    public var source: String
    public var title: String
    public var quality: String?
    public var key: String?
    public var upstream: URL
    public var headers: HeaderProfile
    public var allowPrivate: Bool

    public init(
        id: String, source: String, title: String, quality: String? = nil, key: String? = nil, upstream: URL,
        headers: HeaderProfile = .init(), allowPrivate: Bool = false
    ) {
        self.id = id
        self.source = source
        self.title = title
        self.quality = quality
        self.key = key
        self.upstream = upstream
        self.headers = headers
        self.allowPrivate = allowPrivate
    }
}

/// The refresh bookkeeping of one stream, shown by the API and the UI.
public struct RefreshState: Sendable, Equatable, Codable {
    public var count = 0
    public var lastRefreshed: Date?
    public var nextRefresh: Date?
    public var expiresAt: Date?
    public var lastError: String?
    /// The end of the current lease: the stream is active (watched) until then.
    public var leaseUntil: Date?

    public init() {}

    public func isActive(at now: Date) -> Bool {
        guard let leaseUntil else { return false }
        return leaseUntil > now
    }
}

/// A stream and its refresh state together.
public struct StreamRecord: Sendable, Equatable, Codable {
    public var descriptor: StreamDescriptor
    public var refresh: RefreshState
    /// The last validation's verdict; nil until the stream has been checked.
    public var health: StreamHealth?

    public init(descriptor: StreamDescriptor, refresh: RefreshState = .init(), health: StreamHealth? = nil) {
        self.descriptor = descriptor
        self.refresh = refresh
        self.health = health
    }
}

/// Stable, readable stream identifiers: `{source}-{key}` when the extractor gives a key, else a digest of
/// what identifies the candidate.
public enum StreamID {
    public static func make(source: String, candidate: Candidate) -> String {
        if let key = candidate.key, !key.isEmpty { return slug(source) + "-" + slug(key) }
        let basis = [candidate.title, candidate.quality ?? "", URLIdentity(candidate.url).value].joined(separator: "|")
        return slug(source) + "-" + String(slug(candidate.title).prefix(24)) + "-" + shortDigest(basis)
    }

    public static func slug(_ text: String) -> String {
        var result = ""
        var lastWasDash = false
        for character in text.lowercased() {
            if character.isASCII, character.isLetter || character.isNumber {
                result.append(character)
                lastWasDash = false
            } else if !lastWasDash, !result.isEmpty {
                result.append("-")
                lastWasDash = true
            }
        }
        while result.hasSuffix("-") { result.removeLast() }
        return result.isEmpty ? "stream" : result
    }

    static func shortDigest(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash & 0xFFFF_FFFF, radix: 16)
    }
}
