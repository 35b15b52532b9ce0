import Foundation
import PitlaneCore
import Testing

struct StreamMatcherTests {
    func stream(
        key: String? = nil, title: String = "Race", quality: String? = "1080p", url: String = "https://a.example.com/race/1080.m3u8?t=old"
    )
        -> StreamDescriptor
    {
        StreamDescriptor(id: "x", source: "src", title: title, quality: quality, key: key, upstream: URL(string: url)!)
    }

    func candidate(_ url: String, title: String = "Race", quality: String? = "1080p", key: String? = nil) -> Candidate {
        Candidate(url: URL(string: url)!, title: title, quality: quality, key: key)
    }

    @Test func prefersTheStableKey() {
        let candidates = [
            candidate("https://a.example.com/race/1080.m3u8?t=new", key: "other"),
            candidate("https://b.example.com/x.m3u8?t=new", key: "k1"),
        ]
        let match = StreamMatcher.match(stream(key: "k1"), in: candidates)
        #expect(match?.rule == .key)
        #expect(match?.candidate.url.host == "b.example.com")
    }

    @Test func usesQualityAndTitleWhenUnambiguous() {
        let candidates = [
            candidate("https://a.example.com/race/720.m3u8?t=new", quality: "720p"),
            candidate("https://c.example.com/race.m3u8?t=new", quality: "1080p"),
        ]
        let match = StreamMatcher.match(stream(), in: candidates)
        #expect(match?.rule == .qualityAndTitle)
        #expect(match?.candidate.url.host == "c.example.com")
    }

    @Test func fallsBackToHostAndPathIgnoringTheQuery() {
        let candidates = [
            candidate("https://a.example.com/race/1080.m3u8?t=new"),
            candidate("https://mirror.example.com/race/1080.m3u8?t=new"),
        ]
        let match = StreamMatcher.match(stream(), in: candidates)
        #expect(match?.rule == .hostAndPath)
        #expect(match?.candidate.url.absoluteString == "https://a.example.com/race/1080.m3u8?t=new")
    }

    @Test func takesTheSingleResult() {
        let match = StreamMatcher.match(stream(), in: [candidate("https://z.example.com/new.m3u8", title: "Renamed", quality: nil)])
        #expect(match?.rule == .singleResult)
    }

    @Test func findsNothingWhenAmbiguous() {
        let candidates = [
            candidate("https://x.example.com/1.m3u8", title: "Other"),
            candidate("https://y.example.com/2.m3u8", title: "Other"),
        ]
        #expect(StreamMatcher.match(stream(), in: candidates) == nil)
        #expect(StreamMatcher.match(stream(), in: []) == nil)
    }

    /// Two "Race 1080p" streams (two cameras) and one fresh result: the title fits both, so it decides
    /// nothing; the path says which camera it is.
    @Test func aTitleThatFitsTwoStreamsDecidesNothing() {
        let cam1 = StreamDescriptor(
            id: "cam1", source: "src", title: "Race", quality: "1080p", upstream: URL(string: "https://a.example.com/cam1.m3u8?t=1")!)
        let cam2 = StreamDescriptor(
            id: "cam2", source: "src", title: "Race", quality: "1080p", upstream: URL(string: "https://a.example.com/cam2.m3u8?t=1")!)
        let matches = StreamMatcher.assign([cam1, cam2], in: [candidate("https://a.example.com/cam2.m3u8?t=2")])
        #expect(matches["cam2"]?.rule == .hostAndPath)
        #expect(matches["cam1"] == nil)
    }

    /// The single-result rule is for a source with a single stream: with two, a lone new result is a new
    /// stream, not either of them.
    @Test func theSingleResultRuleNeedsASingleStream() {
        let race = stream(title: "Race", url: "https://a.example.com/race.m3u8")
        var onboard = stream(title: "Onboard", url: "https://a.example.com/onboard.m3u8")
        onboard.id = "onboard"
        let matches = StreamMatcher.assign([race, onboard], in: [candidate("https://a.example.com/pre.m3u8", title: "Pre-race")])
        #expect(matches.isEmpty)
    }
}
