import Foundation
import Hummingbird
import PitlaneCore

/// `/api/feeds`: the catalogue grouped by picture, each feed's members ranked (the first is the one to play),
/// and for a watched feed the member playing, its members' health and its switches.
struct FeedsController<Context: RequestContext>: Sendable {
    let catalog: StreamCatalog
    let feeds: FeedProxy
    let clock: any WallClock

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("feeds", use: list)
        group.get("feeds/:id", use: detail)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.encode(["feeds": try await feeds()])
    }

    @Sendable func detail(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let feed = try await feeds().first(where: { $0.id == id }) else {
            return JSONResponse.error("no feed \(id)", status: .notFound, code: "no_feed")
        }
        return JSONResponse.encode(feed)
    }

    private func feeds() async throws -> [FeedJSON] {
        let records = await catalog.all()
        let ranks = Dictionary(uniqueKeysWithValues: StreamRanking.ranked(records).enumerated().map { ($1.descriptor.id, $0 + 1) })
        let now = clock.now()
        var result: [FeedJSON] = []
        for feed in FeedGrouping.feeds(records) {
            let session = await feeds.session(feed.id)
            let health = await session?.health ?? [:]
            let playing = await session?.member(among: feed.members.map(\.descriptor.id))
            result.append(
                FeedJSON(
                    id: feed.id, title: feed.title, quality: feed.quality, explicit: feed.explicit,
                    current: playing ?? feed.current?.descriptor.id, watched: session != nil,
                    members: feed.members.map { StreamJSON.make($0, rank: ranks[$0.descriptor.id] ?? 0, now: now, detailed: false) },
                    memberHealth: health.mapValues { MemberHealthJSON(health: $0) },
                    switches: (await session?.switches ?? []).reversed().map { FeedSwitchJSON(change: $0) }))
        }
        return result
    }
}

/// A feed as the API shows it; `quality` is null for a feed the configuration named; `current` is the
/// member playing (the best ranked until the feed is watched); `memberHealth` what the feed has seen of
/// each member while watched; `switches` newest first.
struct FeedJSON: Encodable {
    var id: String
    var title: String
    var quality: String?
    var explicit: Bool
    var current: String?
    var watched: Bool
    var members: [StreamJSON]
    var memberHealth: [String: MemberHealthJSON]
    var switches: [FeedSwitchJSON]

    enum Keys: String, CodingKey { case id, title, quality, explicit, current, watched, members, memberHealth, switches }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeEach([.id: id, .title: title, .quality: quality, .explicit: explicit, .current: current, .watched: watched])
        try container.encode(members, forKey: .members)
        try container.encode(memberHealth, forKey: .memberHealth)
        try container.encode(switches, forKey: .switches)
    }
}

/// A member's health while its feed is watched (null fields: never failed, or not healthy now).
struct MemberHealthJSON: Encodable {
    var health: MemberHealth

    enum Keys: String, CodingKey {
        case segmentsServed, segmentsFailed, playlistsServed, playlistsFailed, lastFailure, lastReason, healthySince
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeEach([
            .segmentsServed: health.segmentsServed, .segmentsFailed: health.segmentsFailed, .playlistsServed: health.playlistsServed,
            .playlistsFailed: health.playlistsFailed, .lastFailure: health.lastFailure, .lastReason: health.lastReason?.rawValue,
            .healthySince: health.healthySince,
        ])
    }
}

/// One switch: when, from which member (null for the first choice), to which, and why.
struct FeedSwitchJSON: Encodable {
    var change: FeedSwitch

    enum Keys: String, CodingKey { case at, from, to, reason }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeEach([.at: change.at, .from: change.from, .to: change.to, .reason: change.reason.rawValue])
    }
}
