import Foundation
import NIOCore
import PitlaneCore
import Testing

/// The proxy against an in-memory origin whose tokens the test rotates.
final class ProxyHarness: @unchecked Sendable {
    let clock = ManualClock()
    let catalog = StreamCatalog()
    let lock = NSLock()
    var validToken = "t1"
    var masterIsMedia = false
    let upstream: FakeUpstream
    let extractor: FakeExtractor
    let refresher: TokenRefresher
    let proxy: HLSProxy
    let streamID: String

    static let base = "https://cdn.example.com/live/"

    var token: String {
        get { lock.withLock { validToken } }
        set { lock.withLock { validToken = newValue } }
    }

    let withExpiry: Bool

    init(
        masterIsMedia: Bool = false, withExpiry: Bool = false, policy: RefreshPolicy = RefreshPolicy(minSpacing: 0, holdTimeout: 2),
        segmentCacheBytes: Int = 64 * 1024 * 1024, requestTimeout: Duration = .seconds(15), limits: BodyLimits = BodyLimits()
    ) async {
        self.withExpiry = withExpiry
        let upstream = FakeUpstream { _ in .init(status: 500, body: "") }
        self.upstream = upstream
        self.masterIsMedia = masterIsMedia
        extractor = FakeExtractor([])
        refresher = TokenRefresher(catalog: catalog, clock: clock, policy: policy)
        proxy = HLSProxy(
            catalog: catalog, refresher: refresher, upstream: upstream, signer: TestSupport.signer, clock: clock,
            requestTimeout: requestTimeout, segmentCacheBytes: segmentCacheBytes, limits: limits)
        streamID = "src-race"
        upstream.setHandler { [unowned self] request in self.answer(request) }
        extractor.set([candidate()])
        await refresher.register(
            Source(id: "src", kind: "static", headers: HeaderProfile(["Referer": "https://site.example.com/"]), extractor: extractor))
        await refresher.discover("src")
    }

    func candidate() -> Candidate {
        let path = masterIsMedia ? "720.m3u8" : "master.m3u8"
        let expiry = withExpiry ? "&exp=\(Int(clock.now().timeIntervalSince1970) + 60)" : ""
        return Candidate(url: URL(string: Self.base + path + "?token=" + token + expiry)!, title: "Race", key: "race")
    }

    /// Rotates the origin's token: old URLs get 403, the extractor hands out the new one.
    func rotate(to newToken: String) {
        token = newToken
        extractor.set([candidate()])
    }

    func answer(_ request: UpstreamRequest) -> FakeUpstream.Reply {
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)!
        let query = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        guard query["token"] == token else { return .init(status: 403, body: "expired") }
        switch request.url.lastPathComponent {
        case "master.m3u8":
            return .init(
                status: 200,
                body: """
                    #EXTM3U
                    #EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720
                    720.m3u8?token=\(token)
                    """)
        case "720.m3u8":
            let msn = Int(query["_HLS_msn"] ?? "") ?? 100
            return .init(
                status: 200,
                body: """
                    #EXTM3U
                    #EXT-X-TARGETDURATION:2
                    #EXT-X-MEDIA-SEQUENCE:\(msn)
                    #EXTINF:2,
                    seg\(msn).ts?token=\(token)
                    #EXTINF:2,
                    seg\(msn + 1).ts?token=\(token)
                    """)
        default:
            return .init(status: 200, body: "BYTES-" + request.url.lastPathComponent, headers: HeaderProfile(["Content-Type": "image/png"]))
        }
    }

    static func text(_ reply: ProxyReply) async throws -> String {
        switch reply.body {
        case .text(let text): return text
        case .stream(let body): return String(buffer: try await body.collect(upTo: 1 << 20))
        }
    }

    func variantPath() async throws -> String {
        let master = try await Self.text(proxy.master(stream: streamID))
        return try #require(master.split(separator: "\n").first { $0.hasPrefix("v/") }).dropFirst(2).replacingOccurrences(
            of: ".m3u8", with: "")
    }

    /// The handle tokens of the segments in the current variant playlist.
    func segmentTokens(key: String) async throws -> [String] {
        let media = try await Self.text(proxy.variant(stream: streamID, key: key))
        return media.split(separator: "\n").filter { $0.hasPrefix("../s/") }.map { String($0.dropFirst(5).dropLast(3)) }
    }
}

struct HLSProxyTests {
    @Test func masterVariantSegmentCarryTheHeaderProfileAndHideTheUpstream() async throws {
        let harness = await ProxyHarness()
        let master = try await ProxyHarness.text(harness.proxy.master(stream: harness.streamID))
        #expect(!master.contains("cdn.example.com"))
        let key = try await harness.variantPath()
        let segments = try await harness.segmentTokens(key: key)
        #expect(segments.count == 2)
        let reply = await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: nil)
        #expect(reply.status == 200)
        #expect(try await ProxyHarness.text(reply) == "BYTES-seg100.ts")
        #expect(reply.headers.value(for: "Content-Type") == "video/mp2t", "a disguised image/png segment is sent as MPEG-TS")
        #expect(harness.upstream.requests.allSatisfy { $0.headers.value(for: "Referer") == "https://site.example.com/" })
        #expect(await harness.catalog.record(harness.streamID)?.refresh.isActive(at: harness.clock.now()) == true)
    }

    @Test func aTamperedHandleIsRefusedWithoutAnUpstreamRequest() async throws {
        let harness = await ProxyHarness()
        let key = try await harness.variantPath()
        let token = try #require(try await harness.segmentTokens(key: key).first)
        let before = harness.upstream.requestCount
        var forged = ResourceHandle(stream: harness.streamID, kind: .segment, url: "http://169.254.169.254/", variant: key, msn: 1)
        forged.url = "http://169.254.169.254/latest"
        let forgedToken = HandleSigner(secret: Data("attacker".utf8)).sign(forged)
        for bad in [forgedToken, String(token.dropLast()), "x", token.replacingOccurrences(of: ".", with: "")] {
            let reply = await harness.proxy.resource(stream: harness.streamID, token: bad, ext: "ts", range: nil)
            #expect(reply.status == 403)
        }
        let otherStream = await harness.proxy.resource(stream: "another", token: token, ext: "ts", range: nil)
        #expect(otherStream.status == 403)
        #expect(harness.upstream.requestCount == before)
    }

    @Test func aRejectedSegmentIsRefreshedAndServed() async throws {
        let harness = await ProxyHarness()
        let key = try await harness.variantPath()
        let stale = try await harness.segmentTokens(key: key)
        harness.rotate(to: "t2")
        harness.clock.advance(by: 5)
        let reply = await harness.proxy.resource(stream: harness.streamID, token: stale[1], ext: "ts", range: nil)
        #expect(reply.status == 200)
        #expect(try await ProxyHarness.text(reply) == "BYTES-seg101.ts")
        #expect(harness.extractor.runCount == 2)
        let record = try #require(await harness.catalog.record(harness.streamID))
        #expect(record.refresh.count == 1)
        #expect(record.descriptor.upstream.query == "token=t2")
    }

    @Test func aRejectedPlaylistIsRefreshedAndServed() async throws {
        let harness = await ProxyHarness()
        let key = try await harness.variantPath()
        harness.rotate(to: "t2")
        let reply = await harness.proxy.variant(stream: harness.streamID, key: key)
        #expect(reply.status == 200)
        #expect(try await ProxyHarness.text(reply).contains("#EXT-X-MEDIA-SEQUENCE:100"))
        let master = await harness.proxy.master(stream: harness.streamID)
        #expect(master.status == 200)
    }

    @Test func aRefreshThatDoesNotHelpAnswers503WithRetryAfter() async throws {
        let harness = await ProxyHarness()
        let key = try await harness.variantPath()
        let stale = try await harness.segmentTokens(key: key)
        harness.token = "t2"  // the origin moved on, the extractor still hands out t1
        let reply = await harness.proxy.resource(stream: harness.streamID, token: stale[0], ext: "ts", range: nil)
        #expect(reply.status == 503)
        #expect(reply.headers.value(for: "Retry-After") == "2")
        harness.clock.advance(by: 2)  // past the shared playlist's lifetime
        let playlist = await harness.proxy.variant(stream: harness.streamID, key: key)
        #expect(playlist.status == 503)
    }

    @Test func upstreamFailuresMapToGatewayStatuses() async throws {
        let harness = await ProxyHarness()
        harness.upstream.setHandler { _ in .init(status: 500, body: "boom") }
        #expect(await harness.proxy.master(stream: harness.streamID).status == 502)
        harness.upstream.setHandler { _ in throw UpstreamError.timeout }
        #expect(await harness.proxy.master(stream: harness.streamID).status == 504)
        harness.upstream.setHandler { _ in .init(status: 200, body: "<html><body>Please enable JavaScript</body></html>") }
        let html = await harness.proxy.master(stream: harness.streamID)
        #expect(html.status == 502)
        #expect(try await ProxyHarness.text(html).contains("not a playlist"))
        harness.upstream.setHandler { _ in throw UpstreamError.refusedAddress(host: "10.0.0.1") }
        #expect(await harness.proxy.master(stream: harness.streamID).status == 502)
        #expect(await harness.proxy.master(stream: "nope").status == 404)
    }

    @Test func aMediaPlaylistUpstreamGetsAOneVariantMaster() async throws {
        let harness = await ProxyHarness(masterIsMedia: true)
        let master = try await ProxyHarness.text(harness.proxy.master(stream: harness.streamID))
        #expect(master.contains("v/main.m3u8"))
        let segments = try await harness.segmentTokens(key: "main")
        #expect(segments.count == 2)
    }

    @Test func forwardsLowLatencyDirectivesOnly() async throws {
        let harness = await ProxyHarness()
        let key = try await harness.variantPath()
        let reply = await harness.proxy.variant(
            stream: harness.streamID, key: key,
            directives: [URLQueryItem(name: "_HLS_msn", value: "500"), URLQueryItem(name: "evil", value: "1")])
        #expect(try await ProxyHarness.text(reply).contains("#EXT-X-MEDIA-SEQUENCE:500"))
        let last = try #require(harness.upstream.requests.last)
        #expect(last.url.query?.contains("_HLS_msn=500") == true)
        #expect(last.url.query?.contains("evil") == false)
    }

    @Test func aVariantWhoseAttributesChangedFallsBackToTheNearestOneAndAMissingKindIs404() async throws {
        let harness = await ProxyHarness()
        _ = try await harness.variantPath()
        #expect(await harness.proxy.variant(stream: harness.streamID, key: "v2900000-deadbeef").status == 200)
        #expect(await harness.proxy.variant(stream: harness.streamID, key: "t-deadbeef").status == 404)
        #expect(await harness.proxy.variant(stream: harness.streamID, key: "").status == 404)
    }

    @Test func nearestBandwidthWinsAmongSeveralVariants() {
        let index = MasterIndex(entries: [
            .init(key: "v800000-aaaa", kind: .variant, upstream: URL(string: "https://x/low.m3u8")!),
            .init(key: "v3000000-bbbb", kind: .variant, upstream: URL(string: "https://x/high.m3u8")!),
            .init(key: "a-cccc", kind: .rendition(type: "AUDIO"), upstream: URL(string: "https://x/audio.m3u8")!),
        ])
        #expect(index.entry(forKey: "v2500000-zzzz")?.upstream.lastPathComponent == "high.m3u8")
        #expect(index.entry(forKey: "v900000-zzzz")?.upstream.lastPathComponent == "low.m3u8")
        #expect(index.entry(forKey: "a-zzzz")?.upstream.lastPathComponent == "audio.m3u8")
        #expect(index.entry(forKey: "main")?.upstream.lastPathComponent == "low.m3u8")
        #expect(index.entry(forKey: "i100-zzzz") == nil)
    }

    @Test func aKnownExpiredTokenIsRefreshedBeforeTheMasterIsFetched() async throws {
        let harness = await ProxyHarness(withExpiry: true)
        let record = try #require(await harness.catalog.record(harness.streamID))
        #expect(record.refresh.expiresAt == harness.clock.now().addingTimeInterval(60))
        harness.clock.advance(by: 61)
        harness.rotate(to: "t2")
        let before = harness.upstream.requestCount
        let reply = await harness.proxy.master(stream: harness.streamID)
        #expect(reply.status == 200)
        #expect(harness.extractor.runCount == 2)
        let sent = harness.upstream.requests.dropFirst(before)
        #expect(sent.count == 1, "refreshed before fetching: no request with the dead token")
        #expect(sent.first?.url.query?.contains("token=t2") == true)
    }
}

/// A request that hit 401/403/410 is held at most `hold_timeout`, whatever the source does.
struct HoldTests {
    /// The source's run takes 3 s and ignores cancellation; the hold is 1 s.
    @Test func aHeldRequestIsAnsweredWithinTheHoldAndTheRefreshGoesOn() async throws {
        let harness = await ProxyHarness(policy: RefreshPolicy(minSpacing: 0, holdTimeout: 1))
        let key = try await harness.variantPath()
        let stale = try await harness.segmentTokens(key: key)
        harness.extractor.stall = .seconds(3)
        harness.rotate(to: "t2")
        let started = ContinuousClock.now
        let held = await harness.proxy.resource(stream: harness.streamID, token: stale[0], ext: "ts", range: nil)
        let waited = ContinuousClock.now - started
        #expect(held.status == 503)
        #expect(held.headers.value(for: "Retry-After") != nil)
        #expect(waited < .milliseconds(2500), "held \(waited), not the source's 3 s")
        let refreshed = await eventually(within: .seconds(5)) {
            await harness.catalog.record(harness.streamID)?.descriptor.upstream.query?.contains("token=t2") == true
        }
        #expect(refreshed, "the run went on in the background")
        let next = await harness.proxy.resource(stream: harness.streamID, token: stale[0], ext: "ts", range: nil)
        #expect(next.status == 200, "the next request uses the refresh's result")
    }

    /// A refresh that finishes inside the hold serves the request from the fresh URL.
    @Test func aRefreshThatFinishesInTimeServesTheHeldRequest() async throws {
        let harness = await ProxyHarness(policy: RefreshPolicy(minSpacing: 0, holdTimeout: 2))
        let key = try await harness.variantPath()
        let stale = try await harness.segmentTokens(key: key)
        harness.extractor.stall = .milliseconds(300)
        harness.rotate(to: "t2")
        let held = await harness.proxy.resource(stream: harness.streamID, token: stale[1], ext: "ts", range: nil)
        #expect(held.status == 200)
        #expect(try await ProxyHarness.text(held) == "BYTES-seg101.ts")
    }

    /// A known-expired token and a slow source: the hold before the fetch and the one after its 403 share
    /// one deadline, so the request is answered within one `hold_timeout`, not two.
    @Test func oneRequestIsHeldOnceInAll() async throws {
        // Two seconds of hold, so that one hold (2 s) and two (4 s) stay apart on a loaded machine.
        let harness = await ProxyHarness(withExpiry: true, policy: RefreshPolicy(minSpacing: 0, holdTimeout: 2))
        harness.clock.advance(by: 61)
        harness.extractor.stall = .seconds(6)
        harness.token = "t2"
        let started = ContinuousClock.now
        let reply = await harness.proxy.master(stream: harness.streamID)
        let waited = ContinuousClock.now - started
        #expect(reply.status == 503)
        #expect(waited < .milliseconds(3500), "held \(waited)")
    }
}
