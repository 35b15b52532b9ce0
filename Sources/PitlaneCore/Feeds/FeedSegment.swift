import Foundation

/// One segment of a member's media playlist as a feed keeps it: the lines that belong to it alone (EXTINF,
/// BYTERANGE, GAP, DATERANGE, the URI), and the state that earlier lines put in effect for it (the
/// EXT-X-MAP, the EXT-X-KEYs, its PROGRAM-DATE-TIME), so any window of a feed's timeline can be written out
/// on its own, whichever member each segment came from.
public struct FeedSegment: Sendable, Equatable {
    public var member: String
    /// Its media sequence number in the member's own playlist.
    public var memberMSN: Int
    public var duration: Double
    public var programDateTime: Date?
    /// The EXT-X-MAP in effect, if any.
    public var map: Tag?
    /// The EXT-X-KEYs in effect (none for clear segments).
    public var keys: [Tag]
    /// An EXT-X-DISCONTINUITY precedes it: the member's own, or the feed's switch to another member.
    public var discontinuity: Bool
    /// Its own lines, the URI last (as the member's rewritten playlist wrote them: `../s/{handle}.{ext}`).
    public var lines: [PlaylistLine]

    public init(
        member: String, memberMSN: Int, duration: Double, programDateTime: Date? = nil, map: Tag? = nil, keys: [Tag] = [],
        discontinuity: Bool = false, lines: [PlaylistLine]
    ) {
        self.member = member
        self.memberMSN = memberMSN
        self.duration = duration
        self.programDateTime = programDateTime
        self.map = map
        self.keys = keys
        self.discontinuity = discontinuity
        self.lines = lines
    }

    /// The URI line, which the player fetches.
    public var uri: String? {
        for case .uri(let uri) in lines.reversed() { return uri }
        return nil
    }

    /// An EXT-X-GAP segment: nothing to fetch (its placeholder answers 404).
    var isGap: Bool { lines.contains { if case .tag(let tag) = $0 { tag.name == "EXT-X-GAP" } else { false } } }

    /// When it ends on the program's clock.
    var end: Date? { programDateTime.map { $0.addingTimeInterval(duration) } }
}

/// A member's media playlist cut into feed segments.
public struct MemberPlaylist: Sendable, Equatable {
    public var segments: [FeedSegment]
    public var targetDuration: Int
    public var version: Int?
    public var independentSegments: Bool
    public var iFramesOnly = false
    public var ended: Bool

    /// Header and low-latency tags a feed writes itself or leaves out: a feed is plain HLS (whole segments,
    /// no parts, no blocking reloads, no skips), its numbering its own.
    static let headerTags: Set<String> = [
        "EXTM3U", "EXT-X-VERSION", "EXT-X-TARGETDURATION", "EXT-X-MEDIA-SEQUENCE", "EXT-X-DISCONTINUITY-SEQUENCE",
        "EXT-X-INDEPENDENT-SEGMENTS", "EXT-X-PLAYLIST-TYPE", "EXT-X-ENDLIST", "EXT-X-SERVER-CONTROL", "EXT-X-PART-INF", "EXT-X-PART",
        "EXT-X-PRELOAD-HINT", "EXT-X-RENDITION-REPORT", "EXT-X-SKIP", "EXT-X-START", "EXT-X-DEFINE", "EXT-X-ALLOW-CACHE",
        "EXT-X-I-FRAMES-ONLY",
    ]

    /// Cuts a (rewritten) media playlist into segments. Parts of a segment still being written (LL-HLS) are
    /// left out: a feed lists a segment once it is whole.
    public init(_ playlist: Playlist, member: String) {
        var segments: [FeedSegment] = []
        var msn = playlist.mediaSequence
        var map: Tag?
        var keys: [Tag] = []
        var discontinuity = false
        var programDateTime: Date?
        var duration: Double?
        var own: [PlaylistLine] = []
        for line in playlist.lines {
            switch line {
            case .tag(let tag):
                switch tag.name {
                case "EXT-X-SKIP":
                    // Never asked for by a feed; if an upstream sends it anyway, the numbering still holds.
                    msn = Playlist.skipping(tag, from: msn)
                case "EXT-X-MAP": map = tag
                case "EXT-X-KEY":
                    let method = tag.attributes["METHOD"] ?? "NONE"
                    let format = tag.attributes["KEYFORMAT"] ?? "identity"
                    keys.removeAll { ($0.attributes["KEYFORMAT"] ?? "identity") == format || method == "NONE" }
                    if method != "NONE" { keys.append(tag) }
                case "EXT-X-DISCONTINUITY": discontinuity = true
                case "EXT-X-PROGRAM-DATE-TIME": programDateTime = tag.value.flatMap(FeedSegment.parseDate).flatMap(FeedSegment.plausible)
                case "EXTINF":
                    duration = Double((tag.value ?? "").prefix { $0 != "," }.trimmingCharacters(in: .whitespaces))
                    own.append(line)
                default:
                    if !Self.headerTags.contains(tag.name) { own.append(line) }
                }
            case .comment:
                continue
            case .uri:
                own.append(line)
                // A duration no segment has (negative, NaN, over a day) counts as none.
                let seconds = duration.flatMap { $0.isFinite && $0 >= 0 && $0 <= 86_400 ? $0 : nil } ?? 0
                segments.append(
                    FeedSegment(
                        member: member, memberMSN: msn, duration: seconds, programDateTime: programDateTime, map: map, keys: keys,
                        discontinuity: discontinuity, lines: own))
                msn += 1
                // A date carries on to the next segment, advanced by this one's duration (RFC 8216bis §4.4.4.6).
                programDateTime = programDateTime?.addingTimeInterval(seconds)
                discontinuity = false
                duration = nil
                own = []
            }
        }
        self.segments = segments
        let declared = playlist.targetDuration.flatMap { $0.isFinite ? Int(min(max($0, 1), 3600).rounded()) : nil }
        self.targetDuration = declared ?? min(3600, max(1, Int((segments.map(\.duration).max() ?? 6).rounded(.up))))
        self.iFramesOnly = playlist.firstTagValue("EXT-X-I-FRAMES-ONLY") != nil
        self.version = playlist.firstTagValue("EXT-X-VERSION").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        self.independentSegments = playlist.firstTagValue("EXT-X-INDEPENDENT-SEGMENTS") != nil
        self.ended = playlist.hasEndList
    }
}

extension FeedSegment {
    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let whole = Date.ISO8601FormatStyle(timeZone: .gmt)

    static func parseDate(_ text: String) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        return (try? fractional.parse(text)) ?? (try? whole.parse(text))
    }

    static func formatDate(_ date: Date) -> String { fractional.format(date) }

    /// A date between the years 1970 and 9999, else none (arithmetic and formatting stay sane).
    static func plausible(_ date: Date) -> Date? {
        (0...253_402_300_799).contains(date.timeIntervalSince1970) ? date : nil
    }
}
