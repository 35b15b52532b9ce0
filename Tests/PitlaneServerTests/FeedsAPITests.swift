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
        }
    }
}
