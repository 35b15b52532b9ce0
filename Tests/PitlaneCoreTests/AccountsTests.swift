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
        // Only base64url is a token: a canonically equivalent spelling (KELVIN SIGN for K) is not the same one.
        let lookalike = new.replacingOccurrences(of: "K", with: "\u{212A}").replacingOccurrences(of: "A", with: "\u{0410}")
        if lookalike != new { #expect(accounts.user(forPlaybackToken: lookalike) == nil) }
        #expect(accounts.user(forPlaybackToken: new + "\u{0301}") == nil)
    }

    static func fail(_ throttle: LoginThrottle, _ address: String, times: Int = 1) {
        for _ in 0..<times {
            guard case .success(let attempt) = throttle.begin(address) else { return }
            throttle.failed(attempt)
        }
    }

    static func wait(_ throttle: LoginThrottle, _ address: String) -> TimeInterval? {
        switch throttle.begin(address) {
        case .success(let attempt):
            throttle.succeeded(attempt)
            return nil
        case .failure(let wait): return wait.seconds
        }
    }

    @Test func theThrottleCountsFailuresPerClientWithinItsWindow() {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let throttle = LoginThrottle(clock: clock, limit: 3, window: 60)
        Self.fail(throttle, "198.51.100.1", times: 3)
        #expect(Self.wait(throttle, "198.51.100.1") == 60)
        #expect(Self.wait(throttle, "198.51.100.2") == nil)
        clock.advance(by: 30)
        #expect(Self.wait(throttle, "198.51.100.1") == 30)
        clock.advance(by: 31)
        #expect(Self.wait(throttle, "198.51.100.1") == nil)
        Self.fail(throttle, "198.51.100.3", times: 3)
        clock.advance(by: -3600)
        #expect(Self.wait(throttle, "198.51.100.3") == 60, "a clock that went back an hour waits one window, not more")
        clock.advance(by: 61)
        #expect(Self.wait(throttle, "198.51.100.3") == nil, "and the window really ends")
    }

    /// Attempts count from the moment they begin: a burst sent at once is not all let through while bcrypt
    /// is busy, and a success (one's own account) takes back only itself, not the guesses before it.
    @Test func attemptsCountWhileUnderWayAndASuccessClearsOnlyItself() throws {
        let throttle = LoginThrottle(clock: ManualClock(Date(timeIntervalSince1970: 1_800_000_000)), limit: 3, window: 60, concurrent: 100)
        var started: [LoginThrottle.Attempt] = []
        for _ in 0..<10 {
            if case .success(let attempt) = throttle.begin("198.51.100.7") { started.append(attempt) }
        }
        #expect(started.count == 3, "only the limit begins, however many arrive at once")
        throttle.failed(started[0])
        throttle.failed(started[1])
        throttle.succeeded(started[2])
        guard case .success(let next) = throttle.begin("198.51.100.7") else {
            Issue.record("the success gave back its own slot")
            return
        }
        throttle.succeeded(next)
        Self.fail(throttle, "198.51.100.7")
        #expect(Self.wait(throttle, "198.51.100.7") != nil, "the two failures before the success still count")
    }

    @Test func allAddressesTogetherAndAtOnceAreBoundedToo() {
        let throttle = LoginThrottle(
            clock: ManualClock(Date(timeIntervalSince1970: 1_800_000_000)), limit: 5, window: 60, globalLimit: 4, concurrent: 2)
        for n in 0..<4 { Self.fail(throttle, "203.0.113.\(n)") }
        #expect(Self.wait(throttle, "203.0.113.200") == 60, "an attacker who varies the address still guesses slowly")
        let fresh = LoginThrottle(clock: ManualClock(Date(timeIntervalSince1970: 1_800_000_000)), concurrent: 2)
        let first = fresh.begin("192.0.2.1")
        let second = fresh.begin("192.0.2.2")
        #expect(Self.wait(fresh, "192.0.2.3") == 1, "at most two bcrypt checks at once")
        if case .success(let attempt) = first { fresh.succeeded(attempt) }
        if case .success(let attempt) = second { fresh.succeeded(attempt) }
        #expect(Self.wait(fresh, "192.0.2.3") == nil)
    }

    @Test func anIPv6HostCountsAsItsWholeSlash64() {
        let throttle = LoginThrottle(clock: ManualClock(Date(timeIntervalSince1970: 1_800_000_000)), limit: 2, window: 60)
        Self.fail(throttle, "2001:db8:1:2::1")
        Self.fail(throttle, "2001:db8:1:2:ffff::9")
        #expect(Self.wait(throttle, "2001:db8:1:2:abcd::42") == 60)
        #expect(Self.wait(throttle, "2001:db8:1:3::1") == nil)
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
