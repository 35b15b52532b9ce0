import Foundation

/// Whether a stream really plays, as validation measured it: the playlist loads and is HLS, a variant
/// loads, and a segment's first bytes arrive and look like media.
public struct StreamHealth: Sendable, Equatable, Codable {
    public var playable: Bool
    /// Time from the first playlist request to the segment's first bytes: what a viewer waits at start-up.
    public var latencyMs: Int?
    /// The highest BANDWIDTH the master offers (or nil for a bare media playlist).
    public var bandwidth: Int?
    public var resolutions: [String]
    /// No EXT-X-ENDLIST: a live stream rather than a recording.
    public var live: Bool?
    public var checkedAt: Date
    /// Why it does not play, when it does not.
    public var error: String?

    public init(
        playable: Bool, latencyMs: Int? = nil, bandwidth: Int? = nil, resolutions: [String] = [], live: Bool? = nil, checkedAt: Date,
        error: String? = nil
    ) {
        self.playable = playable
        self.latencyMs = latencyMs
        self.bandwidth = bandwidth
        self.resolutions = resolutions
        self.live = live
        self.checkedAt = checkedAt
        self.error = error
    }
}

/// The catalogue's order (documented in README): streams that played at their last check first, then
/// streams not checked yet, then those that failed; among playable ones, lower start-up latency first,
/// then higher bandwidth, then title.
public enum StreamRanking {
    public static func ranked(_ records: [StreamRecord]) -> [StreamRecord] {
        records.enumerated().sorted { left, right in
            let (a, b) = (left.element, right.element)
            let (groupA, groupB) = (group(a), group(b))
            if groupA != groupB { return groupA < groupB }
            let latencyA = a.health?.latencyMs ?? Int.max
            let latencyB = b.health?.latencyMs ?? Int.max
            if latencyA != latencyB { return latencyA < latencyB }
            let bandwidthA = a.health?.bandwidth ?? 0
            let bandwidthB = b.health?.bandwidth ?? 0
            if bandwidthA != bandwidthB { return bandwidthA > bandwidthB }
            return left.offset < right.offset
        }.map(\.element)
    }

    private static func group(_ record: StreamRecord) -> Int {
        switch record.health?.playable {
        case true: 0
        case nil: 1
        case false: 2
        }
    }
}

/// How the same stream is recognised when two runs or two sources find it with different tokens: the URL
/// without its fragment and without query parameters that carry tokens, signatures or expiry times.
public enum StreamDedupe {
    static let tokenParameters: Set<String> = [
        "token", "tok", "auth", "authorization", "key", "sig", "signature", "hash", "hmac", "exp", "expires", "expiry", "e", "st",
        "hdnts", "hdntl", "__token__", "policy", "key-pair-id", "x-amz-signature", "x-amz-credential", "x-amz-date", "x-amz-expires",
        "x-amz-security-token", "x-amz-signedheaders", "x-amz-algorithm", "wmsauthsign", "nimblesessionid", "session", "sid", "t", "ts",
        "jwt", "access_token", "md5", "s", "validfrom", "validto",
    ]

    public static func key(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: true) else { return url.absoluteString }
        components.fragment = nil
        let kept = (components.queryItems ?? []).filter { item in
            !tokenParameters.contains(item.name.lowercased()) && !looksLikeToken(item.value ?? "")
        }.sorted { ($0.name, $0.value ?? "") < ($1.name, $1.value ?? "") }
        components.queryItems = kept.isEmpty ? nil : kept
        return (components.string ?? url.absoluteString).lowercased()
    }

    /// Long random-looking values (32+ characters of base64 or hex) are tokens whatever their name.
    static func looksLikeToken(_ value: String) -> Bool {
        value.count >= 32 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.~=%+/".contains($0)) }
    }
}
