import Foundation
import Logging
import NIOCore
import PitlaneCore
import PitlaneServer
import ServiceLifecycle
import Testing

/// The real upstream client against two fixture origins on loopback (two ports: two origins).
struct UpstreamClientTests {
    static func withTwoOrigins(_ body: @Sendable (FixtureOrigin, URL, FixtureOrigin, URL) async throws -> Void) async throws {
        let first = FixtureOrigin()
        let second = FixtureOrigin()
        try await FixtureOrigin.serving([first, second]) { urls in try await body(first, urls[0], second, urls[1]) }
    }

    static let credentials = HeaderProfile([
        "Cookie": "session=secret", "Authorization": "Bearer secret", "Referer": "https://site.example/",
    ])

    @Test func credentialsFollowARedirectOnlyWithinTheOrigin() async throws {
        try await Self.withTwoOrigins { first, one, second, two in
            let client = HTTPUpstreamClient()
            do {
                try await Self.redirects(client, first, one, second, two)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    static func redirects(_ client: HTTPUpstreamClient, _ first: FixtureOrigin, _ one: URL, _ second: FixtureOrigin, _ two: URL)
        async throws
    {
        do {
            let same = URL(string: one.absoluteString + "redirect-to?to=/echo")!
            let sameResponse = try await client.send(UpstreamRequest(url: same, headers: Self.credentials, allowPrivate: true))
            #expect(sameResponse.status == 200)
            let echoed = try #require(first.requests.last { $0.path == "/echo" })
            #expect(echoed.headers[.cookie] == "session=secret" && echoed.headers[.authorization] == "Bearer secret")

            let elsewhere = two.absoluteString + "echo"
            let cross = URL(
                string: one.absoluteString + "redirect-to?to=" + elsewhere.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)!
            let crossResponse = try await client.send(UpstreamRequest(url: cross, headers: Self.credentials, allowPrivate: true))
            #expect(crossResponse.status == 200)
            let arrived = try #require(second.requests.last { $0.path == "/echo" })
            #expect(arrived.headers[.cookie] == nil, "no Cookie for another origin")
            #expect(arrived.headers[.authorization] == nil, "no Authorization for another origin")
            #expect(arrived.headers[.referer] == "https://site.example/", "other headers still go")
        }
    }

    /// An upstream that gzips unasked: the body arrives decoded, without its encoding or compressed length
    /// (relaying compressed bytes without Content-Encoding was corrupt for the player).
    @Test func aGzippedBodyArrivesDecodedWithoutItsEncodingHeaders() async throws {
        try await Self.withTwoOrigins { _, one, _, _ in
            let client = HTTPUpstreamClient()
            do {
                let segment = try await client.send(
                    UpstreamRequest(url: URL(string: one.absoluteString + "gzip/seg.ts")!, headers: .init(), allowPrivate: true))
                let bytes = try await segment.body.collect(upTo: 1 << 20)
                #expect(Array(buffer: bytes) == Array((0..<64).map { _ in (0...255).map(UInt8.init) }.joined()))
                #expect(segment.headers.value(for: "Content-Encoding") == nil && segment.headers.value(for: "Content-Length") == nil)
                let playlist = try await client.send(
                    UpstreamRequest(url: URL(string: one.absoluteString + "gzip/index.m3u8")!, headers: .init(), allowPrivate: true))
                let text = String(buffer: try await playlist.body.collect(upTo: 1 << 20))
                #expect(text.hasPrefix("#EXTM3U\n") && text.contains("seg40.ts"))
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    @Test func theReadTimeoutIsNeverShorterThanASourcesTimeout() throws {
        var configuration = Configuration()
        var slow = Configuration.SourceConfig(id: "slow-api", kind: "static")
        slow.timeout = 40
        configuration.sources = [slow]
        #expect(configuration.upstreamReadTimeout == .seconds(40))
        configuration.sources = []
        #expect(configuration.upstreamReadTimeout == .seconds(20))
    }
}
