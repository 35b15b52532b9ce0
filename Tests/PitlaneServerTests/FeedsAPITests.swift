import Foundation
import PitlaneCore
import PitlaneServer
import Testing

/// `/api/feeds` on a real server: the harness's four sources all carry "Race" in 720p, so they are one feed
/// (and the demo's four pictures four more).
@Suite struct FeedsAPITests {
    @Test func theHarnessesFourRacesAreOneFeed() async throws {
        try await ServerHarness.run { harness in
            let list = try await harness.get("/api/feeds")
            #expect(list.status == 200)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(list.body)) as? [String: Any])
            let feeds = try #require(body["feeds"] as? [[String: Any]])
            #expect(feeds.count == 5, "\(list.text.prefix(3000))")
            let feed = try #require(feeds.first { $0["id"] as? String == "feed-race-720p" })
            #expect(feed["quality"] as? String == "720p" && feed["explicit"] as? Bool == false)
            let members = try #require(feed["members"] as? [[String: Any]])
            #expect(members.count == 4)
            #expect(feed["current"] as? String == members.first?["id"] as? String)
            #expect(members.map { $0["rank"] as? Int ?? 0 } == members.map { $0["rank"] as? Int ?? 0 }.sorted())

            let detail = try await harness.get("/api/feeds/feed-race-720p")
            #expect(detail.status == 200 && detail.text.contains("\"members\""))
            let missing = try await harness.get("/api/feeds/feed-nope")
            #expect(missing.status == 404 && missing.text.contains("\"code\":\"no_feed\""))
            #expect(try await harness.get("/hls/feed-nope/master.m3u8").status == 404)
        }
    }

    @Test func aFeedPlaysUnderItsIdAndIsListedOnceInThePlaylist() async throws {
        try await ServerHarness.run { harness in
            let master = try await harness.get("/hls/feed-race-720p/master.m3u8")
            #expect(master.status == 200, "\(master.text)")
            let variantURI = try #require(master.text.split(separator: "\n").first { $0.hasPrefix("v/") })
            let variant = try await harness.get("/hls/feed-race-720p/" + variantURI)
            #expect(variant.status == 200 && variant.text.contains("#EXT-X-DISCONTINUITY-SEQUENCE:0"), "\(variant.text)")
            let segment = try #require(variant.text.split(separator: "\n").first { $0.hasPrefix("../s/") })
            #expect(segment.contains("~"), "a feed's segment names its place in the feed")
            let fetched = try await harness.get("/hls/feed-race-720p/s/" + segment.dropFirst(5))
            #expect(fetched.status == 200 && !fetched.body.isEmpty)
            // A segment handle under another feed or stream is refused.
            #expect(try await harness.get("/hls/feed-world/s/" + segment.dropFirst(5)).status == 403)

            let detail =
                try JSONSerialization.jsonObject(with: Data(try await harness.get("/api/feeds/feed-race-720p").body)) as? [String: Any]
            #expect(detail?["watched"] as? Bool == true)
            #expect((detail?["memberHealth"] as? [String: Any])?.isEmpty == false)

            let playlist = try await harness.get("/playlist.m3u").text
            #expect(playlist.contains("/hls/feed-race-720p/master.m3u8"))
            #expect(playlist.components(separatedBy: "tvg-name=\"Race\"").count - 1 == 1, "\(playlist)")
        }
    }
}
