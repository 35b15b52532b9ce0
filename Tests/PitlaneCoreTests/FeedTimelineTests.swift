import Foundation
import PitlaneCore
import Testing

/// A feed's own numbering (issue 15): the media sequence keeps counting across switches, one
/// discontinuity marks each, the discontinuity sequence stays consistent, dates carry over.
@Suite struct FeedTimelineTests {
    static let start = TestSupport.start

    /// A member's rewritten live window: `count` two-second segments from `first`, dated from `start` +
    /// `offset` seconds when `dated`.
    static func member(
        _ name: String, first: Int, count: Int = 4, dated: Bool = true, offset: Double = 0, parts: Bool = false, extra: String = ""
    ) -> MemberPlaylist {
        var text = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:\(first)\n\(extra)"
        if parts { text += "#EXT-X-PART-INF:PART-TARGET=0.5\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n" }
        for msn in first..<(first + count) {
            if dated {
                let date = start.addingTimeInterval(offset + Double(msn - first) * 2)
                text += "#EXT-X-PROGRAM-DATE-TIME:\(date.formatted(.iso8601))\n"
            }
            if parts { text += "#EXT-X-PART:DURATION=0.5,URI=\"../s/\(name)p\(msn).mp4\"\n" }
            text += "#EXTINF:2.0,\n../s/\(name)\(msn).ts\n"
        }
        if parts { text += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"../s/\(name)hint.mp4\"\n" }
        return MemberPlaylist(try! PlaylistParser.parse(text), member: name)
    }

    func uris(_ playlist: Playlist) -> [String] {
        playlist.lines.compactMap { if case .uri(let uri) = $0 { uri } else { nil } }
    }

    func count(_ tag: String, in playlist: Playlist) -> Int {
        playlist.lines.filter { if case .tag(let t) = $0 { t.name == tag } else { false } }.count
    }

    @Test func theFirstMemberNumbersTheFeedAsItNumbersItself() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 100), member: "a")
        timeline.merge(Self.member("a", first: 101), member: "a")
        let playlist = timeline.render(key: "v1")
        #expect(playlist.mediaSequence == 101)
        #expect(uris(playlist) == ["../s/v1~101~a101.ts", "../s/v1~102~a102.ts", "../s/v1~103~a103.ts", "../s/v1~104~a104.ts"])
        #expect(count("EXT-X-DISCONTINUITY", in: playlist) == 0)
    }

    @Test func aSwitchKeepsCountingWithOneDiscontinuityAndTheSameMomentByDate() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 100), member: "a")  // a100…a103, ending at start + 8 s
        // b numbers its segments otherwise (5000…) and its window reaches from start + 2 s to start + 10 s.
        timeline.merge(Self.member("b", first: 5000, offset: 2), member: "b")
        let playlist = timeline.render(key: "k")
        // The feed's next number goes to b's segment that starts where a's last ended (b5003, at + 8 s).
        #expect(uris(playlist).suffix(2) == ["../s/k~103~a103.ts", "../s/k~104~b5003.ts"])
        #expect(count("EXT-X-DISCONTINUITY", in: playlist) == 1)
        #expect(playlist.firstTagValue("EXT-X-DISCONTINUITY-SEQUENCE") == "0")
        // Later windows of b go on from there.
        timeline.merge(Self.member("b", first: 5002, offset: 6), member: "b")
        #expect(timeline.segment(at: 105)?.memberMSN == 5004)
        #expect(timeline.segment(at: 106)?.memberMSN == 5005)
    }

    @Test func theDiscontinuitySequenceCountsSwitchesThatSlidOut() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 0), member: "a")
        timeline.merge(Self.member("b", first: 50, offset: 2), member: "b")  // switch: feed 4 is b53
        #expect(timeline.render(key: "k").firstTagValue("EXT-X-DISCONTINUITY-SEQUENCE") == "0")
        // Four more of b's segments push the switch out of the four-segment window.
        timeline.merge(Self.member("b", first: 54, offset: 10), member: "b")
        let playlist = timeline.render(key: "k")
        #expect(playlist.mediaSequence == 5)
        #expect(count("EXT-X-DISCONTINUITY", in: playlist) == 0)
        #expect(playlist.firstTagValue("EXT-X-DISCONTINUITY-SEQUENCE") == "1")
    }

    @Test func withoutDatesTheSwitchJoinsAtTheNewMembersLiveEdge() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 10, dated: false), member: "a")
        timeline.merge(Self.member("b", first: 900, dated: false), member: "b")
        #expect(timeline.nextMSN == 15)
        #expect(timeline.segment(at: 14)?.memberMSN == 903)
        #expect(timeline.segment(at: 14)?.discontinuity == true)
    }

    @Test func aDateCarriesOverToAMemberWithoutDates() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 10), member: "a")
        timeline.merge(Self.member("b", first: 900, dated: false), member: "b")
        #expect(timeline.segment(at: 14)?.programDateTime == Self.start.addingTimeInterval(8))
        timeline.merge(Self.member("b", first: 901, dated: false), member: "b")
        #expect(timeline.segment(at: 15)?.programDateTime == Self.start.addingTimeInterval(10))
    }

    @Test func aSwitchWaitsForTheNewMembersNextSegmentWhenItIsNotThereYet() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 100), member: "a")
        // b is as far as a (its newest ends where a's does): nothing to add until b's next segment.
        let early = timeline.merge(Self.member("b", first: 7, offset: 0), member: "b")
        #expect(early == false)
        #expect(timeline.nextMSN == 104)
        let next = timeline.merge(Self.member("b", first: 8, offset: 2), member: "b")
        #expect(next)
        #expect(timeline.segment(at: 104)?.memberMSN == 11)
    }

    @Test func aFailedSegmentIsAnsweredByTheNewMembersSegmentOfTheSameMomentAndThePlaylistKeepsWhatItListed() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 100), member: "a")
        let listed = timeline.render(key: "k")
        // a102 (start + 4 s) failed: b's segment from start + 4 s answers for feed 102.
        let b = Self.member("b", first: 300, count: 5, offset: 0)
        let substitute = timeline.substitute(b, member: "b", at: 102)
        #expect(substitute?.memberMSN == 302)
        #expect(timeline.answering(at: 102)?.memberMSN == 302)
        #expect(timeline.substitute(b, member: "b", at: 103)?.memberMSN == 303)
        #expect(timeline.answering(at: 101)?.member == "a")
        // What was listed stays listed (a live playlist only grows at its end).
        #expect(timeline.render(key: "k") == listed)
        // A second report of the same failure changes nothing.
        #expect(timeline.substitute(b, member: "b", at: 102)?.memberMSN == 302)
        // b's own segments follow a's behind one discontinuity, from the moment a's listed ones end.
        timeline.merge(b, member: "b")
        #expect(timeline.segment(at: 104)?.memberMSN == 304)
        #expect(timeline.segment(at: 104)?.discontinuity == true)
        #expect(count("EXT-X-DISCONTINUITY", in: timeline.render(key: "k")) == 1)
    }

    @Test func substitutesFollowTheNewMembersNumberingOnceItsSegmentsAreListed() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 100, dated: false), member: "a")
        timeline.merge(Self.member("b", first: 700, dated: false), member: "b")  // feed 104 is b703
        let b = Self.member("b", first: 700, dated: false)
        #expect(timeline.substitute(b, member: "b", at: 103)?.memberMSN == 702)
        #expect(timeline.substitute(b, member: "b", at: 101)?.memberMSN == 700)
        #expect(timeline.substitute(b, member: "b", at: 100) == nil)
    }

    @Test func lowLatencyMembersAreServedAsWholeSegments() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 40, parts: true), member: "a")
        let playlist = timeline.render(key: "k")
        for tag in ["EXT-X-PART", "EXT-X-PART-INF", "EXT-X-PRELOAD-HINT", "EXT-X-SERVER-CONTROL"] {
            #expect(count(tag, in: playlist) == 0, "\(tag)")
        }
        #expect(uris(playlist).count == 4)
    }

    @Test func skippedSegmentsKeepTheirNumbers() {
        let text = """
            #EXTM3U
            #EXT-X-TARGETDURATION:2
            #EXT-X-MEDIA-SEQUENCE:10
            #EXT-X-SKIP:SKIPPED-SEGMENTS=3
            #EXTINF:2.0,
            ../s/a13.ts
            #EXTINF:2.0,
            ../s/a14.ts
            """
        let member = MemberPlaylist(try! PlaylistParser.parse(text), member: "a")
        #expect(member.segments.map(\.memberMSN) == [13, 14])
    }

    @Test func keysAndInitSectionsAreWrittenWhereTheyChangeAndAfterASwitch() {
        let map = "#EXT-X-MAP:URI=\"../s/ainit.mp4\"\n#EXT-X-KEY:METHOD=AES-128,URI=\"../s/akey.key\"\n"
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 0, extra: map), member: "a")
        timeline.merge(Self.member("b", first: 20, offset: 2, extra: "#EXT-X-MAP:URI=\"../s/binit.mp4\"\n"), member: "b")
        let text = timeline.render(key: "k").serialized()
        #expect(text.components(separatedBy: "#EXT-X-MAP:").count - 1 == 2)
        #expect(text.contains("#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXT-X-MAP:URI=\"../s/binit.mp4\""))
    }

    @Test func aMemberThatRestartsItsNumberingJoinsAfterADiscontinuity() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 5000), member: "a")
        // The packager restarted: a counts from 0 again, its dates go on.
        timeline.merge(Self.member("a", first: 0, offset: 8), member: "a")
        #expect(timeline.segment(at: 5004)?.memberMSN == 0)
        #expect(timeline.segment(at: 5004)?.discontinuity == true)
        timeline.merge(Self.member("a", first: 1, offset: 10), member: "a")
        #expect(timeline.segment(at: 5007)?.memberMSN == 3)
        #expect(timeline.segment(at: 5008)?.memberMSN == 4)
    }

    @Test func substitutesAreRefusedUnderAnInitSectionOrAKey() {
        let map = "#EXT-X-MAP:URI=\"../s/ainit.mp4\"\n"
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 0, extra: map), member: "a")
        #expect(timeline.substitute(Self.member("b", first: 0, extra: "#EXT-X-MAP:URI=\"../s/binit.mp4\"\n"), member: "b", at: 2) == nil)
        var clear = FeedTimeline()
        clear.merge(Self.member("a", first: 0), member: "a")
        let key = "#EXT-X-KEY:METHOD=AES-128,URI=\"../s/bkey.key\"\n"
        #expect(clear.substitute(Self.member("b", first: 0, extra: key), member: "b", at: 2) == nil)
    }

    @Test func hostileNumbersAreReadSafely() throws {
        let huge = """
            #EXTM3U
            #EXT-X-MEDIA-SEQUENCE:9223372036854775807
            #EXT-X-SKIP:SKIPPED-SEGMENTS=9223372036854775807
            #EXTINF:1e300,
            ../s/a.ts
            #EXT-X-PROGRAM-DATE-TIME:99999-01-01T00:00:00Z
            #EXTINF:-5,
            ../s/b.ts
            """
        let member = MemberPlaylist(try PlaylistParser.parse(huge), member: "a")
        #expect(member.segments.map(\.memberMSN) == [0, 1])
        #expect(member.segments.map(\.duration) == [0, 0])
        #expect(member.targetDuration >= 1)
        var timeline = FeedTimeline()
        timeline.merge(member, member: "a")
        #expect(timeline.segment(at: Int.min) == nil && timeline.segment(at: Int.max) == nil)
        _ = timeline.render(key: "k").serialized()
        #expect(MediaPlaylistWalker.references(in: try PlaylistParser.parse(huge)).count == 2)
        // A thousand skips of 2^53 each: the count stops at 2^53 instead of passing Int.max.
        let skips =
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + String(repeating: "#EXT-X-SKIP:SKIPPED-SEGMENTS=9007199254740992\n", count: 1100)
            + "#EXTINF:2,\n../s/a.ts\n"
        let skipped = try PlaylistParser.parse(skips)
        #expect(MemberPlaylist(skipped, member: "a").segments.map(\.memberMSN) == [Playlist.largestSequence])
        #expect(MediaPlaylistWalker.references(in: skipped).map(\.msn) == [Playlist.largestSequence])
    }

    @Test func aStaleCopyFromACDNEdgeBehindTheOthersChangesNothing() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 100, offset: 20), member: "a")
        let before = timeline.render(key: "k")
        // An edge 8 s behind: lower numbers and older dates. Not a restart: nothing repeats.
        timeline.merge(Self.member("a", first: 96, offset: 12), member: "a")
        #expect(timeline.render(key: "k") == before)
    }

    @Test func aMemberThatWasNotReadForLongerThanItsWindowContinuesAfterADiscontinuity() {
        var timeline = FeedTimeline()
        timeline.merge(Self.member("a", first: 0), member: "a")
        timeline.merge(Self.member("a", first: 20, offset: 40), member: "a")
        #expect(timeline.segment(at: 4)?.memberMSN == 20)
        #expect(timeline.segment(at: 4)?.discontinuity == true)
    }
}
