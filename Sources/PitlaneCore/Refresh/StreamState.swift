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
    /// The source's `allow_hosts`, if it has one.
    public var allowHosts: HostAllowList?
    /// The headers the page, API or list suggested (before the source's own won over them): on a restore,
    /// the configuration's headers are merged over these again, so a header removed from the
    /// configuration is gone too. Nil in catalogues saved before it was kept.
    public var discoveredHeaders: HeaderProfile?
    /// The feed its source's configuration puts it in (`feed:`); nil to be grouped by title and quality.
    public var feed: String?

    public init(
        id: String, source: String, title: String, quality: String? = nil, key: String? = nil, upstream: URL,
        headers: HeaderProfile = .init(), allowPrivate: Bool = false, allowHosts: HostAllowList? = nil
    ) {
        self.allowHosts = allowHosts
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
    /// How many runs handed this stream a new URL (a run that hands back the same URL is not a refresh).
    public var count = 0
    /// When the stream last got a new URL.
    public var lastRefreshed: Date?
    /// When its source runs next for it (the plan; DESIGN.md "Token refresh rules").
    public var nextRefresh: Date?
    /// The expiry its current URL reveals, if any.
    public var expiresAt: Date?
    public var lastError: String?
    /// The end of the current lease: the stream is active (watched) until then.
    public var leaseUntil: Date?
    /// Runs in a row that failed or did not find this stream; the pause before the next run grows with it.
    public var failures = 0
    /// When the current URL was first handed out: its token's lifetime counts from here.
    public var issuedAt: Date?
    /// Runs in a row that handed back the current URL once it was due for a new one.
    public var unchanged = 0
    /// The source run time the plan allowed for (seconds).
    public var runTime: Double?

    public init() {}

    public func isActive(at now: Date) -> Bool {
        guard let leaseUntil else { return false }
        return leaseUntil > now
    }

    enum CodingKeys: String, CodingKey {
        case count, lastRefreshed, nextRefresh, expiresAt, lastError, leaseUntil, failures, issuedAt, unchanged, runTime
    }

    /// Reads what any earlier version saved: fields it did not know take their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        count = try container.decodeIfPresent(Int.self, forKey: .count) ?? 0
        lastRefreshed = try container.decodeIfPresent(Date.self, forKey: .lastRefreshed)
        nextRefresh = try container.decodeIfPresent(Date.self, forKey: .nextRefresh)
        expiresAt = try container.decodeIfPresent(Date.self, forKey: .expiresAt)
        lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
        leaseUntil = try container.decodeIfPresent(Date.self, forKey: .leaseUntil)
        failures = try container.decodeIfPresent(Int.self, forKey: .failures) ?? 0
        issuedAt = try container.decodeIfPresent(Date.self, forKey: .issuedAt) ?? lastRefreshed
        unchanged = try container.decodeIfPresent(Int.self, forKey: .unchanged) ?? 0
        runTime = try container.decodeIfPresent(Double.self, forKey: .runTime)
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
