import Foundation
import PitlaneCore
import Testing

struct AccountsTests {
    static func accounts(clock: ManualClock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))) throws -> Accounts {
        Accounts(store: try SQLiteAccountStore(path: nil), clock: clock, sessionLifetime: 3600, bcryptCost: 4, cacheLifetime: 0)
    }

    @Test func passwordsAreCheckedAndNamesAndLengthsRefused() throws {
        let accounts = try Self.accounts()
        try accounts.addUser("alice", password: "long enough")
        #expect(accounts.verify(name: "alice", password: "long enough"))
        #expect(!accounts.verify(name: "alice", password: "long enougH"))
        #expect(!accounts.verify(name: "nobody", password: "long enough"))
        #expect(throws: AccountError.exists("alice")) { try accounts.addUser("alice", password: "another one") }
        #expect(throws: AccountError.weakPassword) { try accounts.addUser("bob", password: "short") }
        for name in ["", "-dash", "a b", "x/y", String(repeating: "n", count: 33), "ünï"] {
            #expect(throws: AccountError.invalidName(name)) { try accounts.addUser(name, password: "long enough") }
        }
    }

    @Test func sessionsExpireAndANewPasswordEndsThem() throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let accounts = try Self.accounts(clock: clock)
        try accounts.addUser("alice", password: "long enough")
        let first = try accounts.startSession(for: "alice")
        #expect(accounts.user(forSession: first) == "alice")
        clock.advance(by: 3601)
        #expect(accounts.user(forSession: first) == nil, "expired after session_lifetime")
        let second = try accounts.startSession(for: "alice")
        try accounts.setPassword("alice", password: "changed it now")
        #expect(accounts.user(forSession: second) == nil)
        #expect(accounts.verify(name: "alice", password: "changed it now"))
    }

    @Test func removingAUserEndsEveryCredentialOfTheirs() throws {
        let accounts = try Self.accounts()
        try accounts.addUser("alice", password: "long enough")
        let session = try accounts.startSession(for: "alice")
        let api = try accounts.createAPIToken(label: "cron", user: "alice")
        let playback = try #require(try accounts.account("alice")?.playbackToken)
        #expect(accounts.user(forAPIToken: api.token) == "alice" && accounts.user(forPlaybackToken: playback) == "alice")
        try accounts.removeUser("alice")
        #expect(accounts.user(forSession: session) == nil)
        #expect(accounts.user(forAPIToken: api.token) == nil)
        #expect(accounts.user(forPlaybackToken: playback) == nil)
        #expect(throws: AccountError.noSuchUser("alice")) { try accounts.removeUser("alice") }
    }

    /// What is stored of an API token or a session is its hash: a copy of the database opens nothing.
    @Test func secretsThatAreOnlyCheckedAreStoredHashed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-accounts-\(UUID())")
        let path = directory.appendingPathComponent("accounts.sqlite").path
        let accounts = Accounts(store: try SQLiteAccountStore(path: path), bcryptCost: 4)
        try accounts.addUser("alice", password: "long enough")
        let api = try accounts.createAPIToken(label: "cron", user: "alice")
        let session = try accounts.startSession(for: "alice")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains(api.token) && !text.contains(session) && !text.contains("long enough"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func aNewPlaybackTokenRetiresTheOld() throws {
        let accounts = try Self.accounts()
        try accounts.addUser("alice", password: "long enough")
        let old = try #require(try accounts.account("alice")?.playbackToken)
        let new = try accounts.resetPlaybackToken("alice")
        #expect(old != new && new.count >= 40)
        #expect(accounts.user(forPlaybackToken: old) == nil && accounts.user(forPlaybackToken: new) == "alice")
    }

    @Test func theThrottleCountsFailuresPerClientWithinItsWindow() {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let throttle = LoginThrottle(clock: clock, limit: 3, window: 60, capacity: 2)
        for _ in 0..<3 { throttle.failed("a") }
        #expect(throttle.retryAfter("a") == 60)
        #expect(throttle.retryAfter("b") == nil)
        clock.advance(by: 30)
        #expect(throttle.retryAfter("a") == 30)
        clock.advance(by: 31)
        #expect(throttle.retryAfter("a") == nil)
        throttle.failed("b")
        throttle.succeeded("b")
        #expect(throttle.retryAfter("b") == nil)
        for client in ["c", "d", "e"] { throttle.failed(client) }  // capacity 2: the oldest goes
        for _ in 0..<3 { throttle.failed("f") }
        clock.advance(by: -3600)
        #expect(throttle.retryAfter("f") == 60, "a clock that went back an hour waits one window, not more")
    }

    @Test func listeningBeyondLoopbackNeedsAccountsOrAnExplicitNone() throws {
        var config = Configuration()
        #expect(config.exposure == .fine)
        config.server.host = "0.0.0.0"
        guard case .refuse = config.exposure else {
            Issue.record("0.0.0.0 without auth is refused")
            return
        }
        let explicit = try ConfigLoader.parse("server: {host: 0.0.0.0}\nauth: {mode: none}")
        guard case .warn = explicit.exposure else {
            Issue.record("an explicit auth.mode: none is a warning")
            return
        }
        let password = try ConfigLoader.parse("server: {host: '::'}\nauth: {mode: password, session_lifetime: 168h}")
        #expect(password.exposure == .fine && password.auth.sessionLifetime == 7 * 86_400)
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            config.server.host = host
            #expect(config.exposure == .fine, "\(host) is loopback")
        }
        #expect(throws: ConfigError.self) { try ConfigLoader.parse("auth: {mode: open}") }
    }
}
