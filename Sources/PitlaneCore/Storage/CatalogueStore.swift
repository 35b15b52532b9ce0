import Foundation

/// What survives a restart: the streams (with their health and refresh state) and the sources' status,
/// so `/api/streams` answers at once from disk before the first new run finishes.
public struct StoredCatalogue: Sendable, Equatable, Codable {
    public var streams: [StreamRecord]
    public var sources: [SourceStatus]

    public init(streams: [StreamRecord] = [], sources: [SourceStatus] = []) {
        self.streams = streams
        self.sources = sources
    }
}

/// Where the catalogue is kept: SQLite in the data directory, or memory in tests.
public protocol CatalogueStore: Sendable {
    func load() throws -> StoredCatalogue
    func save(_ catalogue: StoredCatalogue) throws
}

/// A store that forgets everything when the process ends.
public final class InMemoryCatalogueStore: CatalogueStore, @unchecked Sendable {
    private let lock = NSLock()
    private var saved = StoredCatalogue()
    private var seasons: [Int: StoredSeason] = [:]

    public init() {}

    public func load() throws -> StoredCatalogue { lock.withLock { saved } }
    public func save(_ catalogue: StoredCatalogue) throws { lock.withLock { saved = catalogue } }

    public func loadSeasons() throws -> [StoredSeason] { lock.withLock { seasons.keys.sorted().compactMap { seasons[$0] } } }

    public func saveSeason(_ season: Season, fetchedAt: Date) throws {
        lock.withLock { seasons[season.season] = StoredSeason(season: season, fetchedAt: fetchedAt) }
    }
}
