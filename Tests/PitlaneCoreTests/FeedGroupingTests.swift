import Foundation
import PitlaneCore
import Testing

/// Feeds: the same picture from several sources is one feed, by the configuration's word or by title and
/// quality; each stream is in one feed; members are ranked as the catalogue is.
struct FeedGroupingTests {
    static let now = utc("2026-06-02T12:00:00Z")

    static func record(
        _ id: String, source: String, title: String, quality: String? = nil, feed: String? = nil, latency: Int? = nil, playable: Bool = true
    ) -> StreamRecord {
        var descriptor = StreamDescriptor(
            id: id, source: source, title: title, quality: quality, upstream: URL(string: "https://cdn.example.com/\(id).m3u8")!)
        descriptor.feed = feed
        var record = StreamRecord(descriptor: descriptor, refresh: RefreshState())
        if let latency { record.health = StreamHealth(playable: playable, latencyMs: latency, checkedAt: now) }
        return record
    }

    @Test func matchingTitlesAndQualitiesAcrossSourcesAreOneFeed() {
        let feeds = FeedGrouping.feeds([
            Self.record("a-world", source: "a", title: "World Feed", quality: "1280x720", latency: 90),
            Self.record("b-world", source: "b", title: "world-feed!", quality: "720p", latency: 40),
            Self.record("c-world", source: "c", title: "Wörld feed", quality: "HD 720P", latency: 60),
            Self.record("a-world-sd", source: "a", title: "World Feed", quality: "640x360", latency: 20),
            Self.record("a-onboard", source: "a", title: "Onboard", latency: 30),
        ])
        let world = try? #require(feeds.first { $0.id == "feed-world-feed-720p" })
        #expect(world?.members.map(\.descriptor.id) == ["b-world", "c-world", "a-world"], "ranked by start-up latency")
        #expect(world?.current?.descriptor.id == "b-world" && world?.quality == "720p" && world?.explicit == false)
        #expect(feeds.contains { $0.id == "feed-world-feed-360p" && $0.members.count == 1 })
        #expect(feeds.contains { $0.id == "feed-onboard" && $0.members.count == 1 })
        #expect(feeds.map(\.id) == ["feed-world-feed-360p", "feed-onboard", "feed-world-feed-720p"], "best member first")
        #expect(Set(feeds.flatMap { $0.members.map(\.descriptor.id) }).count == 5, "each stream in exactly one feed")
    }

    @Test func theConfigurationsFeedWinsOverTitles() {
        let feeds = FeedGrouping.feeds([
            Self.record("a-main", source: "a", title: "Sky F1 UHD", quality: "2160p", feed: "World feed", latency: 50),
            Self.record("b-main", source: "b", title: "F1 Live", quality: "720p", feed: "world FEED", latency: 30),
            Self.record("c-main", source: "c", title: "World feed", quality: "720p", latency: 10),
        ])
        let named = feeds.first { $0.explicit }
        #expect(named?.id == "feed-world-feed" && named?.quality == nil)
        #expect(named?.members.map(\.descriptor.id) == ["b-main", "a-main"])
        #expect(feeds.first { !$0.explicit }?.id == "feed-world-feed-720p", "a matching title does not join a named feed")
    }

    @Test func aStreamThatDoesNotPlayRanksLastInItsFeed() {
        let feeds = FeedGrouping.feeds([
            Self.record("a", source: "a", title: "Race", latency: 10, playable: false),
            Self.record("b", source: "b", title: "Race", latency: 900),
        ])
        #expect(feeds.count == 1 && feeds[0].members.map(\.descriptor.id) == ["b", "a"])
    }

    @Test func feedIdsAreUniqueEvenWhenSlugsCollide() {
        let feeds = FeedGrouping.feeds([
            Self.record("a", source: "a", title: "Pit lane", feed: "Pit lane"),
            Self.record("b", source: "b", title: "Pit-lane"),
            Self.record("c", source: "c", title: "Pit lane", feed: "Pit lane?"),
        ])
        #expect(Set(feeds.map(\.id)).count == feeds.count)
        #expect(feeds.allSatisfy { $0.id.hasPrefix("feed-") })
        // Told apart by what groups them, not by rank: the other order gives the same ids.
        let reversed = FeedGrouping.feeds([
            Self.record("b", source: "b", title: "Pit-lane"),
            Self.record("c", source: "c", title: "Pit lane", feed: "Pit lane?"),
            Self.record("a", source: "a", title: "Pit lane", feed: "Pit lane"),
        ])
        func ids(_ feeds: [Feed]) -> [String: String] {
            Dictionary(uniqueKeysWithValues: feeds.flatMap { feed in feed.members.map { ($0.descriptor.id, feed.id) } })
        }
        #expect(ids(reversed) == ids(feeds))
    }
}
