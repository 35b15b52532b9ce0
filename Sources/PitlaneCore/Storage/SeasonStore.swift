import Foundation

/// A season fetched from Jolpica, with when.
public struct StoredSeason: Sendable, Equatable {
    public var season: Season
    public var fetchedAt: Date

    public init(season: Season, fetchedAt: Date) {
        self.season = season
        self.fetchedAt = fetchedAt
    }
}

/// Where refreshed seasons are kept, so a restart does not fall back to the bundled data.
public protocol SeasonStore: Sendable {
    func loadSeasons() throws -> [StoredSeason]
    func saveSeason(_ season: Season, fetchedAt: Date) throws
}

extension InMemoryCatalogueStore: SeasonStore {}
extension SQLiteCatalogueStore: SeasonStore {}
