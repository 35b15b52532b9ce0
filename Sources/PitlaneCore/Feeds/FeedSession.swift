import Foundation

/// When a feed switches (`feeds:` in the configuration).
public struct FeedSettings: Sendable, Equatable {
    /// Failed fetches in a row of the playing member (each after its own hold and refresh) that switch the
    /// feed to the next member; the first ones are retried at once.
    public var switchAfter = 2
    /// Seconds a better-ranked member must have been healthy before the feed goes back to it.
    public var switchBackAfter: Double = 120
    /// Target durations without a new segment after which a live edge counts as stalled.
    public var stallTargetDurations: Double = 3

    public init(switchAfter: Int = 2, switchBackAfter: Double = 120, stallTargetDurations: Double = 3) {
        self.switchAfter = switchAfter
        self.switchBackAfter = switchBackAfter
        self.stallTargetDurations = stallTargetDurations
    }
}

/// One switch of a feed, for `/api/feeds/{id}`.
public struct FeedSwitch: Sendable, Equatable {
    public enum Reason: String, Sendable, CaseIterable {
        /// Segments of the playing member failed `switch_after` times in a row.
        case segmentFailed = "segment_failed"
        case playlistFailed = "playlist_failed"
        /// Its live edge did not move for three target durations.
        case edgeStalled = "edge_stalled"
        /// Its source's last run did not find it.
        case notFound = "not_found"
        /// A better-ranked member has been healthy for `switch_back_after`.
        case recovered
        /// The playing member left the catalogue.
        case gone
    }

    public var at: Date
    public var from: String?
    public var to: String
    public var reason: Reason
}

/// What a feed knows of one member's health while the feed is watched: outcomes of its fetches (the
/// playing member's by the players' requests, the others' by probes), and since when it has been healthy.
public struct MemberHealth: Sendable, Equatable {
    public var segmentsServed = 0
    public var segmentsFailed = 0
    public var playlistsServed = 0
    public var playlistsFailed = 0
    public var lastFailure: Date?
    public var lastReason: FeedSwitch.Reason?
    /// The first success after its last failure (nil while failing, or before anything was fetched).
    public var healthySince: Date?
    var segmentFailuresInRow = 0
    var playlistFailuresInRow = 0
    /// Per feed key: the newest segment the member listed, and when it first listed it.
    var edges: [String: (msn: Int, at: Date)] = [:]

    public static func == (lhs: MemberHealth, rhs: MemberHealth) -> Bool {
        lhs.segmentsServed == rhs.segmentsServed && lhs.segmentsFailed == rhs.segmentsFailed
            && lhs.playlistsServed == rhs.playlistsServed && lhs.playlistsFailed == rhs.playlistsFailed
            && lhs.lastFailure == rhs.lastFailure && lhs.healthySince == rhs.healthySince
    }
}

/// A watched feed: which member plays, the feed's own numbering per media playlist, its members' health
/// and its switches. Every decision is made here, under the actor, so concurrent failures of one member
/// (many viewers, several variants) switch the feed once: a failure of a member that no longer plays
/// changes nothing.
public actor FeedSession {
    public let id: String
    let settings: FeedSettings
    let clock: any WallClock
    public private(set) var playing: String?
    public private(set) var switches: [FeedSwitch] = []
    public private(set) var health: [String: MemberHealth] = [:]
    var timelines: [String: FeedTimeline] = [:]
    /// Bandwidth and height of each key of the master the players were given, so every member's nearest
    /// variant can be found for it.
    var variants: [String: MasterIndex.Entry] = [:]
    var probing: Set<String> = []
    var probed: [String: Date] = [:]
    /// Members the feed switched away from because they failed: the only ones it goes back to.
    var left: Set<String> = []
    /// Per key: since when a switch has waited for the new member's next segment.
    var waiting: [String: Date] = [:]
    /// Told of every switch as it is made (the proxy logs and counts it).
    let announce: @Sendable (String, FeedSwitch) -> Void
    static let historyLimit = 50
    /// Media playlists kept per feed (variants, renditions): more are not made for a hostile master.
    static let timelineLimit = 64

    public init(
        id: String, settings: FeedSettings, clock: any WallClock, announce: @escaping @Sendable (String, FeedSwitch) -> Void = { _, _ in }
    ) {
        self.announce = announce
        self.id = id
        self.settings = settings
        self.clock = clock
    }

    public enum FetchKind: Sendable { case segment, playlist }

    /// The member to play among `members` (ranked): the one playing, unless it left the feed.
    public func member(among members: [String]) -> String? {
        if let playing, members.contains(playing) { return playing }
        let next = members.first { isHealthy($0) } ?? members.first
        if let next {
            if let gone = playing {
                note(from: gone, to: next, reason: .gone)
                // Its listed segments are answered by the new member, as a failed member's are.
                var record = health[gone] ?? MemberHealth()
                record.lastFailure = clock.now()
                record.lastReason = .gone
                record.healthySince = nil
                health[gone] = record
            }
            play(next)
        }
        return next
    }

    /// Members in the order to try for a master: the playing one first, then the rest by rank.
    public func order(_ members: [String]) -> [String] {
        guard let first = member(among: members) else { return [] }
        return [first] + members.filter { $0 != first }
    }

    public func succeeded(_ member: String, _ kind: FetchKind) {
        let now = clock.now()
        var record = health[member] ?? MemberHealth()
        switch kind {
        case .segment:
            record.segmentsServed += 1
            record.segmentFailuresInRow = 0
        case .playlist:
            record.playlistsServed += 1
            record.playlistFailuresInRow = 0
        }
        if record.healthySince == nil { record.healthySince = now }
        health[member] = record
    }

    /// Counts a failure of `member`; when it is the playing member and has now failed `switch_after` times
    /// in a row (or at once, for `immediate` reasons), the feed switches to the next healthy member.
    /// Returns whether `member` no longer plays (the caller moves on to the playing one).
    @discardableResult
    public func failed(_ member: String, _ kind: FetchKind, reason: FeedSwitch.Reason, members: [String], immediate: Bool = false)
        -> Bool
    {
        var record = health[member] ?? MemberHealth()
        let inRow: Int
        switch kind {
        case .segment:
            record.segmentsFailed += 1
            record.segmentFailuresInRow += 1
            inRow = record.segmentFailuresInRow
        case .playlist:
            record.playlistsFailed += 1
            record.playlistFailuresInRow += 1
            inRow = record.playlistFailuresInRow
        }
        record.lastFailure = clock.now()
        record.lastReason = reason
        record.healthySince = nil
        health[member] = record
        guard playing == member else { return playing != nil }
        guard immediate || inRow >= settings.switchAfter else { return false }
        // Only to a member that has not failed within `switch_back_after`: with every member in trouble the
        // feed stays where it is rather than flapping between them.
        // Else to one that has answered since it last failed (a feed must not stay on a dead member while
        // one it left has come back).
        guard
            let next = members.first(where: { $0 != member && isHealthy($0) })
                ?? members.first(where: { $0 != member && health[$0]?.healthySince != nil })
        else { return false }
        note(from: member, to: next, reason: reason)
        left.insert(member)
        play(next)
        return true
    }

    /// A better-ranked member than the playing one that has been healthy for `switch_back_after`: the feed
    /// goes back to it (at the next segment boundary: the next playlist appends its segments).
    /// Only a member the feed left because it failed is gone back to: a change of rank (a faster start-up
    /// measured) never moves a feed that plays well.
    public func switchBack(members: [String]) -> String? {
        guard let playing, let position = members.firstIndex(of: playing) else { return nil }
        let now = clock.now()
        let back = members[..<position].first { member in
            guard left.contains(member), let since = health[member]?.healthySince else { return false }
            return now.timeIntervalSince(since) >= settings.switchBackAfter
        }
        guard let back else { return nil }
        note(from: playing, to: back, reason: .recovered)
        left.remove(back)
        play(back)
        return back
    }

    /// The better-ranked members than the playing one: probed while the feed is watched, so the feed knows
    /// when one has recovered.
    public func standby(members: [String]) -> [String] {
        guard let playing, let position = members.firstIndex(of: playing) else { return [] }
        return members[..<position].filter { left.contains($0) }
    }

    /// Whether a probe of `member` may start now: one at a time per member, one per target duration.
    public func beginProbe(_ member: String, spacing: TimeInterval) -> Bool {
        let now = clock.now()
        if let last = probed[member], now.timeIntervalSince(last) < spacing, now >= last { return false }
        guard probing.insert(member).inserted else { return false }
        probed[member] = now
        return true
    }

    public func endProbe(_ member: String) { probing.remove(member) }

    /// The target duration of the feed's media playlist for `key` (how long a player can wait for a segment).
    public func targetDuration(key: String) -> Int { timelines[key]?.targetDuration ?? 6 }

    /// Notes the newest segment `member` lists for `key`; true when it has not changed for
    /// `stall_target_durations` target durations (a frozen live edge).
    public func edgeStalled(_ member: String, key: String, newest: Int?, targetDuration: Int, ended: Bool) -> Bool {
        guard !ended else { return false }
        // A playlist without segments is an edge that does not move.
        let newest = newest ?? -1
        let now = clock.now()
        var record = health[member] ?? MemberHealth()
        defer { health[member] = record }
        guard let edge = record.edges[key], edge.msn == newest else {
            if record.edges.count >= Self.timelineLimit { record.edges.removeAll() }
            record.edges[key] = (newest, now)
            return false
        }
        return now.timeIntervalSince(edge.at) >= settings.stallTargetDurations * Double(targetDuration)
    }

    // MARK: Numbering

    /// Takes in the playing member's playlist for `key` and gives the feed's.
    /// Nil when the feed already keeps `timelineLimit` media playlists and this is another one.
    ///
    /// A playlist of a member that no longer plays (fetched before a switch another request made) changes
    /// nothing. A switch waits for the new member's segment that follows the moment the feed reached, but
    /// at most a target duration: a member that runs behind then joins at its live edge.
    public func merge(_ playlist: MemberPlaylist, member: String, key: String) -> Playlist? {
        guard timelines[key] != nil || timelines.count < Self.timelineLimit else { return nil }
        var timeline = timelines[key] ?? FeedTimeline()
        if member == playing || timeline.member == nil {
            let now = clock.now()
            let overdue = waiting[key].map { now.timeIntervalSince($0) >= Double(timeline.targetDuration) || now < $0 } ?? false
            if timeline.merge(playlist, member: member, joinAtEdge: overdue) {
                waiting[key] = nil
            } else if waiting[key] == nil {
                waiting[key] = now
            }
        }
        timelines[key] = timeline
        return timeline.render(key: key)
    }

    /// `member`'s segment that answers for the place `msn` of `key`, whose listed member failed.
    public func substitute(_ playlist: MemberPlaylist, member: String, key: String, at msn: Int) -> FeedSegment? {
        guard member == playing else { return timelines[key]?.answering(at: msn) }
        return timelines[key]?.substitute(playlist, member: member, at: msn)
    }

    /// The segment that answers for the place `msn` of `key` now.
    public func answering(key: String, msn: Int) -> FeedSegment? { timelines[key]?.answering(at: msn) }

    /// Whether `member` is failing now (it failed, and has not answered since).
    public func isFailing(_ member: String) -> Bool {
        guard let record = health[member] else { return false }
        return record.lastFailure != nil && record.healthySince == nil
    }

    /// Remembers the variants of the master the players were given.
    public func remember(_ index: MasterIndex) {
        for entry in index.entries.prefix(Self.timelineLimit) where variants[entry.key] != nil || variants.count < Self.timelineLimit {
            variants[entry.key] = entry
        }
    }

    /// How a member's master index is asked for the feed's `key`: the same key, else the nearest of its
    /// kind to the variant the players were given under it (`FeedProxy` refuses keys no member knows).
    public func entry(for key: String, in index: MasterIndex) -> MasterIndex.Entry? {
        index.entry(forKey: key, like: variants[key])
    }

    // MARK: Health

    func isHealthy(_ member: String) -> Bool {
        guard let failure = health[member]?.lastFailure else { return true }
        return clock.now().timeIntervalSince(failure) >= settings.switchBackAfter
    }

    /// Makes `member` the one playing, its failures in a row forgotten (what it did as a standby does not
    /// count towards leaving it again).
    private func play(_ member: String) {
        playing = member
        health[member]?.segmentFailuresInRow = 0
        health[member]?.playlistFailuresInRow = 0
    }

    /// Whether a listed segment of the feed came from `member` (a member that left the catalogue still
    /// has its listed places answered).
    public func lists(_ member: String) -> Bool {
        timelines.values.contains { $0.segments.contains { $0.member == member } }
    }

    /// Whether `key` is a key of the master the players were given.
    public func knows(_ key: String) -> Bool { variants[key] != nil || key == MasterIndex.singleVariantKey }

    private func note(from: String?, to: String, reason: FeedSwitch.Reason) {
        let change = FeedSwitch(at: clock.now(), from: from, to: to, reason: reason)
        switches.append(change)
        announce(id, change)
        if switches.count > Self.historyLimit { switches.removeFirst(switches.count - Self.historyLimit) }
    }
}
