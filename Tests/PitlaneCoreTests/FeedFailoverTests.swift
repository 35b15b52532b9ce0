import Foundation
import MetricsTestKit
import NIOCore
import PitlaneCore
import Testing

/// Failover through the proxy (issue 15): two in-memory CDNs carry one feed; when the playing one fails,
/// the player's very request is answered from the other, and the feed's playlist carries on.
final class FeedHarness: @unchecked Sendable {
    let clock = ManualClock(TestSupport.start)
    let catalog = StreamCatalog()
    let upstream: FakeUpstream
    let refresher: TokenRefresher
    let proxy: HLSProxy
    let feeds: FeedProxy
    let metrics = TestMetrics()
    private let lock = NSLock()
    private var down: Set<String> = []
    private var frozen: [String: Date] = [:]
    var feedID = ""
    var members: [String] = []

    init(switchAfter: Int = 2) async {
        let upstream = FakeUpstream { _ in .init(status: 500, body: "") }
        self.upstream = upstream
        refresher = TokenRefresher(catalog: catalog, clock: clock, policy: RefreshPolicy(minSpacing: 0, holdTimeout: 1))
        proxy = HLSProxy(catalog: catalog, refresher: refresher, upstream: upstream, signer: TestSupport.signer, clock: clock)
        feeds = FeedProxy(
            proxy: proxy, catalog: catalog, settings: FeedSettings(switchAfter: switchAfter, switchBackAfter: 60), clock: clock,
            metrics: PitlaneMetrics(factory: metrics))
        // Weak: a probe the feed started may still ask after the test ended.
        upstream.setHandler { [weak self] request in self?.answer(request) ?? .init(status: 503, body: "gone") }
        let extractor = FakeExtractor([
            Candidate(url: URL(string: "https://a.example/live.m3u8")!, title: "World A", key: "a", feed: "World"),
            Candidate(url: URL(string: "https://b.example/live.m3u8")!, title: "World B", key: "b", feed: "World"),
        ])
        await refresher.register(Source(id: "src", kind: "static", extractor: extractor))
        await refresher.discover("src")
        let feed = FeedGrouping.feeds(await catalog.all())[0]
        feedID = feed.id
        members = feed.members.map(\.descriptor.id)
    }

    /// The host's playlist stops moving at the clock's time now.
    func freeze(_ host: String) {
        let now = clock.now()
        lock.withLock { frozen[host] = now }
    }

    func setDown(_ host: String, _ isDown: Bool) {
        lock.withLock {
            if isDown { down.insert(host) } else { down.remove(host) }
        }
    }

    /// Both CDNs carry the same two-second segments, dated alike; b numbers them 1000 higher. The window
    /// is the four newest at the clock's time.
    func answer(_ request: UpstreamRequest) -> FakeUpstream.Reply {
        let host = request.url.host ?? ""
        if lock.withLock({ down.contains(host) }) { return .init(status: 503, body: "down") }
        let shift = host == "b.example" ? 1000 : 0
        let name = request.url.lastPathComponent
        if name == "live.m3u8" {
            let now = lock.withLock { frozen[host] } ?? clock.now()
            let newest = Int(now.timeIntervalSince(TestSupport.start) / 2) + 10
            var text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:\(newest - 3 + shift)\n"
            for n in (newest - 3)...newest {
                let date = TestSupport.start.addingTimeInterval(Double(n) * 2)
                text += "#EXT-X-PROGRAM-DATE-TIME:\(date.formatted(.iso8601))\n#EXTINF:2.0,\n\(n + shift).ts\n"
            }
            return .init(status: 200, body: text)
        }
        return .init(status: 200, body: "\(host == "b.example" ? "B" : "A")-\(name)")
    }

    func playlist() async -> Playlist {
        let reply = await feeds.variant(feed: feedID, key: MasterIndex.singleVariantKey)
        guard case .text(let text) = reply.body, reply.status == 200 else { return Playlist(kind: .media, lines: []) }
        return (try? PlaylistParser.parse(text)) ?? Playlist(kind: .media, lines: [])
    }

    func segmentURIs(_ playlist: Playlist) -> [String] {
        playlist.lines.compactMap { if case .uri(let uri) = $0 { uri } else { nil } }
    }

    /// What a player gets for a segment URI of the feed's playlist.
    func fetch(_ uri: String) async -> (status: Int, body: String) {
        let file = uri.replacingOccurrences(of: "../s/", with: "")
        let dot = file.lastIndex(of: ".")!
        let reply = await feeds.resource(
            feed: feedID, token: String(file[..<dot]), ext: String(file[file.index(after: dot)...]), range: nil)
        switch reply.body {
        case .text(let text): return (reply.status, text)
        case .stream(let body):
            let buffer = try? await body.collect(upTo: 1 << 20, within: .seconds(5))
            return (reply.status, buffer.map { String(buffer: $0) } ?? "")
        }
    }

    func count(_ tag: String, in playlist: Playlist) -> Int {
        playlist.lines.filter { if case .tag(let t) = $0 { t.name == tag } else { false } }.count
    }
}

@Suite struct FeedFailoverTests {
    @Test func aFailedSegmentIsAnsweredByTheNextMembersSegmentOfTheSameMoment() async throws {
        let harness = await FeedHarness()
        let first = harness.members[0]
        let playing = try #require(first == "src-a" ? "a.example" : "b.example")
        let other = first == "src-a" ? "B" : "A"
        let before = await harness.playlist()
        let uris = harness.segmentURIs(before)
        #expect(uris.count == 4)
        #expect(await harness.fetch(uris[1]).status == 200)
        harness.setDown(playing, true)
        // The player asks for the next segment of the playlist it has: the other CDN's segment for that
        // moment answers, though its name there is another (b numbers 1000 higher).
        let rescued = await harness.fetch(uris[2])
        #expect(rescued.status == 200)
        let own = before.mediaSequence + 2 - (first == "src-a" ? 0 : 1000)
        #expect(rescued.body == "\(other)-\(own + (other == "B" ? 1000 : 0)).ts")
        let feed = try #require(await harness.feeds.session(harness.feedID))
        #expect(await feed.switches.count == 1)
        #expect(await feed.switches.first?.reason == .segmentFailed)
        let counted = try harness.metrics.expectCounter(
            MetricName.feedSwitches, [("feed", harness.feedID), ("reason", "segment_failed")])
        #expect(counted.totalValue == 1)
        // The segment after it, from the same old playlist, comes from the new member too, with no second switch.
        #expect(await harness.fetch(uris[3]).status == 200)
        #expect(await feed.switches.count == 1)
        // The playlist the player reloads counts on, with one discontinuity where the switch is.
        harness.clock.advance(by: 2)
        let after = await harness.playlist()
        #expect(after.mediaSequence == before.mediaSequence + 1)
        #expect(harness.count("EXT-X-DISCONTINUITY", in: after) == 1)
        #expect(harness.count("EXT-X-PROGRAM-DATE-TIME", in: after) == 4)
        #expect(harness.segmentURIs(after).first == uris[1])
    }

    @Test func aFailingPlaylistIsAnsweredFromTheNextMemberAndTheNumberingGoesOn() async throws {
        let harness = await FeedHarness()
        let playing = harness.members[0] == "src-a" ? "a.example" : "b.example"
        let before = await harness.playlist()
        harness.setDown(playing, true)
        harness.clock.advance(by: 2)
        let after = await harness.playlist()
        #expect(after.mediaSequence == before.mediaSequence + 1)
        #expect(harness.segmentURIs(after).count == 4)
        #expect(harness.count("EXT-X-DISCONTINUITY", in: after) == 1)
        let feed = try #require(await harness.feeds.session(harness.feedID))
        #expect(await feed.playing == harness.members[1])
        #expect(await feed.switches.map(\.reason) == [.playlistFailed])
        // The first member answers again: the feed stays until it has been healthy for the hold (60 s).
        harness.setDown(playing, false)
        for _ in 0..<10 {
            harness.clock.advance(by: 2)
            _ = await harness.playlist()
            _ = await eventually { await feed.health[harness.members[0]]?.healthySince != nil }
        }
        #expect(await feed.playing == harness.members[1])
        harness.clock.advance(by: 60)
        _ = await harness.playlist()
        #expect(await feed.playing == harness.members[0])
        #expect(await feed.switches.map(\.reason) == [.playlistFailed, .recovered])
    }

    @Test func aFrozenLiveEdgeSwitchesTheFeed() async throws {
        let harness = await FeedHarness()
        harness.freeze(harness.members[0] == "src-a" ? "a.example" : "b.example")
        _ = await harness.playlist()
        harness.clock.advance(by: 5)
        _ = await harness.playlist()
        let feed = try #require(await harness.feeds.session(harness.feedID))
        #expect(await feed.switches.isEmpty)
        // Three target durations (6 s) without a new segment.
        harness.clock.advance(by: 1)
        let after = await harness.playlist()
        #expect(await feed.switches.map(\.reason) == [.edgeStalled])
        #expect(await feed.playing == harness.members[1])
        #expect(harness.count("EXT-X-DISCONTINUITY", in: after) == 1)
    }

    @Test func aHandleOfACataloguedStreamOutsideTheFeedIsRefused() async throws {
        let harness = await FeedHarness()
        // Another feed's stream, in the catalogue: its handle is genuine, but not this feed's.
        let extractor = FakeExtractor([Candidate(url: URL(string: "https://c.example/live.m3u8")!, title: "Other", key: "c")])
        await harness.refresher.register(Source(id: "other", kind: "static", extractor: extractor))
        await harness.refresher.discover("other")
        harness.clock.advance(by: 2)
        let other = try #require(await harness.catalog.all().first { $0.descriptor.source == "other" }?.descriptor.id)
        let token = TestSupport.signer.sign(ResourceHandle(stream: other, kind: .segment, url: "https://c.example/x.ts"))
        let reply = await harness.feeds.resource(feed: harness.feedID, token: "main~1~" + token, ext: "ts", range: nil)
        #expect(reply.status == 403)
        #expect(harness.upstream.requests.allSatisfy { $0.url.host != "c.example" })
    }

    @Test func aKeyNoMemberKnowsIs404AndNoFailure() async throws {
        let harness = await FeedHarness()
        _ = await harness.playlist()
        let reply = await harness.feeds.variant(feed: harness.feedID, key: "v123-madeup")
        #expect(reply.status == 404)
        let feed = try #require(await harness.feeds.session(harness.feedID))
        #expect(await feed.health[harness.members[0]]?.playlistsFailed == 0)
        #expect(await feed.switches.isEmpty)
    }

    @Test func aPositionNoPlaylistHasIsReadSafely() async {
        let harness = await FeedHarness()
        let uri = harness.segmentURIs(await harness.playlist())[0]
        let handle = uri.split(separator: "~").last.map(String.init) ?? ""
        for msn in ["-9223372036854775808", "9223372036854775807", "x"] {
            let reply = await harness.fetch("../s/main~\(msn)~" + handle)
            #expect(reply.status == 200 || reply.status == 403, "\(msn): \(reply.status)")
        }
    }
}
