import Foundation
import PitlaneCore
import Testing

/// When a feed switches (issue 15): after `switch_after` failures in a row, once per failure however many
/// viewers report it, and back to a better member only after it has been healthy for the hold.
@Suite struct FeedSessionTests {
    let members = ["a", "b", "c"]

    func session(_ clock: ManualClock, switchAfter: Int = 2, back: Double = 60) -> FeedSession {
        FeedSession(id: "feed-x", settings: FeedSettings(switchAfter: switchAfter, switchBackAfter: back), clock: clock)
    }

    @Test func itSwitchesAfterTheConfiguredFailuresInARowAndASuccessResetsTheCount() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock, switchAfter: 3)
        #expect(await feed.member(among: members) == "a")
        await feed.failed("a", .segment, reason: .segmentFailed, members: members)
        await feed.failed("a", .segment, reason: .segmentFailed, members: members)
        await feed.succeeded("a", .segment)
        await feed.failed("a", .segment, reason: .segmentFailed, members: members)
        await feed.failed("a", .segment, reason: .segmentFailed, members: members)
        #expect(await feed.playing == "a")
        #expect(await feed.failed("a", .segment, reason: .segmentFailed, members: members))
        #expect(await feed.playing == "b")
        #expect(await feed.switches.map(\.reason) == [.segmentFailed])
    }

    @Test func oneFailureReportedByManyViewersSwitchesOnce() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock, switchAfter: 1)
        _ = await feed.member(among: members)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask { await feed.failed("a", .segment, reason: .segmentFailed, members: self.members) }
            }
        }
        #expect(await feed.playing == "b")
        #expect(await feed.switches.count == 1)
    }

    @Test func aMemberThatFailedRecentlyIsSkipped() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock, switchAfter: 1)
        _ = await feed.member(among: members)
        await feed.failed("b", .playlist, reason: .playlistFailed, members: members)  // a probe of b failed
        await feed.failed("a", .segment, reason: .segmentFailed, members: members)
        #expect(await feed.playing == "c")
    }

    @Test func itGoesBackOnlyAfterTheBetterMemberWasHealthyForTheHold() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock, switchAfter: 1, back: 60)
        _ = await feed.member(among: members)
        await feed.failed("a", .segment, reason: .segmentFailed, members: members)
        #expect(await feed.playing == "b")
        #expect(await feed.standby(members: members) == ["a"])
        clock.advance(by: 10)
        await feed.succeeded("a", .playlist)  // a probe: a answers again
        clock.advance(by: 59)
        #expect(await feed.switchBack(members: members) == nil)
        // A failure in between starts the hold again.
        await feed.failed("a", .playlist, reason: .playlistFailed, members: members)
        clock.advance(by: 5)
        await feed.succeeded("a", .playlist)
        clock.advance(by: 59)
        #expect(await feed.switchBack(members: members) == nil)
        clock.advance(by: 1)
        #expect(await feed.switchBack(members: members) == "a")
        #expect(await feed.playing == "a")
        #expect(await feed.switches.map(\.reason) == [.segmentFailed, .recovered])
    }

    @Test func withEveryOtherMemberFailingTheFeedStaysRatherThanFlapping() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock, switchAfter: 1)
        _ = await feed.member(among: members)
        await feed.failed("b", .playlist, reason: .playlistFailed, members: members)
        await feed.failed("c", .playlist, reason: .playlistFailed, members: members)
        #expect(await feed.failed("a", .segment, reason: .segmentFailed, members: members) == false)
        #expect(await feed.playing == "a")
        #expect(await feed.switches.isEmpty)
    }

    @Test func aFeedOnADeadMemberGoesBackToOneThatCameBackWithinTheHold() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock, switchAfter: 1, back: 120)
        _ = await feed.member(among: ["a", "b"])
        await feed.failed("a", .segment, reason: .segmentFailed, members: ["a", "b"])  // a blips
        clock.advance(by: 10)
        await feed.succeeded("a", .playlist)  // a's probes pass again
        // b, never tried before, is dead: the feed goes back to a rather than stay.
        #expect(await feed.failed("b", .segment, reason: .segmentFailed, members: ["a", "b"]))
        #expect(await feed.playing == "a")
    }

    @Test func aPlaylistWithoutSegmentsIsAFrozenEdge() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock)
        #expect(await feed.edgeStalled("a", key: "k", newest: nil, targetDuration: 2, ended: false) == false)
        clock.advance(by: 6)
        #expect(await feed.edgeStalled("a", key: "k", newest: nil, targetDuration: 2, ended: false))
    }

    @Test func aFasterMemberRankedAboveThePlayingOneIsNoReasonToSwitch() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock, switchAfter: 1, back: 60)
        #expect(await feed.member(among: ["b", "a"]) == "b")
        // The ranking changes (a measured faster) and a answers well for long: b plays on.
        await feed.succeeded("a", .playlist)
        clock.advance(by: 600)
        #expect(await feed.switchBack(members: ["a", "b"]) == nil)
        #expect(await feed.standby(members: ["a", "b"]).isEmpty)
        #expect(await feed.playing == "b")
    }

    @Test func aPlaylistOfAMemberThatNoLongerPlaysChangesNothing() async throws {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock, switchAfter: 1)
        _ = await feed.member(among: members)
        _ = await feed.merge(FeedTimelineTests.member("a", first: 100), member: "a", key: "k")
        await feed.failed("a", .segment, reason: .segmentFailed, members: members)
        _ = await feed.merge(FeedTimelineTests.member("b", first: 500, offset: 2), member: "b", key: "k")
        // A request that fetched a's playlist before the switch merges it after: it is ignored.
        let late = try #require(await feed.merge(FeedTimelineTests.member("a", first: 101, offset: 2), member: "a", key: "k"))
        let members = late.lines.compactMap { if case .uri(let uri) = $0 { uri } else { nil } }
        #expect(members.last?.hasSuffix("~b503.ts") == true, "\(members)")
        #expect(late.lines.filter { $0 == .tag(Tag(name: "EXT-X-DISCONTINUITY", value: nil)) }.count == 1)
    }

    @Test func aSwitchWaitsForABehindMemberAtMostATargetDuration() async throws {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock, switchAfter: 1)
        _ = await feed.member(among: members)
        _ = await feed.merge(FeedTimelineTests.member("a", first: 100, offset: 20), member: "a", key: "k")  // ends at + 28 s
        await feed.failed("a", .segment, reason: .segmentFailed, members: members)
        // b runs 6 s behind: its newest ends at + 22 s. The feed waits for it…
        let b = FeedTimelineTests.member("b", first: 700, offset: 14)
        let waiting = try #require(await feed.merge(b, member: "b", key: "k"))
        #expect(waiting.serialized().contains("b70") == false)
        // …one target duration (2 s), then b joins at its live edge.
        clock.advance(by: 2)
        let joined = try #require(await feed.merge(b, member: "b", key: "k"))
        #expect(joined.serialized().contains("~104~b703.ts"))
    }

    @Test func madeUpKeysMakeNoMediaPlaylists() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock)
        let index = MasterIndex(entries: [
            MasterIndex.Entry(key: "v1-x", kind: .variant, upstream: URL(string: "https://a.example/1.m3u8")!, bandwidth: 1, height: 1)
        ])
        await feed.remember(index)
        #expect(await feed.knows("v1-x"))
        #expect(await feed.knows("v9999-made-up") == false)
    }

    @Test func aFrozenEdgeIsStalledAfterThreeTargetDurations() async {
        let clock = ManualClock(TestSupport.start)
        let feed = session(clock)
        #expect(await feed.edgeStalled("a", key: "k", newest: 10, targetDuration: 2, ended: false) == false)
        clock.advance(by: 5)
        #expect(await feed.edgeStalled("a", key: "k", newest: 10, targetDuration: 2, ended: false) == false)
        clock.advance(by: 1)
        #expect(await feed.edgeStalled("a", key: "k", newest: 10, targetDuration: 2, ended: false))
        #expect(await feed.edgeStalled("a", key: "k", newest: 11, targetDuration: 2, ended: false) == false)
        clock.advance(by: 60)
        #expect(await feed.edgeStalled("a", key: "k", newest: 11, targetDuration: 2, ended: true) == false)
    }
}

/// A feed's variant on another member is that member's nearest: the same height, then the nearest bandwidth.
@Suite struct FeedVariantMappingTests {
    func entry(_ key: String, _ bandwidth: Int, _ height: Int) -> MasterIndex.Entry {
        MasterIndex.Entry(
            key: key, kind: .variant, upstream: URL(string: "https://b.example/\(key).m3u8")!, bandwidth: bandwidth, height: height)
    }

    @Test func theSameHeightWinsOverACloserBandwidth() {
        let other = MasterIndex(entries: [entry("v1", 1_000_000, 360), entry("v2", 2_500_000, 540), entry("v3", 5_000_000, 720)])
        // The player's variant: 720p at 3 Mbit/s. 540p is nearer in bandwidth, 720p in picture.
        let like = entry("v3000000-aaaa", 3_000_000, 720)
        #expect(other.entry(forKey: like.key, like: like)?.key == "v3")
    }

    @Test func withoutAHeightTheNearestBandwidthWins() {
        let other = MasterIndex(entries: [entry("v1", 1_000_000, 0), entry("v2", 2_500_000, 0), entry("v3", 5_000_000, 0)])
        let like = MasterIndex.Entry(
            key: "v3000000-aaaa", kind: .variant, upstream: URL(string: "https://a.example/x")!, bandwidth: 3_000_000)
        #expect(other.entry(forKey: like.key, like: like)?.key == "v2")
    }

    @Test func theSameKeyIsTakenAsItIsAndARenditionMapsToOneOfItsType() {
        let audio = MasterIndex.Entry(key: "a-1111", kind: .rendition(type: "AUDIO"), upstream: URL(string: "https://b.example/a.m3u8")!)
        let other = MasterIndex(entries: [entry("v1", 1_000_000, 360), audio])
        #expect(other.entry(forKey: "v1", like: nil)?.key == "v1")
        let like = MasterIndex.Entry(key: "a-2222", kind: .rendition(type: "AUDIO"), upstream: URL(string: "https://a.example/a.m3u8")!)
        #expect(other.entry(forKey: "a-2222", like: like)?.key == "a-1111")
        #expect(other.entry(forKey: "a-2222", like: nil)?.key == "a-1111")
    }
}
