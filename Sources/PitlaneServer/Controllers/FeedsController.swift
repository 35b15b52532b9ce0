import Foundation
import Hummingbird
import PitlaneCore

/// `/api/feeds`: the catalogue grouped by picture, each feed's members ranked (the first is the one to play).
struct FeedsController<Context: RequestContext>: Sendable {
    let catalog: StreamCatalog
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
        return FeedGrouping.feeds(records).map { feed in
            FeedJSON(
                id: feed.id, title: feed.title, quality: feed.quality, explicit: feed.explicit, current: feed.current?.descriptor.id,
                members: feed.members.map { StreamJSON.make($0, rank: ranks[$0.descriptor.id] ?? 0, now: now, detailed: false) })
        }
    }
}

/// A feed as the API shows it; `quality` is null for a feed the configuration named.
struct FeedJSON: Encodable {
    var id: String
    var title: String
    var quality: String?
    var explicit: Bool
    var current: String?
    var members: [StreamJSON]

    enum Keys: String, CodingKey { case id, title, quality, explicit, current, members }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeEach([.id: id, .title: title, .quality: quality, .explicit: explicit, .current: current])
        try container.encode(members, forKey: .members)
    }
}
