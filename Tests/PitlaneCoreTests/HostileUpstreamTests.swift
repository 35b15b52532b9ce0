import Foundation
import NIOCore
import PitlaneCore
import Testing

/// Upstreams that send what they like (issue 11): each answer is bounded in time, and nothing an upstream
/// writes reaches a playlist, an M3U or a header unsanitised.
struct HostileUpstreamTests {
    /// A playlist whose body drips a byte every 200 ms, forever: 504 at the request timeout (1 s here).
    @Test func aDrippingPlaylistIs504WithinTheTimeout() async throws {
        let harness = await ProxyHarness(requestTimeout: .seconds(1))
        harness.upstream.setHandler { _ in
            .init(status: 200, body: "", stream: drippingBody("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", every: .milliseconds(200)))
        }
        let started = ContinuousClock.now
        let reply = await harness.proxy.master(stream: harness.streamID)
        #expect(reply.status == 504)
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    /// A page that drips: the source run fails at the source's timeout with the reason, not hours later.
    @Test func aDrippingPageFailsItsRun() async throws {
        let page = FakeUpstream { _ in .init(status: 200, body: "", stream: drippingBody("<html>", every: .milliseconds(100))) }
        struct Fetcher: Extractor {
            func extract(_ context: ExtractionContext) async throws -> [Candidate] {
                _ = try await context.fetchText(URL(string: "https://site.example.com/watch")!)
                return []
            }
        }
        let catalog = StreamCatalog()
        let refresher = TokenRefresher(catalog: catalog, clock: ManualClock(), policy: RefreshPolicy())
        await refresher.setUpstream(page)
        await refresher.register(Source(id: "page", kind: "page", timeout: .seconds(1), extractor: Fetcher()))
        let started = ContinuousClock.now
        let result = await refresher.discover("page")
        #expect(throws: ExtractionFailure.self) { try result.get() }
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    /// A title with line breaks would add lines to `/playlist.m3u` (a stream of the attacker's choosing);
    /// a header with one would split a request.
    @Test func whatAnUpstreamWritesIsSanitised() async throws {
        let extractor = FakeExtractor([
            Candidate(
                url: URL(string: "https://cdn.example.com/a.m3u8")!, title: "Race\r\n#EXTINF:-1,Evil\nhttp://evil.example/x.m3u8",
                quality: "1080p\u{0}", key: "race",
                headers: HeaderProfile([
                    "Referer": "https://site.example/\r\nX-Injected: 1", "Bad Name": "x", "Origin": "https://site.example",
                ]))
        ])
        let catalog = StreamCatalog()
        let refresher = TokenRefresher(catalog: catalog, clock: ManualClock(), policy: RefreshPolicy())
        await refresher.register(Source(id: "src", kind: "m3u", extractor: extractor))
        await refresher.discover("src")
        let record = try #require(await catalog.record("src-race"))
        #expect(record.descriptor.title == "Race #EXTINF:-1,Evil http://evil.example/x.m3u8")
        #expect(record.descriptor.quality == "1080p")
        #expect(record.descriptor.headers.headers.map(\.name) == ["Origin"])
    }

    @Test func aHugeHoldTimeoutDoesNotTrap() {
        #expect(RefreshPolicy(holdTimeout: 1e300).holdTimeout == .seconds(3600))
        #expect(RefreshPolicy(holdTimeout: .infinity).holdTimeout == .seconds(8))
    }

    /// An encoding the upstream client does not decode (br) is relayed with its header, never stripped.
    @Test func anUndecodedEncodingIsRelayedWithItsHeader() async throws {
        let harness = await HLSEngineTests.harness { path, _ in
            path == "/live/seg100.ts"
                ? .init(
                    status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t", "Content-Encoding": "br"]),
                    bytes: [1, 2, 3])
                : nil
        }
        let key = try await harness.variantPath()
        let segments = try await harness.segmentTokens(key: key)
        let reply = await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: nil)
        #expect(reply.headers.value(for: "Content-Encoding") == "br")
    }
}
