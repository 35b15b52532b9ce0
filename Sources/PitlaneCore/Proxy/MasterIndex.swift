import Crypto
import Foundation

/// The variants and renditions of a stream's current master playlist, keyed by their attributes rather
/// than their URLs: a refreshed master with new tokens gives the same keys, so players polling
/// `/hls/{stream}/v/{key}.m3u8` follow the refresh without noticing.
public struct MasterIndex: Sendable, Equatable {
    public enum EntryKind: Sendable, Equatable {
        case variant
        case iFrame
        /// EXT-X-IMAGE-STREAM-INF: a playlist of thumbnails.
        case images
        case rendition(type: String)
    }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var kind: EntryKind
        public var upstream: URL
        /// For an AUDIO rendition: the audio codecs of the variants that use its group.
        public var codecs: String?
        /// A variant's BANDWIDTH and the height of its RESOLUTION: how the nearest variant of another
        /// member of a feed is found.
        public var bandwidth: Int?
        public var height: Int?
        /// A rendition's LANGUAGE: commentary in German stays German on another member.
        public var language: String?

        public init(
            key: String, kind: EntryKind, upstream: URL, codecs: String? = nil, bandwidth: Int? = nil, height: Int? = nil,
            language: String? = nil
        ) {
            self.language = language
            self.bandwidth = bandwidth
            self.height = height
            self.key = key
            self.kind = kind
            self.upstream = upstream
            self.codecs = codecs
        }

        /// What the entry's media playlist carries, for typing its disguised segments.
        public var context: MediaContext {
            switch kind {
            case .rendition(type: "SUBTITLES"): .subtitles
            case .rendition(type: "AUDIO"): .audio(codecs: codecs)
            case .images: .images
            default: .video
            }
        }
    }

    public var entries: [Entry]
    /// The master's EXT-X-DEFINE variables, which its media playlists may IMPORT.
    public var variables: [String: String]

    public init(entries: [Entry], variables: [String: String] = [:]) {
        self.entries = entries
        self.variables = variables
    }

    /// The key under which a stream whose upstream is a media playlist serves its only variant.
    public static let singleVariantKey = "main"

    /// The index of an upstream that is a media playlist, not a master.
    public static func singleVariant(_ mediaURL: URL) -> MasterIndex {
        MasterIndex(entries: [Entry(key: singleVariantKey, kind: .variant, upstream: mediaURL)])
    }

    /// The entry for a key. When a refreshed master changed a variant's attributes (a CDN re-encoding at
    /// another bitrate, say), the key no longer matches exactly; the player then gets the entry of the same
    /// kind with the nearest bandwidth rather than a fatal 404.
    public func entry(forKey key: String) -> Entry? {
        if let exact = entries.first(where: { $0.key == key }) { return exact }
        if key == Self.singleVariantKey { return entries.first { $0.kind == .variant } }
        guard let kind = key.first else { return nil }
        let sameKind = entries.filter { $0.key.first == kind && $0.key != Self.singleVariantKey }
        if sameKind.count <= 1 { return sameKind.first }
        guard let wanted = Self.bandwidth(in: key) else { return nil }
        return sameKind.min { abs((Self.bandwidth(in: $0.key) ?? 0) - wanted) < abs((Self.bandwidth(in: $1.key) ?? 0) - wanted) }
    }

    /// The entry for a key of another master (a feed's other member): the same key, else the entry of the
    /// same kind nearest to `like` (the other master's entry for it): the same height first, then the
    /// nearest bandwidth; a rendition of the same type when no rendition has the key.
    public func entry(forKey key: String, like: Entry?) -> Entry? {
        if let exact = entries.first(where: { $0.key == key }) { return exact }
        guard let like else { return entry(forKey: key) ?? entries.first { $0.key.first == key.first } }
        let sameKind = entries.filter { $0.kind == like.kind }
        // Bounded values (MasterRewriter.bounded): the distances cannot overflow.
        let distance: (Entry) -> (Int, Int, Int) = { entry in
            let language = entry.language?.lowercased() == like.language?.lowercased() ? 0 : 1
            let height = abs((entry.height ?? 0) - (like.height ?? 0))
            return (language, height, abs((entry.bandwidth ?? 0) - min(like.bandwidth ?? Self.bandwidth(in: key) ?? 0, 1 << 32)))
        }
        return sameKind.min { distance($0) < distance($1) } ?? entry(forKey: key)
    }

    /// The bandwidth written into a variant key (`v3000000-1a2b3c4d`).
    static func bandwidth(in key: String) -> Int? {
        Int(key.dropFirst().prefix { $0.isNumber })
    }

    /// The key of the entry whose upstream has the same scheme, host and path (tokens differ between
    /// refreshes, so the query is ignored).
    public func key(forUpstream url: URL) -> String? {
        let wanted = URLIdentity(url)
        return entries.first { URLIdentity($0.upstream) == wanted }?.key
    }
}

/// A URL without its query and fragment: how the same resource is recognised across token refreshes.
public struct URLIdentity: Hashable, Sendable {
    public let value: String

    public init(_ url: URL) {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: true)
        components?.query = nil
        components?.fragment = nil
        components?.user = nil
        components?.password = nil
        value = (components?.string ?? url.absoluteString).lowercased()
    }
}

/// Derives stable variant keys from attributes (RFC 8216bis leaves URLs free to change, attributes not).
enum VariantKeyMaker {
    static func key(for tagName: String, attributes: AttributeList) -> String {
        switch tagName {
        case "EXT-X-MEDIA":
            let type = attributes["TYPE"] ?? ""
            let prefix =
                switch type {
                case "AUDIO": "a"
                case "SUBTITLES": "t"
                default: "r"
                }
            return prefix + "-" + digest([type, attributes["GROUP-ID"], attributes["NAME"], attributes["LANGUAGE"]])
        default:
            let prefix =
                switch tagName {
                case "EXT-X-I-FRAME-STREAM-INF": "i"
                case "EXT-X-IMAGE-STREAM-INF": "g"
                default: "v"
                }
            let bandwidth = attributes["BANDWIDTH"] ?? "0"
            let digest = digest([
                attributes["BANDWIDTH"], attributes["RESOLUTION"], attributes["CODECS"], attributes["FRAME-RATE"],
            ])
            return "\(prefix)\(safe(bandwidth))-\(digest)"
        }
    }

    private static func digest(_ values: [String?]) -> String {
        let canonical = values.map { $0 ?? "" }.joined(separator: "\u{1F}")
        return SHA256.hash(data: Data(canonical.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    private static func safe(_ text: String) -> String {
        String(text.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(12))
    }
}
