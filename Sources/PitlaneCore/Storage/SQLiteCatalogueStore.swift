import Foundation
import GRDB
import Logging

/// The catalogue in SQLite (GRDB). Each stream and source is one JSON document in its row, so adding a
/// field never needs a migration. A file that is not a readable database is moved aside with a warning
/// and a fresh one is started: a corrupt file must never keep Pitlane from starting.
public final class SQLiteCatalogueStore: CatalogueStore {
    private let queue: DatabaseQueue
    public let path: String

    public init(path: String, logger: Logger = Logger(label: "pitlane.storage")) throws {
        self.path = path
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try DataDirectory.prepare(directory)
        defer { DataDirectory.restrict(directory) }  // the database file was just created
        do {
            queue = try Self.open(path)
        } catch {
            let aside = path + ".corrupt-\(Int(Date().timeIntervalSince1970))"
            logger.warning(
                "the catalogue database is unreadable; moving it aside and starting afresh",
                metadata: ["path": "\(path)", "movedTo": "\(aside)", "error": "\(error)"])
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix)
            }
            queue = try Self.open(path)
        }
    }

    private static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.read { db in
            let result = try String.fetchOne(db, sql: "PRAGMA quick_check")
            guard result == "ok" else { throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: result) }
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "stream") { table in
                table.primaryKey("id", .text)
                table.column("position", .integer).notNull()
                table.column("record", .text).notNull()
            }
            try db.create(table: "source") { table in
                table.primaryKey("id", .text)
                table.column("position", .integer).notNull()
                table.column("status", .text).notNull()
            }
        }
        migrator.registerMigration("v2-seasons") { db in
            try db.create(table: "season") { table in
                table.primaryKey("year", .integer)
                table.column("fetched_at", .double).notNull()
                table.column("season", .text).notNull()
            }
        }
        try migrator.migrate(queue)
        return queue
    }

    public func load() throws -> StoredCatalogue {
        let decoder = JSONDecoder()
        return try queue.read { db in
            // A row that no longer decodes (written by another version) is skipped, not fatal.
            let streams = try String.fetchAll(db, sql: "SELECT record FROM stream ORDER BY position").compactMap {
                try? decoder.decode(StreamRecord.self, from: Data($0.utf8))
            }
            let sources = try String.fetchAll(db, sql: "SELECT status FROM source ORDER BY position").compactMap {
                try? decoder.decode(SourceStatus.self, from: Data($0.utf8))
            }
            return StoredCatalogue(streams: streams, sources: sources)
        }
    }

    public func loadSeasons() throws -> [StoredSeason] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT season, fetched_at FROM season ORDER BY year").compactMap { row in
                let json: String = row["season"]
                let fetched: Double = row["fetched_at"]
                guard let season = try? Season.decode(Data(json.utf8)) else { return nil }
                return StoredSeason(season: season, fetchedAt: Date(timeIntervalSince1970: fetched))
            }
        }
    }

    public func saveSeason(_ season: Season, fetchedAt: Date) throws {
        let json = String(decoding: try season.encoded(), as: UTF8.self)
        try queue.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO season (year, fetched_at, season) VALUES (?, ?, ?)",
                arguments: [season.season, fetchedAt.timeIntervalSince1970, json])
        }
    }

    public func save(_ catalogue: StoredCatalogue) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let streams = try catalogue.streams.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        let sources = try catalogue.sources.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try queue.write { db in
            try db.execute(sql: "DELETE FROM stream")
            try db.execute(sql: "DELETE FROM source")
            for (position, (record, json)) in zip(catalogue.streams, streams).enumerated() {
                try db.execute(
                    sql: "INSERT INTO stream (id, position, record) VALUES (?, ?, ?)", arguments: [record.descriptor.id, position, json])
            }
            for (position, (status, json)) in zip(catalogue.sources, sources).enumerated() {
                try db.execute(sql: "INSERT INTO source (id, position, status) VALUES (?, ?, ?)", arguments: [status.id, position, json])
            }
        }
    }
}
