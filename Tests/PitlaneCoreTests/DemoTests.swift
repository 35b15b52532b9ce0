import Foundation
import PitlaneCore
import Testing

struct DemoTests {
    let timeline = DemoTimeline(segmentCount: 15, segmentDuration: 2, windowSize: 6)

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func slidesWithWallTime() throws {
        let now = DemoTimeline.epoch.addingTimeInterval(1000.5)  // segment 500 is airing, 499 is the newest complete
        let playlist = try PlaylistParser.parse(timeline.mediaPlaylist(at: now, query: "exp=1&sig=x"))
        #expect(playlist.mediaSequence == 494)
        let segments = MediaPlaylistWalker.references(in: playlist)
        #expect(segments.map(\.msn) == Array(494...499))
        #expect(segments.map(\.uri).first == "14.ts?exp=1&sig=x")  // 494 % 15 == 14
        let later = try PlaylistParser.parse(timeline.mediaPlaylist(at: now.addingTimeInterval(2), query: "q"))
        #expect(later.mediaSequence == 495)
    }

    @Test func marksTheLoopRestartAsADiscontinuity() throws {
        let now = DemoTimeline.epoch.addingTimeInterval(2 * 33 + 0.1)  // newest complete: 32; window 27...32
        let text = timeline.mediaPlaylist(at: now, query: "q")
        let all = lines(text)
        #expect(all.contains("#EXT-X-DISCONTINUITY-SEQUENCE:1"))  // 27 / 15
        let discontinuity = try #require(all.firstIndex(of: "#EXT-X-DISCONTINUITY"))
        #expect(all[discontinuity + 3] == "00.ts?q", "msn 30 starts the third loop")
        #expect(all.filter { $0 == "#EXT-X-DISCONTINUITY" }.count == 1)
        #expect(all.contains("#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:01:00.000Z"))  // msn 30 × 2 s
    }

    @Test func tokensExpireAndCannotBeForged() {
        let tokens = DemoTokens(secret: Data("secret".utf8))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let query = tokens.query(feed: "world", expires: now.addingTimeInterval(30))
        let items = URLComponents(string: "x?" + query)!.queryItems!
        let exp = items.first { $0.name == "exp" }?.value
        let sig = items.first { $0.name == "sig" }?.value
        #expect(tokens.check(feed: "world", exp: exp, sig: sig, now: now) == .valid)
        #expect(tokens.check(feed: "world", exp: exp, sig: sig, now: now.addingTimeInterval(30)) == .expired)
        #expect(tokens.check(feed: "pit-lane", exp: exp, sig: sig, now: now) == .invalid)
        #expect(tokens.check(feed: "world", exp: "1900000000", sig: sig, now: now) == .invalid)
        #expect(tokens.check(feed: "world", exp: nil, sig: nil, now: now) == .invalid)
    }

    @Test func theExtractorHandsOutFreshTokensWhoseExpiryPitlaneCanRead() async throws {
        let tokens = DemoTokens(secret: Data("secret".utf8))
        let extractor = DemoExtractor(baseURL: { URL(string: "http://127.0.0.1:9999/")! }, tokens: tokens, tokenTTL: 30)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let candidates = try await extractor.extract(ExtractionContext(now: now))
        #expect(candidates.map(\.title) == ["World feed", "Onboard A", "Onboard B", "Pit lane"])
        #expect(candidates[0].url.absoluteString.hasPrefix("http://127.0.0.1:9999/demo/world/master.m3u8?exp=1800000030&sig="))
        #expect(TokenExpiry.expiry(of: candidates[0].url) == now.addingTimeInterval(30))
        #expect(Set(candidates.compactMap(\.key)).count == 4)
    }

    @Test func theWorldFeedHasTwoRenditions() throws {
        let master = try PlaylistParser.parse(DemoTimeline.masterPlaylist(for: DemoFeed.all[0], query: "q"))
        #expect(master.kind == .master)
        #expect(MasterRewriter.index(of: master, baseURL: URL(string: "http://x/demo/world/master.m3u8")!).entries.count == 2)
    }
}
