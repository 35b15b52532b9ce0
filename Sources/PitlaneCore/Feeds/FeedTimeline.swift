import Foundation

/// One media playlist of a feed (one variant or rendition), numbered by Pitlane: its segments come from
/// whichever member plays, and its media sequence keeps counting up across switches. A switch is one
/// EXT-X-DISCONTINUITY, EXT-X-DISCONTINUITY-SEQUENCE counts the ones that slid out of the window, and the
/// segments after a switch are the new member's from the same moment of the programme (by
/// PROGRAM-DATE-TIME when both carry it, else by distance from the live edge).
public struct FeedTimeline: Sendable, Equatable {
    /// The segments in the window; the first is numbered `firstMSN`.
    public private(set) var segments: [FeedSegment] = []
    public private(set) var firstMSN = 0
    public private(set) var discontinuitySequence = 0
    /// Places whose member failed, answered by another member's segment (see `substitute`).
    public private(set) var substitutes: [Int: FeedSegment] = [:]
    /// Never lowered (RFC 8216bis §6.2.1: it must not change), raised when a member's is larger.
    public private(set) var targetDuration = 1
    var version: Int?
    var independentSegments = false
    var iFramesOnly = false
    var ended = false
    /// Segments the window keeps: the playing member's window length, within bounds.
    var windowLength = 6
    static let maximumWindow = 200

    public init() {}

    /// The number of the next segment to be appended.
    public var nextMSN: Int { firstMSN + segments.count }

    /// The member whose segments are appended now (the last one's).
    public var member: String? { segments.last?.member }

    public func segment(at msn: Int) -> FeedSegment? {
        guard msn >= firstMSN, msn < nextMSN else { return nil }
        return segments[msn - firstMSN]
    }

    /// Takes in the playing member's playlist. Its new segments are appended; when it is another member than
    /// the last one (a switch), its segments join after the last segment listed, from the same moment.
    /// Returns false when a switch found no segment of the new member after that moment yet (the window is
    /// left as it is until one comes).
    ///
    /// `joinAtEdge`: the switch has waited long enough; the new member's newest segment follows.
    @discardableResult
    public mutating func merge(_ playlist: MemberPlaylist, member: String, joinAtEdge: Bool = false) -> Bool {
        absorbHeader(playlist)
        guard let last = segments.last else {
            // The first member numbers the feed as it numbers itself.
            firstMSN = playlist.segments.first?.memberMSN ?? 0
            append(playlist.segments, discontinuityFirst: false)
            return true
        }
        if last.member == member, let newest = playlist.segments.last, newest.memberMSN < last.memberMSN {
            // Lower numbers: a packager that restarted, or a stale copy from a CDN edge behind the others.
            // Dates tell them apart; without dates, only a drop beyond the window is a restart.
            let stale =
                if let newestEnd = newest.end, let lastEnd = last.end { newestEnd <= lastEnd } else {
                    last.memberMSN - newest.memberMSN <= windowLength
                }
            if stale { return true }
        } else if last.member == member {
            let fresh = playlist.segments.filter { $0.memberMSN > last.memberMSN }
            // A member that restarted its numbering, or one not read for longer than its window: what
            // follows is not the next segment, so it starts after a discontinuity.
            let continuous = fresh.first.map { $0.memberMSN == last.memberMSN + 1 } ?? true
            append(fresh, discontinuityFirst: !continuous)
            return true
        }
        // Another member, or the same one numbering anew (a packager restarted): it joins after a
        // discontinuity, from the moment the feed reached.
        guard
            let start = Self.start(in: playlist.segments, after: last, replacing: []) ?? (joinAtEdge ? playlist.segments.indices.last : nil)
        else { return false }
        append(Array(playlist.segments[start...]), discontinuityFirst: true)
        return true
    }

    /// What answers for a listed segment whose member failed: `member`'s segment of the same moment. A
    /// live playlist never changes what it listed (RFC 8216bis §6.2.2), so the place keeps its URI and the
    /// request for it is answered with this segment; the new member's own segments are listed after the
    /// failed member's, behind the one discontinuity. Chosen once per place: by the new member's numbering
    /// when its segments follow already, else by date, else by distance from the live edge.
    public mutating func substitute(_ playlist: MemberPlaylist, member: String, at msn: Int) -> FeedSegment? {
        if let chosen = substitutes[msn], chosen.member == member { return chosen }
        guard let listed = segment(at: msn) else { return nil }
        if listed.member == member { return listed }
        let index = msn - firstMSN
        var chosen: FeedSegment?
        if let next = segments[index...].firstIndex(where: { $0.member == member }) {
            let wanted = segments[next].memberMSN - (next - index)
            chosen = playlist.segments.first { $0.memberMSN == wanted }
        }
        if chosen == nil {
            let after = index > 0 ? segments[index - 1] : nil
            let rest = Array(segments[index...].prefix { $0.member == listed.member })
            if let start = Self.start(in: playlist.segments, after: after, replacing: rest) { chosen = playlist.segments[start] }
        }
        // A segment of another member under the place's EXT-X-MAP or EXT-X-KEY would be read with the wrong
        // init section or key: such places are not answered by another member.
        guard let chosen, !chosen.isGap, chosen.map == nil, chosen.keys.isEmpty, listed.map == nil, listed.keys.isEmpty else {
            return nil
        }
        substitutes[msn] = chosen
        return chosen
    }

    /// The segment that answers for the place `msn` now: a substitute, or the one listed.
    public func answering(at msn: Int) -> FeedSegment? { substitutes[msn] ?? segment(at: msn) }

    /// Where the new member's segments take over: the first one that ends more than half its duration after
    /// the moment the feed reached (the end of `after`, or the start of what it replaces). Without dates,
    /// the moment is told by the distance from the live edge: as far back as the replaced segments reached
    /// (for a switch at the edge, the new member's newest segment).
    static func start(in segments: [FeedSegment], after: FeedSegment?, replacing: [FeedSegment]) -> Int? {
        guard !segments.isEmpty else { return nil }
        let moment = after?.end ?? replacing.first?.programDateTime
        if let moment, segments.allSatisfy({ $0.programDateTime != nil }) {
            let window = segments.reduce(0) { $0 + $1.duration }
            if let index = segments.firstIndex(where: { ($0.end ?? moment) > moment.addingTimeInterval($0.duration / 2) }) {
                // A clock far ahead of the old member's says nothing about it either: join at the edge.
                if index == 0, let first = segments[0].programDateTime, first.timeIntervalSince(moment) > window {
                    return segments.count - 1
                }
                return index
            }
            // Not there yet: wait for it, unless the new member's clock is so far behind that its dates say
            // nothing about the old one's (two encoders); then its live edge is the moment.
            let lag = moment.timeIntervalSince(segments.last?.end ?? moment)
            if replacing.isEmpty && lag <= max(window, 2 * (segments.last?.duration ?? 0)) { return nil }
            return segments.count - 1
        }
        var behind = replacing.reduce(0) { $0 + $1.duration }
        var index = segments.count - 1
        while index > 0, behind > segments[index].duration / 2 {
            behind -= segments[index].duration
            index -= 1
        }
        return index
    }

    private mutating func absorbHeader(_ playlist: MemberPlaylist) {
        targetDuration = max(targetDuration, playlist.targetDuration)
        if let version = playlist.version { self.version = max(self.version ?? 0, version) }
        independentSegments = playlist.independentSegments
        iFramesOnly = playlist.iFramesOnly
        ended = playlist.ended
        windowLength = min(max(playlist.segments.count, 3), Self.maximumWindow)
    }

    private mutating func append(_ fresh: [FeedSegment], discontinuityFirst: Bool) {
        for (position, var segment) in fresh.enumerated() {
            if position == 0 && discontinuityFirst { segment.discontinuity = true }
            // The programme's clock carries over a member that does not tell it (live timing stays in sync).
            if segment.programDateTime == nil, let end = segments.last?.end { segment.programDateTime = end }
            segments.append(segment)
        }
        // The window keeps the member's length, and never less than three target durations (RFC 8216bis
        // §6.2.2), which a switch between members of different lengths would otherwise break.
        var total = segments.reduce(0) { $0 + $1.duration }
        var excess = 0
        while excess < segments.count - windowLength {
            let rest = total - segments[excess].duration
            guard rest >= 3 * Double(targetDuration) || segments.count - excess > Self.maximumWindow else { break }
            total = rest
            excess += 1
        }
        guard excess > 0 else { return }
        discontinuitySequence += segments.prefix(excess).filter(\.discontinuity).count
        segments.removeFirst(excess)
        firstMSN += excess
        substitutes = substitutes.filter { $0.key >= firstMSN }
    }

    /// The feed's media playlist. Segment URIs name the feed playlist and position they were listed at
    /// (`../s/{key}~{msn}~{handle}.{ext}`), so a request for a segment whose member failed can be answered
    /// with the segment that replaced it.
    public func render(key: String) -> Playlist {
        var lines: [PlaylistLine] = [.tag(Tag(name: "EXTM3U", value: nil))]
        let version = max(version ?? 3, segments.contains { $0.map != nil } ? 6 : 3)
        lines.append(.tag(Tag(name: "EXT-X-VERSION", value: String(version))))
        lines.append(.tag(Tag(name: "EXT-X-TARGETDURATION", value: String(targetDuration))))
        lines.append(.tag(Tag(name: "EXT-X-MEDIA-SEQUENCE", value: String(firstMSN))))
        lines.append(.tag(Tag(name: "EXT-X-DISCONTINUITY-SEQUENCE", value: String(discontinuitySequence))))
        if independentSegments { lines.append(.tag(Tag(name: "EXT-X-INDEPENDENT-SEGMENTS", value: nil))) }
        if iFramesOnly { lines.append(.tag(Tag(name: "EXT-X-I-FRAMES-ONLY", value: nil))) }
        var map: Tag?
        var keys: [Tag] = []
        for (position, segment) in segments.enumerated() {
            if segment.discontinuity { lines.append(.tag(Tag(name: "EXT-X-DISCONTINUITY", value: nil))) }
            if segment.keys != keys {
                // Cleared first, so no key format of the old set stays in effect.
                if !keys.isEmpty { lines.append(.tag(Tag(name: "EXT-X-KEY", value: "METHOD=NONE"))) }
                lines += segment.keys.map(PlaylistLine.tag)
                keys = segment.keys
            }
            if let wanted = segment.map, wanted != map || segment.discontinuity {
                lines.append(.tag(wanted))
                map = wanted
            }
            if let date = segment.programDateTime {
                lines.append(.tag(Tag(name: "EXT-X-PROGRAM-DATE-TIME", value: FeedSegment.formatDate(date))))
            }
            let msn = firstMSN + position
            lines += segment.lines.map { line in
                guard case .uri(let uri) = line else { return line }
                return .uri(Self.feedURI(uri, key: key, msn: msn))
            }
        }
        if ended { lines.append(.tag(Tag(name: "EXT-X-ENDLIST", value: nil))) }
        return Playlist(kind: .media, lines: lines)
    }

    static let handlePrefix = "../s/"

    static func feedURI(_ uri: String, key: String, msn: Int) -> String {
        guard uri.hasPrefix(handlePrefix), !uri.hasPrefix(handlePrefix + MediaRewriter.gapToken + ".") else { return uri }
        return handlePrefix + "\(key)~\(msn)~" + uri.dropFirst(handlePrefix.count)
    }
}
