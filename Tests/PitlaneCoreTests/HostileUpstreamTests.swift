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

    /// A 1 MB segment URI would become a 1.4 MB handle no player can request: it is a gap instead.
    @Test func aURIOverSixteenKilobytesBecomesAGap() throws {
        let long = "s2.ts?" + String(repeating: "q", count: 1024 * 1024)
        let playlist = try PlaylistParser.parse("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\ns1.ts\n#EXTINF:2,\n\(long)\n")
        let rewritten = MediaRewriter(stream: "s", variant: "v", signer: TestSupport.signer)
            .rewrite(playlist, baseURL: URL(string: "https://cdn.example.com/live/index.m3u8")!).serialized()
        #expect(rewritten.count < 2000)
        #expect(rewritten.contains("#EXT-X-GAP\n../s/\(MediaRewriter.gapToken).ts"))
    }

    /// A URI in a tag Pitlane does not rewrite (an unknown tag, or an attribute it does not expect) used to
    /// pass through, after variable substitution an absolute upstream URL with its token: it is removed,
    /// and the rest of the tag stays. Found by the rewriter fuzz target.
    @Test func aURIPitlaneDoesNotRewriteNeverReachesThePlayer() throws {
        let base = URL(string: "https://cdn.example.com/live/index.m3u8")!
        let media = try PlaylistParser.parse(
            """
            #EXTM3U
            #EXT-X-TARGETDURATION:2
            #EXT-X-DEFINE:NAME="cdn",VALUE="https://edge.example.com"
            #EXT-X-VENDOR-MAP:ID=1,URI="{$cdn}/init.mp4?token=secret"
            #EXT-X-DATERANGE:ID="ad",START-DATE="2026-01-01T00:00:00Z",X-TRACKING-URI="https://t.example.com/?tok=1"
            #EXTINF:2,https://title.example.com/ is a title
            s1.ts
            """)
        let resolved = PlaylistVariables.resolve(media, url: base).playlist
        let output = MediaRewriter(stream: "s", variant: "v", signer: TestSupport.signer).rewrite(resolved, baseURL: base).serialized()
        #expect(!output.contains("edge.example.com") && !output.contains("t.example.com"), "\(output)")
        #expect(output.contains("#EXT-X-VENDOR-MAP:ID=1\n") && output.contains("#EXT-X-DATERANGE:ID=\"ad\",START-DATE="))
        #expect(output.contains("#EXTINF:2,https://title.example.com/ is a title"), "a title is not an attribute list")
        let master = try PlaylistParser.parse(
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,URI=\"https://cdn.example.com/x.m3u8?token=t\"\nv.m3u8\n#EXT-X-NEW:SERVER-URI=\"/steer\"\n"
        )
        let rewritten = MasterRewriter(stream: "s", signer: TestSupport.signer).rewrite(master, baseURL: base).playlist.serialized()
        #expect(!rewritten.contains("token=t") && !rewritten.contains("/steer"), "\(rewritten)")
        #expect(rewritten.contains("#EXT-X-STREAM-INF:BANDWIDTH=1\n"))
    }

    /// Two `X-ASSET-LIST` attributes in one tag: the rewriter set the first, and the second, which hls.js
    /// reads, kept its upstream URL. A rewritten attribute is now the only one of its name.
    @Test func aDuplicateURIAttributeIsRewrittenOnce() throws {
        let media = try PlaylistParser.parse(
            """
            #EXTM3U
            #EXT-X-TARGETDURATION:6
            #EXT-X-DATERANGE:ID="ad",CLASS="com.apple.hls.interstitial",START-DATE="2026-12-06T13:00:12.000Z",X-ASSET-LIST="/ads/list.json?token=abc",X-ASSET-LIST="/ads/list.json?token=abc"
            #EXTINF:6,
            s1.ts
            """)
        let output = MediaRewriter(stream: "s", variant: "v", signer: TestSupport.signer)
            .rewrite(media, baseURL: URL(string: "https://cdn.example.com/live/index.m3u8")!).serialized()
        #expect(!output.contains("token=abc"), "\(output)")
        #expect(output.components(separatedBy: "X-ASSET-LIST=").count == 2)
    }

    /// A second `URI` after one that passes through (`data:`) is the one hls.js reads: it goes too.
    @Test func aSecondURIBehindADataURIIsRemoved() throws {
        let media = try PlaylistParser.parse(
            """
            #EXTM3U
            #EXT-X-TARGETDURATION:6
            #EXT-X-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAAAAAAAAAAAAAAAAAAAAA==",URI="https://cdn.example.com/k?token=secret"
            #EXTINF:6,
            s1.ts
            """)
        let output = MediaRewriter(stream: "s", variant: "v", signer: TestSupport.signer)
            .rewrite(media, baseURL: URL(string: "https://cdn.example.com/live/index.m3u8")!).serialized()
        #expect(!output.contains("token=secret"), "\(output)")
        #expect(output.contains("URI=\"data:text/plain;base64,AAAAAAAAAAAAAAAAAAAAAA==\""))
    }

    /// Byte ranges a hostile playlist writes: an end past Int.max is left alone instead of trapping, and
    /// two spellings of one file (`a.mp4`, `./a.mp4`) continue one another's offsets.
    @Test func byteRangesNeitherTrapNorRestart() throws {
        let media = try PlaylistParser.parse(
            """
            #EXTM3U
            #EXT-X-TARGETDURATION:6
            #EXT-X-BYTERANGE:1@9223372036854775807
            #EXTINF:6,
            big.mp4
            #EXT-X-BYTERANGE:1000@0
            #EXTINF:6,
            a.mp4
            #EXT-X-BYTERANGE:500
            #EXTINF:6,
            ./a.mp4
            """)
        let output = MediaRewriter(stream: "s", variant: "v", signer: TestSupport.signer)
            .rewrite(media, baseURL: URL(string: "https://cdn.example.com/live/index.m3u8")!).serialized()
        #expect(output.contains("#EXT-X-BYTERANGE:1@9223372036854775807"))
        #expect(output.contains("#EXT-X-BYTERANGE:500@1000"), "\(output)")
    }

    /// Relayed content types are an allow list: a type a browser would run (`application/xhtml+xml` was
    /// relayed as is) never goes out from Pitlane's origin; media types do.
    @Test(arguments: [
        ("application/xhtml+xml", "video/mp2t"), ("text/html; charset=utf-8", "video/mp2t"), ("image/svg+xml", "video/mp2t"),
        ("text/javascript", "video/mp2t"), ("video/mp2t", "video/mp2t"), ("video/MP2T; charset=x", "video/mp2t"),
        ("video/mp4, text/html", "video/mp2t"),
    ])
    func onlyMediaTypesAreRelayed(_ upstreamType: String, _ relayed: String) async throws {
        let transportStream = [UInt8(0x47)] + [UInt8](repeating: 0, count: 187) + [0x47] + [UInt8](repeating: 0, count: 187)
        let harness = await HLSEngineTests.harness { path, _ in
            path == "/live/seg100.ts"
                ? .init(status: 200, body: "", headers: HeaderProfile(["Content-Type": upstreamType]), bytes: transportStream) : nil
        }
        let segments = try await harness.segmentTokens(key: try await harness.variantPath())
        let reply = await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: nil)
        #expect(reply.headers.value(for: "Content-Type") == relayed)
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

    /// An upstream that ignores `Range` sends the whole segment with 200: the player still gets the 206 it
    /// asked for, with exactly its bytes.
    @Test func aRangeTheUpstreamIgnoredIsAnsweredAs206() async throws {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        let harness = await HLSEngineTests.harness { path, _ in
            path == "/live/seg100.ts"
                ? .init(
                    status: 200, body: "", headers: HeaderProfile(["Content-Type": "video/mp2t", "Content-Length": "10000"]),
                    stream: UpstreamBody(ChunkedBytes(bytes: bytes, chunk: 1500)))
                : nil
        }
        let key = try await harness.variantPath()
        let segments = try await harness.segmentTokens(key: key)
        for (header, first, last) in [("bytes=2000-4999", 2000, 4999), ("bytes=9000-", 9000, 9999), ("bytes=-100", 9900, 9999)] {
            let reply = await harness.proxy.resource(stream: harness.streamID, token: segments[0], ext: "ts", range: header)
            #expect(reply.status == 206)
            #expect(reply.headers.value(for: "Content-Range") == "bytes \(first)-\(last)/10000")
            #expect(reply.headers.value(for: "Content-Length") == String(last - first + 1))
            guard case .stream(let body) = reply.body else { throw HLSEngineTests.HarnessError.unexpected("a body") }
            #expect(Array(buffer: try await body.collect(upTo: 1 << 20)) == Array(bytes[first...last]), "\(header)")
        }
    }

    @Test func rangesThatCannotBeSlicedAreLeftWhole() {
        #expect(ByteRange.parse("bytes=0-1,5-6", length: 10) == nil)
        #expect(ByteRange.parse("bytes=20-30", length: 10) == nil)
        #expect(ByteRange.parse("items=0-1", length: 10) == nil)
        #expect(ByteRange.parse("bytes=5-2", length: 10) == nil)
        #expect(ByteRange.parse("bytes=5-100", length: 10) == ByteRange(first: 5, last: 9))
    }
}

/// Bytes sent in chunks of a fixed size, as a network delivers them.
struct ChunkedBytes: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let bytes: [UInt8]
    let chunk: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<UInt8>
        let chunk: Int
        mutating func next() async throws -> ByteBuffer? {
            guard !remaining.isEmpty else { return nil }
            let piece = remaining.prefix(chunk)
            remaining = remaining.dropFirst(chunk)
            return ByteBuffer(bytes: piece)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: bytes[...], chunk: chunk) }
}
