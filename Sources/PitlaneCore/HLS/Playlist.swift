import Foundation

/// A parsed HLS playlist: every line in its original order, so that serializing an unmodified playlist
/// gives back its content (normalized to LF line endings, without a BOM or blank lines).
public struct Playlist: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case master
        case media
    }

    public var kind: Kind
    public var lines: [PlaylistLine]

    public init(kind: Kind, lines: [PlaylistLine]) {
        self.kind = kind
        self.lines = lines
    }

    /// The value of the first tag with this name (e.g. `EXT-X-TARGETDURATION`), if any.
    public func firstTagValue(_ name: String) -> String? {
        for case .tag(let tag) in lines where tag.name == name { return tag.value ?? "" }
        return nil
    }

    /// The target duration in seconds, when the playlist declares one.
    public var targetDuration: Double? {
        firstTagValue("EXT-X-TARGETDURATION").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The media sequence number of the first segment (0 when the tag is absent, as the RFC says). A
    /// number no real stream reaches (negative, or over 2^53) reads as 0: counting on from `Int.max` would
    /// trap, and nothing an upstream writes may crash Pitlane.
    public var mediaSequence: Int {
        let value = firstTagValue("EXT-X-MEDIA-SEQUENCE").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        return (0...Self.largestSequence).contains(value) ? value : 0
    }

    /// The largest media sequence number or skip count Pitlane takes as written.
    public static let largestSequence = 1 << 53

    /// `msn` after an `EXT-X-SKIP`: its SKIPPED-SEGMENTS added, the sum never over `largestSequence` (a
    /// playlist of a thousand skips must not count past `Int.max`).
    public static func skipping(_ tag: Tag, from msn: Int) -> Int {
        let value = Int(tag.attributes["SKIPPED-SEGMENTS"] ?? "") ?? 0
        guard (0...largestSequence).contains(value) else { return msn }
        return min(msn + value, largestSequence)
    }

    public var hasEndList: Bool { firstTagValue("EXT-X-ENDLIST") != nil }

    public func serialized() -> String {
        var output = ""
        output.reserveCapacity(lines.count * 48)
        for line in lines {
            output += line.serialized
            output += "\n"
        }
        return output
    }
}

/// One line of a playlist.
public enum PlaylistLine: Sendable, Hashable {
    case tag(Tag)
    case uri(String)
    /// A `#` line that is not a tag; kept because some packagers put meaning in comments.
    case comment(String)

    public var serialized: String {
        switch self {
        case .tag(let tag): tag.serialized
        case .uri(let uri): uri
        case .comment(let text): text
        }
    }
}

/// A `#EXT…` tag. Tags whose value is an attribute list expose it through `attributes`; the raw value is
/// kept for every other tag so unknown tags pass through untouched.
public struct Tag: Sendable, Hashable {
    public var name: String
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }

    public init(name: String, attributes: AttributeList) {
        self.name = name
        self.value = attributes.serialized
    }

    public var attributes: AttributeList {
        get { AttributeList(parsing: Substring(value ?? "")) }
        set { value = newValue.serialized }
    }

    public var serialized: String {
        if let value { return "#\(name):\(value)" }
        return "#\(name)"
    }
}
