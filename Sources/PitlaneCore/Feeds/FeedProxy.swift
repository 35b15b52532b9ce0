import Foundation
import Logging
import NIOConcurrencyHelpers

/// Serves a feed under `/hls/{feed}/…`: the playing member's master, the feed's own media playlists (see
/// `FeedTimeline`) and its members' resources, and fails over inside them. A failed segment is answered
/// with the next member's segment for the same moment, so the player's request that met the failure is
/// the one that plays on; a failed or frozen playlist is answered from the next member. Better-ranked
/// members are probed while the feed is watched, and the feed goes back to one after it has been healthy
/// for `switch_back_after`.
public final class FeedProxy: Sendable {
    let proxy: HLSProxy
    let catalog: StreamCatalog
    let settings: FeedSettings
    let clock: any WallClock
    let metrics: PitlaneMetrics
    let logger: Logger
    let sessions: FeedSessions
    let grouping = NIOLockedValueBox<(at: Date, members: [String: [String]])?>(nil)

    public init(
        proxy: HLSProxy, catalog: StreamCatalog, settings: FeedSettings = FeedSettings(), clock: any WallClock,
        metrics: PitlaneMetrics = .off, logger: Logger = Logger(label: "pitlane.feeds")
    ) {
        self.proxy = proxy
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        self.sessions = FeedSessions(settings: settings, clock: clock) { feed, change in
            logger.notice(
                "feed switched",
                metadata: ["feed": "\(feed)", "from": "\(change.from ?? "-")", "to": "\(change.to)", "reason": "\(change.reason.rawValue)"])
            metrics.feedSwitched(feed: feed, reason: change.reason.rawValue)
        }
    }

    /// Feed ids begin so (no source may be called `feed`, so no stream id does).
    public static func isFeed(_ id: String) -> Bool { id.hasPrefix("feed-") }

    /// The feed's session while it is watched (nil before its first request).
    public func session(_ id: String) async -> FeedSession? { await sessions.existing(id) }

    // MARK: Routes

    /// `/hls/{feed}/master.m3u8`: the playing member's master (the next member's when it fails).
    public func master(feed id: String) async -> ProxyReply {
        guard let (members, session) = await resolve(id) else { return Self.noFeed(id) }
        var last = ProxyReply.failure(.unavailable("no member of feed \(id) answers"))
        let proxy = self.proxy
        for member in await session.order(members) {
            if Task.isCancelled { break }
            // The first load too: a member that does not answer within a few seconds is passed over.
            let patience: Duration? = members.count > 1 ? Self.patience(6) : nil
            guard let reply = try? await patiently(member, session: session, patience: patience, { await proxy.master(stream: member) })
            else {
                await session.failed(member, .playlist, reason: .playlistFailed, members: members, immediate: true)
                continue
            }
            if reply.status == 200 {
                await session.succeeded(member, .playlist)
                if let index = await proxy.memberIndex(stream: member) { await session.remember(index) }
                return reply
            }
            await session.failed(member, .playlist, reason: .playlistFailed, members: members, immediate: true)
            last = reply
        }
        return last
    }

    /// `/hls/{feed}/v/{key}.m3u8`: the feed's media playlist, from the playing member's nearest variant.
    public func variant(feed id: String, key: String) async -> ProxyReply {
        guard let (members, session) = await resolve(id) else { return Self.noFeed(id) }
        guard await knows(key, members: members, session: session) else {
            return .failure(ProxyFailure(status: 404, message: "feed \(id) has no variant \(key)"))
        }
        _ = await session.switchBack(members: members)
        var last = ProxyReply.failure(.unavailable("no member of feed \(id) answers"))
        for _ in 0..<attempts(members) {
            guard !Task.isCancelled, let member = await session.member(among: members) else { break }
            do {
                // A member that keeps the player waiting longer than a segment lasts, with another to ask.
                let patience = await patience(key: key, members: members, session: session)
                guard
                    let cut = try await patiently(
                        member, session: session, patience: patience,
                        { [self] in
                            try await memberPlaylist(member, key: key, session: session)
                        })
                else {
                    if Task.isCancelled { break }
                    _ = await session.failed(member, .playlist, reason: .playlistFailed, members: members, immediate: true)
                    last = .failure(.unavailable("the feed's member did not answer in time"))
                    continue
                }
                if let reason = await trouble(member, key: key, cut: cut, session: session, members: members) {
                    if await session.failed(member, .playlist, reason: reason, members: members, immediate: true) { continue }
                } else {
                    await session.succeeded(member, .playlist)
                }
                var merged = cut
                // One member's ENDLIST does not end a feed that has others (the switch above was tried).
                if members.count > 1 { merged.ended = false }
                guard let playlist = await session.merge(merged, member: member, key: key) else {
                    return .failure(ProxyFailure(status: 503, message: "feed \(id) keeps as many media playlists as it may", retryAfter: 5))
                }
                // Another request switched the feed meanwhile: the playlist to give is the new member's.
                if await session.playing != member { continue }
                probe(await session.standby(members: members), key: key, session: session)
                return .playlist(playlist)
            } catch is CancellationError {
                break
            } catch {
                last = proxy.memberFailure(error, stream: member, what: "feed \(id) variant \(key)")
                await session.failed(member, .playlist, reason: .playlistFailed, members: members)
            }
        }
        return last
    }

    /// `/hls/{feed}/s/{key}~{msn}~{handle}.{ext}` (a segment at its place in the feed) or
    /// `/hls/{feed}/s/{handle}.{ext}` (keys, init sections, parts of the member's master).
    public func resource(feed id: String, token: String, ext: String, range: String?) async -> ProxyReply {
        let position = FeedPosition(token)
        if position.handle == MediaRewriter.gapToken { return await proxy.resource(stream: id, token: token, ext: ext, range: range) }
        let handle: ResourceHandle
        do {
            handle = try proxy.openHandle(position.handle)
        } catch .expired {
            return .failure(.expiredHandle)
        } catch {
            return .failure(.invalidHandle)
        }
        guard let (members, session) = await resolve(id), await Self.belongs(handle.stream, to: members, session: session) else {
            return .failure(.invalidHandle)
        }
        guard handle.kind == .segment, let key = position.key, let msn = position.msn else {
            return await proxy.resource(stream: handle.stream, token: position.handle, ext: ext, range: range)
        }
        var current = (member: handle.stream, token: position.handle, ext: ext, range: range)
        var last = ProxyReply.failure(.unavailable("no member of feed \(id) has this segment"))
        for _ in 0..<attempts(members) {
            if Task.isCancelled { break }
            // The segment that answers for this place now: another member's, once its own member failed.
            if await session.isFailing(current.member), let playing = await session.member(among: members), playing != current.member,
                await session.answering(key: key, msn: msn)?.member == current.member
            {
                await substitute(playing, key: key, at: msn, session: session, members: members, feed: id)
            }
            if let answering = await session.answering(key: key, msn: msn), answering.member != current.member,
                let replacement = FeedPosition.resource(of: answering)
            {
                current = (answering.member, replacement.handle, replacement.ext, replacement.range)
            } else if await session.isFailing(current.member), await session.playing != current.member {
                // No other member can answer for this place (an init section or key in the way): the player
                // retries, and the playlist moves on past it to the new member.
                return .failure(.unavailable("the feed switched; this segment of the member it left cannot be replaced"))
            }
            // A member that left the feed's play, or that keeps a player waiting longer than a segment lasts
            // while another member could answer, is given up on.
            let patience = await patience(key: key, members: members, session: session)
            // (A member held for a token refresh is waited for: the hold has its own bound.)
            guard let reply = await attempt(current.member, current.token, current.ext, current.range, session: session, patience: patience)
            else {
                if Task.isCancelled { break }
                last = .failure(.unavailable("the feed's member did not answer in time"))
                if await session.playing == current.member {
                    await session.failed(current.member, .segment, reason: .segmentFailed, members: members, immediate: true)
                }
                if await session.playing != current.member, let playing = await session.member(among: members) {
                    await substitute(playing, key: key, at: msn, session: session, members: members, feed: id)
                }
                continue
            }
            guard reply.status >= 500 else {
                if reply.status < 400 { await session.succeeded(current.member, .segment) }
                return reply
            }
            last = reply
            guard await session.failed(current.member, .segment, reason: .segmentFailed, members: members),
                let playing = await session.member(among: members)
            else { continue }
            await substitute(playing, key: key, at: msn, session: session, members: members, feed: id)
        }
        return last
    }

    /// After a switch: the new member's segment of the same moment answers for the failed one's place.
    func substitute(_ playing: String, key: String, at msn: Int, session: FeedSession, members: [String], feed id: String) async {
        do {
            let cut = try await memberPlaylist(playing, key: key, session: session)
            _ = await session.substitute(cut, member: playing, key: key, at: msn)
        } catch {
            _ = proxy.memberFailure(error, stream: playing, what: "feed \(id) variant \(key)")
            await session.failed(playing, .playlist, reason: .playlistFailed, members: members)
        }
    }

    /// The member's answer for a resource, or nil when the feed switched away from the member (or
    /// `patience` ran out) before its answer began; the request to it is then cancelled.
    func attempt(_ member: String, _ token: String, _ ext: String, _ range: String?, session: FeedSession, patience: Duration?) async
        -> ProxyReply?
    {
        let proxy = self.proxy
        return try? await patiently(member, session: session, patience: patience) {
            await proxy.resource(stream: member, token: token, ext: ext, range: range)
        }
    }

    /// Runs `work` for a member of the feed, giving up (nil) when the member fails while the feed leaves it,
    /// or when `patience` runs out before `work` ends and the member is not held for a token refresh (a
    /// hold has its own bound). Only a switch made while waiting counts: segments listed from a member the
    /// feed left earlier (back to a better one) are still its to answer.
    func patiently<T: Sendable>(
        _ member: String, session: FeedSession, patience: Duration?, _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        let proxy = self.proxy
        let playing = await session.playing == member
        do {
            // Not a task group: it would wait for a request that ignores its cancellation (a connection
            // attempt runs to its own timeout), and the player with it.
            return try await racing(work) {
                let deadline = patience.map { ContinuousClock.now + $0 }
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    if playing, await session.playing != member, await session.isFailing(member) { break }
                    if let deadline, ContinuousClock.now >= deadline, !proxy.isHolding(member) { break }
                }
                return GaveUp()
            }
        } catch is GaveUp {
            return nil
        }
    }

    struct GaveUp: Error {}

    // MARK: Parts

    /// Tries per request: the playing member up to `switch_after` times, then the one switched to once; a
    /// feed of one tries once, as its stream's own route does. Each try is bounded (its hold, the upstream
    /// timeout, the patience), so the request is.
    func attempts(_ members: [String]) -> Int { members.count > 1 ? settings.switchAfter + 1 : 1 }

    /// How long a member may keep a player waiting while another could answer: a target duration, within
    /// 3–6 s (a cold CDN cache is no reason to switch; a player's buffer is no reason to wait longer).
    static func patience(_ targetDuration: Int) -> Duration { .seconds(min(max(targetDuration, 3), 6)) }

    /// The patience for a media playlist of the feed and its segments; none for a feed of one (there is
    /// no one else to ask).
    func patience(key: String, members: [String], session: FeedSession) async -> Duration? {
        members.count > 1 ? Self.patience(await session.targetDuration(key: key)) : nil
    }

    /// A handle of a member, or of a stream the feed listed segments from (one that left the catalogue).
    static func belongs(_ stream: String, to members: [String], session: FeedSession) async -> Bool {
        if members.contains(stream) { return true }
        return await session.lists(stream)
    }

    /// Whether `key` is the feed's: in the master its players were given, or in a member's (after a
    /// restart of Pitlane, players poll the keys they were given before). Found in a member's, it is
    /// remembered.
    func knows(_ key: String, members: [String], session: FeedSession) async -> Bool {
        if await session.knows(key) { return true }
        for member in members {
            if let index = await proxy.memberIndex(stream: member), index.entries.contains(where: { $0.key == key }) {
                await session.remember(index)
                return true
            }
        }
        return false
    }

    /// The feed's members, ranked, and its session.
    func resolve(_ id: String) async -> ([String], FeedSession)? {
        guard Self.isFeed(id), let members = await members(of: id) else { return nil }
        return (members, await sessions.session(id))
    }

    /// Every segment request asks: the grouping is kept for a second (by the injected clock) rather than
    /// made again from the whole catalogue each time.
    func members(of id: String) async -> [String]? {
        let now = clock.now()
        if let kept = grouping.withLockedValue({ $0 }), now.timeIntervalSince(kept.at) < 1, now >= kept.at {
            return kept.members[id]
        }
        let feeds = FeedGrouping.feeds(await catalog.all())
        let members = Dictionary(feeds.map { ($0.id, $0.members.map(\.descriptor.id)) }, uniquingKeysWith: { first, _ in first })
        grouping.withLockedValue { $0 = (now, members) }
        return members[id]
    }

    func memberPlaylist(_ member: String, key: String, session: FeedSession) async throws -> MemberPlaylist {
        let (playlist, _) = try await proxy.memberMedia(stream: member, key: key) { index in await session.entry(for: key, in: index) }
        return MemberPlaylist(playlist, member: member)
    }

    /// Why the member's playlist, though it came, should not be played: its edge froze, or its source's
    /// last run no longer found it.
    func trouble(_ member: String, key: String, cut: MemberPlaylist, session: FeedSession, members: [String]) async
        -> FeedSwitch.Reason?
    {
        // A member whose event ended while the feed has others: they may still be live.
        if cut.ended, members.count > 1 { return .edgeStalled }
        if await session.edgeStalled(
            member, key: key, newest: cut.segments.last?.memberMSN, targetDuration: cut.targetDuration, ended: cut.ended)
        {
            return .edgeStalled
        }
        if let error = await catalog.record(member)?.refresh.lastError, error.hasPrefix(TokenRefresher.notFoundPrefix) {
            return .notFound
        }
        return nil
    }

    /// Fetches the better-ranked members' playlists in the background (one probe at a time per member), so
    /// their health is known when the feed might go back to them; a player never waits for it.
    func probe(_ members: [String], key: String, session: FeedSession) {
        let logger = self.logger
        for member in members {
            Task {
                guard await session.beginProbe(member, spacing: Double(await session.targetDuration(key: key))) else { return }
                defer { Task { await session.endProbe(member) } }
                do {
                    let cut = try await memberPlaylist(member, key: key, session: session)
                    if let reason = await trouble(member, key: key, cut: cut, session: session, members: []) {
                        await session.failed(member, .playlist, reason: reason, members: [])
                    } else if await segmentAnswers(cut) {
                        await session.succeeded(member, .playlist)
                        await session.succeeded(member, .segment)
                    } else {
                        await session.failed(member, .segment, reason: .segmentFailed, members: [])
                    }
                } catch {
                    // Quietly: a dead member is probed every target duration while the feed is watched.
                    logger.debug(
                        "feed probe failed",
                        metadata: ["feed": "\(session.id)", "stream": "\(member)", "reason": "\(ProxyFailure.from(error).message)"])
                    await session.failed(member, .playlist, reason: .playlistFailed, members: [])
                }
            }
        }
    }

    /// A probe's check that the member's newest segment answers too (its first kilobyte): a member whose
    /// playlists come but whose segments fail is not healthy.
    func segmentAnswers(_ cut: MemberPlaylist) async -> Bool {
        // The one before the newest: the newest may not have reached the CDN's edge yet.
        let answered = cut.segments.filter { !$0.isGap }.suffix(2)
        guard let newest = answered.first, let resource = FeedPosition.resource(of: newest) else { return false }
        let reply = await proxy.resource(stream: newest.member, token: resource.handle, ext: resource.ext, range: "bytes=0-1023")
        if case .stream(let body) = reply.body { _ = try? await body.collect(upTo: 64 * 1024, within: .seconds(5)) }
        return reply.status == 200 || reply.status == 206
    }

    static func noFeed(_ id: String) -> ProxyReply {
        .failure(ProxyFailure(status: 404, message: "no feed \(id)", code: "no_feed"))
    }
}

/// Where a feed's segment URI puts it: `{key}~{msn}~{handle}`, or a bare handle.
struct FeedPosition {
    var key: String?
    var msn: Int?
    var handle: String

    init(_ token: String) {
        let parts = token.split(separator: "~", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3, let msn = Int(parts[1]), (0...Playlist.largestSequence * 2).contains(msn) {
            key = String(parts[0])
            self.msn = msn
            handle = String(parts[2])
        } else {
            handle = token
        }
    }

    /// The handle, extension and byte range of a feed segment (as its member's rewritten playlist wrote it).
    static func resource(of segment: FeedSegment) -> (handle: String, ext: String, range: String?)? {
        guard let uri = segment.uri, uri.hasPrefix(FeedTimeline.handlePrefix) else { return nil }
        let file = uri.dropFirst(FeedTimeline.handlePrefix.count)
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return nil }
        var range: String?
        for case .tag(let tag) in segment.lines where tag.name == "EXT-X-BYTERANGE" {
            let parts = (tag.value ?? "").split(separator: "@")
            if parts.count == 2, let length = Int(parts[0]), let offset = Int(parts[1]), length > 0, offset >= 0 {
                let (end, overflow) = offset.addingReportingOverflow(length - 1)
                if !overflow { range = "bytes=\(offset)-\(end)" }
            }
        }
        return (String(file[..<dot]), String(file[file.index(after: dot)...]), range)
    }
}

/// The sessions of the feeds being watched, one per feed id (bounded: the catalogue's feeds).
actor FeedSessions {
    let settings: FeedSettings
    let clock: any WallClock
    let announce: @Sendable (String, FeedSwitch) -> Void
    private var sessions: [String: FeedSession] = [:]
    static let limit = 1024

    init(settings: FeedSettings, clock: any WallClock, announce: @escaping @Sendable (String, FeedSwitch) -> Void) {
        self.settings = settings
        self.clock = clock
        self.announce = announce
    }

    func session(_ id: String) -> FeedSession {
        if let existing = sessions[id] { return existing }
        if sessions.count >= Self.limit { sessions.removeAll() }
        let session = FeedSession(id: id, settings: settings, clock: clock, announce: announce)
        sessions[id] = session
        return session
    }

    func existing(_ id: String) -> FeedSession? { sessions[id] }
}
