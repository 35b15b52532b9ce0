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
}
