import Crypto
import Foundation
import HummingbirdBcrypt

/// Accounts for `auth.mode: password`: users with bcrypt passwords (hummingbird-auth's bcrypt), browser
/// sessions, playback tokens for players, API bearer tokens for scripts. Every secret is 256 random bits;
/// those only checked are stored hashed. A lookup is remembered for `cacheLifetime` (segment requests
/// come many a second), so a revocation made by the CLI in another process takes hold within that time.
public final class Accounts: Sendable {
    public static let minimumPasswordLength = 8

    let store: any AccountStore
    let clock: any WallClock
    let bcryptCost: UInt8
    public let sessionLifetime: TimeInterval
    let cacheLifetime: TimeInterval
    private let cache: CredentialCache
    /// A bcrypt hash of nothing anyone knows, verified for unknown names.
    private let decoyHash: String

    /// - Parameter bcryptCost: 12 in production; tests use the minimum (4) to stay fast.
    public init(
        store: any AccountStore, clock: any WallClock = SystemClock(), sessionLifetime: TimeInterval = 30 * 86_400,
        bcryptCost: UInt8 = 12, cacheLifetime: TimeInterval = 2
    ) {
        self.store = store
        self.clock = clock
        self.sessionLifetime = sessionLifetime
        self.bcryptCost = bcryptCost
        self.cacheLifetime = cacheLifetime
        self.cache = CredentialCache(limit: 4096)
        self.decoyHash = Bcrypt.hash(Self.randomToken(), cost: bcryptCost)
    }

    // MARK: Users (the CLI)

    public func addUser(_ name: String, password: String) throws {
        try Self.check(name: name)
        guard password.count >= Self.minimumPasswordLength else { throw AccountError.weakPassword }
        guard try store.passwordHash(of: name) == nil else { throw AccountError.exists(name) }
        try store.insertUser(
            Account(name: name, createdAt: clock.now(), playbackToken: Self.randomToken()),
            passwordHash: Bcrypt.hash(password, cost: bcryptCost))
    }

    public func setPassword(_ name: String, password: String) throws {
        guard password.count >= Self.minimumPasswordLength else { throw AccountError.weakPassword }
        guard try store.passwordHash(of: name) != nil else { throw AccountError.noSuchUser(name) }
        try store.updatePasswordHash(name, hash: Bcrypt.hash(password, cost: bcryptCost))
    }

    public func removeUser(_ name: String) throws {
        guard try store.passwordHash(of: name) != nil else { throw AccountError.noSuchUser(name) }
        try store.deleteUser(name)
        cache.removeAll()
    }

    public func users() throws -> [Account] { try store.users() }

    /// A new playback token for `name`: the old one (and every link that carries it) stops working.
    @discardableResult public func resetPlaybackToken(_ name: String) throws -> String {
        guard try store.passwordHash(of: name) != nil else { throw AccountError.noSuchUser(name) }
        let token = Self.randomToken()
        try store.updatePlaybackToken(name, token: token)
        cache.removeAll()
        return token
    }

    public func account(_ name: String) throws -> Account? {
        try store.account(named: name)
    }

    // MARK: Signing in

    /// Checks a password. An unknown name costs as much as a wrong password, so timing tells nothing.
    public func verify(name: String, password: String) -> Bool {
        let hash = (try? store.passwordHash(of: name)) ?? nil
        let verified = Bcrypt.verify(password, hash: hash ?? decoyHash)
        return hash != nil && verified
    }

    /// Starts a browser session; the returned token goes into the HttpOnly cookie.
    public func startSession(for user: String) throws -> String {
        let token = Self.randomToken()
        let now = clock.now()
        try store.insertSession(hash: Self.digest(token), user: user, expires: now.addingTimeInterval(sessionLifetime), now: now)
        return token
    }

    public func endSession(_ token: String) {
        try? store.deleteSession(hash: Self.digest(token))
        cache.remove(CredentialKey(kind: "s", token: token))
    }

    // MARK: Credentials (every request)

    public func user(forSession token: String) -> String? {
        lookup("s", token) { try self.store.sessionUser(hash: Self.digest(token), now: self.clock.now()) }
    }

    public func user(forAPIToken token: String) -> String? {
        lookup("a", token) { try self.store.apiTokenUser(hash: Self.digest(token)) }
    }

    public func user(forPlaybackToken token: String) -> String? {
        guard token.utf8.count >= 16 else { return nil }
        return lookup("p", token) { try self.store.user(withPlaybackToken: token) }
    }

    /// A cached answer for (kind, token), else `find`'s (which asks the store: by hash for sessions and API
    /// tokens, by the token itself for playback tokens, which the Settings page shows).
    private func lookup(_ kind: Character, _ token: String, _ find: () throws -> String?) -> String? {
        // Tokens are base64url (API tokens with a `pl_` prefix): anything else is no token, and is never
        // compared as a Swift String (which treats canonically equivalent Unicode as equal).
        guard !token.isEmpty, token.utf8.count <= 256,
            token.utf8.allSatisfy(Self.isTokenCharacter)
        else { return nil }
        // Keyed by the token itself (it is in this process's memory anyway): a hit, what nearly every
        // segment request is, costs no hashing.
        let key = CredentialKey(kind: kind, token: token)
        let now = clock.now()
        if let hit = cache.value(key, now: now) { return hit.user }
        let user = (try? find()) ?? nil
        cache.store(key, user: user, until: now.addingTimeInterval(cacheLifetime))
        return user
    }

    // MARK: API tokens (the CLI)

    /// Creates an API token for `user`; the token is returned once and stored only as its hash.
    public func createAPIToken(label: String, user: String) throws -> (id: String, token: String) {
        guard try store.passwordHash(of: user) != nil else { throw AccountError.noSuchUser(user) }
        let id = String(Self.randomToken().prefix(8))
        let token = "pl_" + Self.randomToken()
        try store.insertAPIToken(APIToken(id: id, label: label, user: user, createdAt: clock.now()), hash: Self.digest(token))
        return (id, token)
    }

    public func apiTokens() throws -> [APIToken] { try store.apiTokens() }

    public func revokeAPIToken(id: String) throws {
        guard try store.deleteAPIToken(id: id) else { throw AccountError.noSuchToken(id) }
        cache.removeAll()
    }

    // MARK: Helpers

    static func check(name: String) throws {
        guard name.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$", options: .regularExpression) != nil else {
            throw AccountError.invalidName(name)
        }
    }

    /// 256 random bits from the system's generator, base64url.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(Data(bytes))
    }

    /// A-Z, a-z, 0-9, '-' and '_'.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    static func digest(_ token: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(token.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

/// A credential's kind and the token itself (no string is built per lookup).
private struct CredentialKey: Hashable {
    var kind: Character
    var token: String
}

/// Remembered credential lookups, misses too (a flood of bad tokens must not become a flood of queries).
private final class CredentialCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [CredentialKey: (user: String?, until: Date)] = [:]
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func value(_ key: CredentialKey, now: Date) -> (user: String?, until: Date)? {
        lock.withLock {
            guard let entry = entries[key], entry.until > now else { return nil }
            return entry
        }
    }

    func store(_ key: CredentialKey, user: String?, until: Date) {
        lock.withLock {
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = (user, until)
        }
    }

    func remove(_ key: CredentialKey) { _ = lock.withLock { entries.removeValue(forKey: key) } }
    func removeAll() { lock.withLock { entries.removeAll() } }
}
