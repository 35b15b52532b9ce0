import Foundation
import PitlaneCore
import Testing

struct ValidationTests {
    static let master = """
        #EXTM3U
        #EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360
        low.m3u8
        #EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720
        high.m3u8
        """
    static let live = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nold.ts\n#EXTINF:2,\nnew.ts\n"
    static let vod = live + "#EXT-X-ENDLIST\n"

    func stream(_ path: String) -> StreamDescriptor {
        StreamDescriptor(id: "s", source: "src", title: "T", upstream: URL(string: "https://cdn.example.com/" + path)!)
    }

    func web(segment: FakeUpstream.Reply = .init(status: 200, body: "G@\u{11}0 ts bytes")) -> FakeUpstream {
        FakeUpstream { request in
            switch request.url.lastPathComponent {
            case "master.m3u8": return .init(status: 200, body: Self.master)
            case "low.m3u8", "live.m3u8": return .init(status: 200, body: Self.live)
            case "vod.m3u8": return .init(status: 200, body: Self.vod)
            case "html.m3u8": return .init(status: 200, body: "<html>blocked</html>")
            case "empty.m3u8": return .init(status: 200, body: "#EXTM3U\n#EXT-X-TARGETDURATION:2\n")
            case "new.ts", "old.ts": return segment
            default: return .init(status: 404, body: "")
            }
        }
    }

    @Test func aMasterThatPlaysIsMeasured() async throws {
        let upstream = web()
        let health = await StreamValidator(http: upstream).validate(stream("master.m3u8"), now: Date(timeIntervalSince1970: 5))
        #expect(health.playable)
        #expect(health.error == nil)
        #expect(health.bandwidth == 3_000_000)
        #expect(health.resolutions == ["1280x720", "640x360"])
        #expect(health.live == true)
        #expect(health.latencyMs != nil)
        #expect(health.checkedAt == Date(timeIntervalSince1970: 5))
        #expect(upstream.paths() == ["/master.m3u8", "/low.m3u8", "/new.ts"], "the first variant, the live edge segment")
        #expect(upstream.requests.last?.range == "bytes=0-4095")
    }

    @Test func aRecordingIsCheckedFromItsFirstSegment() async {
        let upstream = web()
        let health = await StreamValidator(http: upstream).validate(stream("vod.m3u8"), now: TestSupport.start)
        #expect(health.playable && health.live == false && health.bandwidth == nil)
        #expect(upstream.paths().last == "/old.ts")
    }

    @Test(arguments: [
        ("missing.m3u8", "answered 404"),
        ("html.m3u8", "is not a playlist"),
        ("empty.m3u8", "has no segment"),
    ])
    func verdictsSayWhy(_ path: String, _ reason: String) async {
        let health = await StreamValidator(http: web()).validate(stream(path), now: TestSupport.start)
        #expect(!health.playable)
        #expect(health.error?.contains(reason) == true, "\(health.error ?? "nil")")
        #expect(health.latencyMs == nil)
    }

    @Test func segmentsThatFailOrAreErrorPagesAreNotPlayable() async {
        let forbidden = await StreamValidator(http: web(segment: .init(status: 403, body: ""))).validate(
            stream("live.m3u8"), now: TestSupport.start)
        #expect(!forbidden.playable && forbidden.error == "a segment answered 403")
        let page = await StreamValidator(http: web(segment: .init(status: 200, body: "<!doctype html>"))).validate(
            stream("live.m3u8"), now: TestSupport.start)
        #expect(!page.playable && page.error == "a segment is an HTML page, not media")
        let timeout = await StreamValidator(http: FakeUpstream { _ in throw UpstreamError.timeout }).validate(
            stream("live.m3u8"), now: TestSupport.start)
        #expect(!timeout.playable && timeout.error == "the upstream did not answer in time")
    }

    @Test func rankingPutsPlayableFastAndRichFirst() {
        func record(_ id: String, _ health: StreamHealth?) -> StreamRecord {
            StreamRecord(
                descriptor: StreamDescriptor(id: id, source: "s", title: id, upstream: URL(string: "https://x/\(id)")!), health: health)
        }
        let now = TestSupport.start
        let records = [
            record("broken", StreamHealth(playable: false, checkedAt: now, error: "x")),
            record("unchecked", nil),
            record("slow", StreamHealth(playable: true, latencyMs: 900, bandwidth: 9_000_000, checkedAt: now)),
            record("fast-sd", StreamHealth(playable: true, latencyMs: 200, bandwidth: 1_000_000, checkedAt: now)),
            record("fast-hd", StreamHealth(playable: true, latencyMs: 200, bandwidth: 5_000_000, checkedAt: now)),
        ]
        #expect(StreamRanking.ranked(records).map(\.descriptor.id) == ["fast-hd", "fast-sd", "slow", "unchecked", "broken"])
    }

    @Test func dedupeIgnoresTokensButNotStreamParameters() {
        let a = URL(string: "https://cdn.example.com/live/race.m3u8?token=abc&exp=1800000000&channel=2")!
        let b = URL(string: "https://CDN.example.com/live/race.m3u8?channel=2&token=zzz&exp=1900000000")!
        let c = URL(string: "https://cdn.example.com/live/race.m3u8?channel=3&token=abc")!
        let d = URL(string: "https://cdn.example.com/live/race.m3u8?id=7&auth_blob=0123456789abcdef0123456789abcdef01")!
        let e = URL(string: "https://cdn.example.com/live/race.m3u8?id=7&auth_blob=ffff456789abcdef0123456789abcdef01")!
        #expect(StreamDedupe.key(a) == StreamDedupe.key(b))
        #expect(StreamDedupe.key(a) != StreamDedupe.key(c))
        #expect(StreamDedupe.key(d) == StreamDedupe.key(e), "long random values are tokens whatever their name")
    }

    @Test func theCatalogueDedupesAcrossSourcesUnlessKeysDiffer() async {
        let catalog = StreamCatalog()
        let source = Source(id: "one", kind: "static", extractor: StaticExtractor(candidates: []))
        let other = Source(id: "two", kind: "static", extractor: StaticExtractor(candidates: []))
        let url = URL(string: "https://cdn.example.com/race.m3u8?token=1")!
        let retoken = URL(string: "https://cdn.example.com/race.m3u8?token=2")!
        await catalog.add(
            [Candidate(url: url, title: "Race"), Candidate(url: retoken, title: "Race again")], from: source, at: TestSupport.start,
            policy: .init())
        await catalog.add([Candidate(url: retoken, title: "Race elsewhere")], from: other, at: TestSupport.start, policy: .init())
        #expect(await catalog.all().count == 1)
        await catalog.add(
            [Candidate(url: url, title: "A", key: "a"), Candidate(url: retoken, title: "B", key: "b")], from: other, at: TestSupport.start,
            policy: .init())
        #expect(await catalog.all().count == 1, "another source's stream already claims the URL")
        let keyed = StreamCatalog()
        await keyed.add(
            [Candidate(url: url, title: "A", key: "a"), Candidate(url: retoken, title: "B", key: "b")], from: other, at: TestSupport.start,
            policy: .init())
        #expect(await keyed.all().count == 2, "two keys vouch for two streams")
    }
}
