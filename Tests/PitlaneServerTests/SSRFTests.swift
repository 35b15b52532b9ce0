import Foundation
import Logging
import PitlaneCore
import PitlaneServer
import ServiceLifecycle
import Synchronization
import Testing

/// Server-side request forgery, tried the ways it is tried: every attempt must fail, and a listener on
/// loopback proves that none of them reached it (an error is not proof: a request can fail after connecting).
@Suite(.serialized) struct SSRFTests {
    /// Loopback, private, link-local, metadata, special-purpose ranges, IPv6 and IPv4-mapped forms, the
    /// decimal, octal and hex IPv4 spellings getaddrinfo accepts, userinfo tricks, other schemes.
    static func attempts(_ port: Int) -> [String] {
        let p = port
        return [
            "http://127.0.0.1:\(p)/", "http://127.0.0.2:\(p)/", "http://127.1:\(p)/", "http://127.0.1:\(p)/",
            "http://2130706433:\(p)/", "http://0x7f000001:\(p)/", "http://0x7f.0.0.1:\(p)/", "http://0177.0.0.1:\(p)/",
            "http://0177.0000.0000.0001:\(p)/", "http://017700000001:\(p)/", "http://127.000.000.001:\(p)/", "http://0:\(p)/",
            "http://0.0.0.0:\(p)/", "http://localhost:\(p)/", "http://LOCALHOST:\(p)/", "http://localhost.:\(p)/",
            "http://foo.localhost:\(p)/", "https://127.0.0.1:\(p)/", "http://[::1]:\(p)/", "http://[0:0:0:0:0:0:0:1]:\(p)/",
            "http://[::ffff:127.0.0.1]:\(p)/", "http://[::ffff:7f00:1]:\(p)/", "http://[0:0:0:0:0:ffff:127.0.0.1]:\(p)/",
            "http://[::127.0.0.1]:\(p)/", "http://[::]:\(p)/", "http://[::ffff:0:127.0.0.1]:\(p)/", "http://[64:ff9b::127.0.0.1]:\(p)/",
            "http://[64:ff9b:1::7f00:1]:\(p)/", "http://[2002:7f00:1::]:\(p)/", "http://[2001:0:7f00:1::]:\(p)/", "http://[fe80::1]:\(p)/",
            "http://[fc00::1]:\(p)/", "http://[fd00::1]:\(p)/", "http://[fec0::1]:\(p)/", "http://[ff02::1]:\(p)/",
            "http://10.0.0.1:\(p)/", "http://172.16.0.1:\(p)/", "http://172.31.255.255:\(p)/", "http://192.168.0.1:\(p)/",
            "http://169.254.169.254/latest/meta-data/", "http://169.254.170.2/v2/credentials", "http://[fd00:ec2::254]/latest/",
            "http://0251.0376.0251.0376/", "http://2852039166/", "http://0xa9fea9fe/", "http://100.64.0.1:\(p)/",
            "http://192.0.0.1:\(p)/", "http://192.88.99.1:\(p)/", "http://198.18.0.1:\(p)/", "http://224.0.0.1:\(p)/",
            "http://255.255.255.255:\(p)/", "http://example.com@127.0.0.1:\(p)/", "http://user:pass@localhost:\(p)/",
            "http://127.0.0.1:\(p)#@example.com/", "http://localhost:\(p)?@example.com/", "file:///etc/passwd",
            "gopher://127.0.0.1:\(p)/_GET", "ftp://127.0.0.1:\(p)/", "dict://127.0.0.1:\(p)/",
        ]
    }

    /// 127.0.0.2 plays a public server: the only address the test policy adds to the real one.
    static let testPolicy: @Sendable (String) -> Bool = { $0 == "127.0.0.2" || AddressPolicy.isPublic($0) }

    static func withPublicOriginAndListener(_ body: @Sendable (FixtureOrigin, URL, CountingListener) async throws -> Void) async throws {
        let origin = FixtureOrigin(host: "127.0.0.2")
        try await FixtureOrigin.serving([origin]) { urls in
            let listener = try await CountingListener.start(port: urls[0].port!)
            do {
                try await body(origin, urls[0], listener)
            } catch {
                await listener.stop()
                throw error
            }
            await listener.stop()
        }
    }

    /// Runs `body` with a client that is shut down whatever happens (an AsyncHTTPClient must be).
    static func withClient<T>(_ client: HTTPUpstreamClient, _ body: (HTTPUpstreamClient) async throws -> T) async throws -> T {
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test func noAttemptReachesLoopback() async throws {
        let listener = try await CountingListener.start()
        defer { Task { await listener.stop() } }
        let attempts = Self.attempts(listener.port)
        let (succeeded, reached, control) = try await Self.withClient(HTTPUpstreamClient(readTimeout: .seconds(2))) { client in
            // Each attempt must be refused by the policy itself (or be no HTTP URL, or a name that does not
            // resolve): a failed connection is no proof, since nothing listens at most of these addresses.
            var succeeded: [String] = []
            for attempt in attempts {
                let url = try #require(URL(string: attempt), "\(attempt) parses")
                do {
                    _ = try await client.send(UpstreamRequest(url: url, headers: .init(), allowPrivate: false, timeout: .seconds(2)))
                    succeeded.append(attempt)
                } catch UpstreamError.refusedAddress {
                } catch UpstreamError.connection(let reason) where reason.hasPrefix("unsupported URL") || reason.hasPrefix("cannot resolve")
                {
                } catch {
                    succeeded.append("\(attempt): \(error)")
                }
            }
            let reached = listener.connections
            // The control: the listener does count, and allow_private does reach it.
            let loopback = URL(string: "http://127.0.0.1:\(listener.port)/")!
            _ = try? await client.send(UpstreamRequest(url: loopback, headers: .init(), allowPrivate: true, timeout: .seconds(2)))
            return (succeeded, reached, listener.connections)
        }
        #expect(control > reached, "the listener counts connections")
        #expect(attempts.count >= 50)
        #expect(succeeded.isEmpty, "these were not refused by the policy: \(succeeded)")
        #expect(reached == 0, "\(reached) connections reached the loopback listener")
    }

    @Test func redirectsIntoPrivateSpaceFromAnAllowedHostAreRefused() async throws {
        try await Self.withPublicOriginAndListener { origin, base, listener in
            let p = listener.port
            let targets = [
                "http://127.0.0.1:\(p)/echo", "http://localhost:\(p)/echo", "http://[::1]:\(p)/echo", "http://2130706433:\(p)/echo",
                "http://[::ffff:127.0.0.1]:\(p)/echo", "http://169.254.169.254/latest/meta-data/",
            ]
            let (answered, direct) = try await Self.withClient(HTTPUpstreamClient(readTimeout: .seconds(2), isPublic: Self.testPolicy)) {
                client in
                var answered: [String] = []
                for target in targets {
                    let escaped = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                    let url = URL(string: base.absoluteString + "redirect-to?to=" + escaped)!
                    do {
                        _ = try await client.send(UpstreamRequest(url: url, headers: .init(), allowPrivate: false, timeout: .seconds(2)))
                        answered.append(target)
                    } catch let error as UpstreamError {
                        if case .refusedAddress = error {} else { answered.append("\(target): \(error)") }
                    }
                }
                // The allowed host itself is reachable: the refusals are the policy's, not a broken origin.
                let echo = URL(string: base.absoluteString + "echo")!
                let direct = try await client.send(UpstreamRequest(url: echo, headers: .init(), allowPrivate: false))
                return (answered, direct.status)
            }
            let redirects = origin.requests.filter { $0.path == "/redirect-to" }.count
            #expect(answered.isEmpty, "\(answered)")
            #expect(direct == 200 && redirects == targets.count)
            #expect(listener.connections == 0)
        }
    }

    /// A resolver that answers the check with a public address and the next lookup with loopback (DNS
    /// rebinding). "localhost" is the name, so an HTTP client that resolved it again itself would reach the
    /// listener on 127.0.0.1: pinned, the connection goes to the address that was checked.
    @Test func theConnectionGoesToTheAddressThatWasChecked() async throws {
        try await Self.withPublicOriginAndListener { origin, base, listener in
            let resolver = RebindingResolver(first: ["127.0.0.2"], then: ["127.0.0.1"])
            let url = URL(string: "http://localhost:\(base.port!)/echo")!
            let client = HTTPUpstreamClient(readTimeout: .seconds(2), resolver: resolver, isPublic: Self.testPolicy)
            let (first, second) = try await Self.withClient(client) { client in
                let first = try? await client.send(UpstreamRequest(url: url, headers: .init(), allowPrivate: false))
                var second: UpstreamError?
                do {
                    _ = try await client.send(UpstreamRequest(url: url, headers: .init(), allowPrivate: false))
                } catch let error as UpstreamError {
                    second = error
                }
                return (first?.status, second)
            }
            let arrived = origin.requests.last { $0.path == "/echo" }
            #expect(first == 200)
            #expect(arrived?.authority == "localhost:\(base.port!)", "the name goes as Host")
            #expect(second == .refusedAddress(host: "localhost"))
            #expect(resolver.lookups == 2, "one lookup per request, none by the HTTP client")
            #expect(listener.connections == 0, "\(listener.connections) connections reached 127.0.0.1")
        }
    }

    /// A name whose first checked address refuses connections: the next checked one is used (as an HTTP
    /// client resolving it itself would), not a failure for the whole host.
    @Test func anUnreachableAddressFallsBackToTheNameNextCheckedOne() async throws {
        try await Self.withPublicOriginAndListener { _, base, listener in
            let resolver = RebindingResolver(first: ["127.0.0.3", "127.0.0.2"], then: ["127.0.0.3", "127.0.0.2"])
            let policy: @Sendable (String) -> Bool = { $0 == "127.0.0.3" || Self.testPolicy($0) }
            let url = URL(string: "http://localhost:\(base.port!)/echo")!
            let statuses = try await Self.withClient(HTTPUpstreamClient(readTimeout: .seconds(2), resolver: resolver, isPublic: policy)) {
                client in
                var statuses: [Int] = []
                for _ in 0..<2 {
                    statuses.append(try await client.send(UpstreamRequest(url: url, headers: .init(), allowPrivate: false)).status)
                }
                return statuses
            }
            #expect(statuses == [200, 200])
            #expect(listener.connections == 0)
        }
    }

    @Test func allowHostsHoldsOnEveryHop() async throws {
        try await Self.withPublicOriginAndListener { origin, base, listener in
            let allowed = HostAllowList(["127.0.0.2"])
            let away = "http://localhost:\(listener.port)/echo".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let (redirected, home, other) = try await Self.withClient(
                HTTPUpstreamClient(readTimeout: .seconds(2), isPublic: Self.testPolicy)
            ) {
                client in
                func attempt(_ url: URL, allowPrivate: Bool) async -> UpstreamError? {
                    do {
                        _ = try await client.send(
                            UpstreamRequest(url: url, headers: .init(), allowPrivate: allowPrivate, allowHosts: allowed))
                        return nil
                    } catch {
                        return error as? UpstreamError ?? .connection("\(error)")
                    }
                }
                return (
                    await attempt(URL(string: base.absoluteString + "redirect-to?to=" + away)!, allowPrivate: true),
                    await attempt(URL(string: base.absoluteString + "echo")!, allowPrivate: false),
                    await attempt(URL(string: "http://localhost:\(listener.port)/")!, allowPrivate: true)
                )
            }
            #expect(redirected == .hostNotAllowed(host: "localhost"), "even a source with allow_private stays on its hosts")
            #expect(other == .hostNotAllowed(host: "localhost"))
            #expect(home == nil)
            #expect(listener.connections == 0)
        }
    }
}

/// Answers `first` to the first lookup and `then` to every later one.
final class RebindingResolver: HostResolver {
    private let answers: Mutex<(count: Int, first: [String], then: [String])>

    init(first: [String], then: [String]) {
        answers = Mutex((0, first, then))
    }

    var lookups: Int { answers.withLock { $0.count } }

    func addresses(of host: String) async throws -> [String] {
        answers.withLock { state in
            state.count += 1
            return state.count == 1 ? state.first : state.then
        }
    }
}
