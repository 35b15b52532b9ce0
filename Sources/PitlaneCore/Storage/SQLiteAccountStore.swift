import Foundation
import GRDB

/// Users, sessions and API tokens in `accounts.sqlite` beside the catalogue (0600, like every file of
/// Pitlane's). The server and the CLI (`pitlane users …`) open the same file; SQLite serialises them.
public final class SQLiteAccountStore: AccountStore {
    private let queue: DatabaseQueue

    /// Opens (creating) the file at `path`; nil for an in-memory database (tests).
    public init(path: String?) throws {
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(5)
        if let path {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try DataDirectory.prepare(directory)
            defer { DataDirectory.restrict(directory) }
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } else {
            queue = try DatabaseQueue(configuration: configuration)
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "user") { table in
                table.primaryKey("name", .text)
                table.column("password_hash", .text).notNull()
                table.column("playback_token", .text).notNull().unique()
                table.column("created_at", .double).notNull()
            }
            try db.create(table: "session") { table in
                table.primaryKey("hash", .text)
                table.column("user", .text).notNull().references("user", onDelete: .cascade)
                table.column("expires_at", .double).notNull()
            }
            try db.create(table: "api_token") { table in
                table.primaryKey("id", .text)
                table.column("hash", .text).notNull().unique()
                table.column("label", .text).notNull()
                table.column("user", .text).notNull().references("user", onDelete: .cascade)
                table.column("created_at", .double).notNull()
            }
        }
        try migrator.migrate(queue)
    }

    public func insertUser(_ account: Account, passwordHash: String) throws {
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO user (name, password_hash, playback_token, created_at) VALUES (?, ?, ?, ?)",
                arguments: [account.name, passwordHash, account.playbackToken, account.createdAt.timeIntervalSince1970])
        }
    }

    public func updatePasswordHash(_ name: String, hash: String) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE user SET password_hash = ? WHERE name = ?", arguments: [hash, name])
            // A new password ends the sessions the old one started.
            try db.execute(sql: "DELETE FROM session WHERE user = ?", arguments: [name])
        }
    }

    public func updatePlaybackToken(_ name: String, token: String) throws {
        try queue.write { db in try db.execute(sql: "UPDATE user SET playback_token = ? WHERE name = ?", arguments: [token, name]) }
    }

    public func deleteUser(_ name: String) throws {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM session WHERE user = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM api_token WHERE user = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM user WHERE name = ?", arguments: [name])
        }
    }

    public func users() throws -> [Account] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT name, playback_token, created_at FROM user ORDER BY name").map(Self.account)
        }
    }

    public func account(named name: String) throws -> Account? {
        try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT name, playback_token, created_at FROM user WHERE name = ?", arguments: [name]).map(
                Self.account)
        }
    }

    private static func account(_ row: Row) -> Account {
        Account(name: row["name"], createdAt: Date(timeIntervalSince1970: row["created_at"]), playbackToken: row["playback_token"])
    }

    public func passwordHash(of name: String) throws -> String? {
        try queue.read { db in try String.fetchOne(db, sql: "SELECT password_hash FROM user WHERE name = ?", arguments: [name]) }
    }

    public func user(withPlaybackToken token: String) throws -> String? {
        try queue.read { db in try String.fetchOne(db, sql: "SELECT name FROM user WHERE playback_token = ?", arguments: [token]) }
    }

    public func insertSession(hash: String, user: String, expires: Date, now: Date) throws {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM session WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
            try db.execute(
                sql: "INSERT INTO session (hash, user, expires_at) VALUES (?, ?, ?)",
                arguments: [hash, user, expires.timeIntervalSince1970])
        }
    }

    public func sessionUser(hash: String, now: Date) throws -> String? {
        try queue.read { db in
            try String.fetchOne(
                db, sql: "SELECT user FROM session WHERE hash = ? AND expires_at > ?", arguments: [hash, now.timeIntervalSince1970])
        }
    }

    public func deleteSession(hash: String) throws {
        try queue.write { db in try db.execute(sql: "DELETE FROM session WHERE hash = ?", arguments: [hash]) }
    }

    public func insertAPIToken(_ token: APIToken, hash: String) throws {
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO api_token (id, hash, label, user, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [token.id, hash, token.label, token.user, token.createdAt.timeIntervalSince1970])
        }
    }

    public func apiTokens() throws -> [APIToken] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, label, user, created_at FROM api_token ORDER BY created_at").map { row in
                APIToken(id: row["id"], label: row["label"], user: row["user"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
            }
        }
    }

    public func deleteAPIToken(id: String) throws -> Bool {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM api_token WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func apiTokenUser(hash: String) throws -> String? {
        try queue.read { db in try String.fetchOne(db, sql: "SELECT user FROM api_token WHERE hash = ?", arguments: [hash]) }
    }
}
