import Foundation

/// A user as the CLI and the settings page show it. The playback token is what players without cookies
/// (VLC, mpv, Kodi, Jellyfin) put into their URL; it is kept readable so the settings page can show it.
public struct Account: Sendable, Equatable, Codable {
    public var name: String
    public var createdAt: Date
    public var playbackToken: String

    public init(name: String, createdAt: Date, playbackToken: String) {
        self.name = name
        self.createdAt = createdAt
        self.playbackToken = playbackToken
    }
}

/// An API bearer token for scripts, as listed: the token itself is shown once, when created, and only its
/// hash is stored.
public struct APIToken: Sendable, Equatable, Codable {
    public var id: String
    public var label: String
    public var user: String
    public var createdAt: Date
}

/// Why an account operation was refused; the CLI prints the description.
public enum AccountError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidName(String)
    case weakPassword
    case exists(String)
    case noSuchUser(String)
    case noSuchToken(String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            "'\(name)' is not a user name: use 1 to 32 letters, digits, '.', '-' or '_', starting with a letter or digit"
        case .weakPassword: "a password needs at least \(Accounts.minimumPasswordLength) characters"
        case .exists(let name): "a user named '\(name)' already exists"
        case .noSuchUser(let name): "there is no user named '\(name)'"
        case .noSuchToken(let id): "there is no API token with id '\(id)'"
        }
    }
}

/// Where users, sessions and API tokens are kept: SQLite in the data directory, an in-memory database in
/// tests. Secrets that only need checking (sessions, API tokens) are stored as SHA-256 hashes, passwords as
/// bcrypt; nothing here hashes or compares by itself (see `Accounts`).
public protocol AccountStore: Sendable {
    func insertUser(_ account: Account, passwordHash: String) throws
    func updatePasswordHash(_ name: String, hash: String) throws
    func updatePlaybackToken(_ name: String, token: String) throws
    func deleteUser(_ name: String) throws
    func users() throws -> [Account]
    func account(named name: String) throws -> Account?
    func passwordHash(of name: String) throws -> String?
    func user(withPlaybackToken token: String) throws -> String?

    /// Also forgets the sessions expired by `now`.
    func insertSession(hash: String, user: String, expires: Date, now: Date) throws
    func sessionUser(hash: String, now: Date) throws -> String?
    func deleteSession(hash: String) throws

    func insertAPIToken(_ token: APIToken, hash: String) throws
    func apiTokens() throws -> [APIToken]
    func deleteAPIToken(id: String) throws -> Bool
    func apiTokenUser(hash: String) throws -> String?
}
