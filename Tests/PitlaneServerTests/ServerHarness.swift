import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PitlaneCore
import PitlaneServer
import ServiceLifecycle

/// An extractor backed by a closure: test sources whose results follow the fixture origin's state.
struct ClosureExtractor: Extractor {
    let body: @Sendable () -> [Candidate]
    func extract(_ context: ExtractionContext) async throws -> [Candidate] { body() }
}

/// Runs the fixture origin and a Pitlane on loopback port 0, with a shared HTTP client for the test.
struct ServerHarness {
    let origin: FixtureOrigin
    let pitlane: URL
    let client: HTTPClient
    let clock: ManualClock
    let app: PitlaneApplication

    struct Fetched {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Fetched {
        try await send(.GET, path, headers: headers)
    }

    func post(_ path: String) async throws -> Fetched {
        try await send(.POST, path)
    }

    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String? = nil) async throws -> Fetched {
        let url = path.hasPrefix("http") ? path : pitlane.absoluteString + path.drop { $0 == "/" }
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 16 << 20)
        return Fetched(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(buffer: body))
    }

    /// Waits (bounded) until Pitlane's first extraction cycle has registered the expected number of streams
    /// and checked them all, so that no background request mixes with what a test counts.
    func waitForStreams(_ count: Int) async throws {
        for _ in 0..<200 {
            let streams = await app.catalog.all()
            if streams.count >= count, count == 0 || streams.allSatisfy({ $0.health != nil }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError.timedOut("streams were not discovered and checked")
    }

    /// - Parameters:
    ///   - configure: adds configuration (sources pointing at the origin, whose URL it gets).
    ///   - dataDir: the data directory (a fresh temporary one by default; pass one to test restarts).
    ///   - expectStreams: how many streams must be known before `body` runs.
    static func run(
        configure: @Sendable (inout Configuration, URL) -> Void = { _, _ in }, dataDir: String? = nil, expectStreams: Int = 8,
        accounts: Accounts? = nil, _ body: @Sendable (ServerHarness) async throws -> Void
    ) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["PITLANE_TEST_LOG"] == "1" ? .debug : .warning
        let origin = FixtureOrigin()
        let originGroup = ServiceGroup(configuration: .init(services: [origin.makeApplication()], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await originGroup.run() }
            guard let originURL = await origin.address.wait() else { throw HarnessError.timedOut("origin") }

            // A fixed instant, never `Date()`: the suite must give the same answer on any day.
            let clock = ManualClock(ServerHarness.start)
            var configuration = Configuration()
            configuration.server.port = 0
            configuration.server.dataDir =
                dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-test-\(UUID())").path
            configuration.refresh.minSpacing = 0
            configuration.refresh.holdTimeout = 5
            configuration.upstream.timeout = 5
            configuration.schedule.jolpicaURL = URL(string: originURL.absoluteString + "jolpica/")!
            configuration.schedule.allowPrivate = true
            configure(&configuration, originURL)
            let referer = HeaderProfile(["Referer": FixtureOrigin.referer])
            @Sendable func candidate(_ path: String) -> [Candidate] {
                [
                    Candidate(
                        url: URL(string: originURL.absoluteString + path + "?token=" + origin.currentToken)!, title: "Race",
                        quality: "720p", key: "race")
                ]
            }
            let sources = [
                Source(
                    id: "fixture", kind: "test", headers: referer, allowPrivate: true,
                    extractor: ClosureExtractor { candidate("live/master.m3u8") }),
                Source(
                    id: "redirected", kind: "test", headers: referer, allowPrivate: true,
                    extractor: ClosureExtractor { candidate("redirect/master.m3u8") }),
                Source(
                    id: "guarded", kind: "test", headers: referer, allowPrivate: false,
                    extractor: ClosureExtractor { candidate("live/guarded.m3u8") }),
                Source(
                    id: "html", kind: "test", headers: referer, allowPrivate: true,
                    extractor: ClosureExtractor { candidate("live/html.m3u8") }),
            ]
            let pitlane = try PitlaneApplication(
                configuration: configuration, clock: clock, extraSources: sources, accounts: accounts, authClock: clock, logger: logger)
            let pitlaneGroup = ServiceGroup(configuration: .init(services: [try await pitlane.makeApplication()], logger: logger))
            group.addTask { try await pitlaneGroup.run() }
            guard let pitlaneURL = await pitlane.address.wait() else { throw HarnessError.timedOut("pitlane") }
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let outcome: Result<Void, Error>
            do {
                let harness = ServerHarness(origin: origin, pitlane: pitlaneURL, client: client, clock: clock, app: pitlane)
                try await harness.waitForStreams(expectStreams)
                try await body(harness)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            try? await client.shutdown()
            await pitlaneGroup.triggerGracefulShutdown()
            await originGroup.triggerGracefulShutdown()
            try outcome.get()
            try await group.waitForAll()
        }
    }
}

extension ServerHarness {
    /// Where every harness clock starts: a Tuesday between two race weekends of the bundled 2026 season.
    static let start = utc("2026-06-02T12:00:00Z")
}

enum HarnessError: Error {
    case timedOut(String)
}

func utc(_ text: String) -> Date {
    try! Date(text, strategy: .iso8601)
}
