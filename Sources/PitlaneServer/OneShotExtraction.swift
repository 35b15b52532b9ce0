import Foundation
import Logging
import PitlaneCore

/// One extraction cycle outside the server, for `pitlane sources check` and `pitlane streams`: every
/// configured source runs once (concurrently, each bounded by its timeout) and every stream is validated.
/// The demo source is left out: its origin lives inside `pitlane serve`.
public enum OneShotExtraction {
    public struct Outcome: Sendable {
        public var sources: [SourceStatus]
        public var streams: [StreamRecord]
        /// Per source: how many of its streams passed validation.
        public var playable: [String: Int]
    }

    public static func run(_ configuration: Configuration, validate: Bool = true, logger: Logger) async throws -> Outcome {
        let clock = SystemClock()
        let catalog = StreamCatalog()
        let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: configuration.refreshPolicy, logger: logger)
        let browser = configuration.makeBrowser(protectedPort: { nil }, logger: logger)
        try await configuration.registerSources(on: refresher, browser: browser)
        let client = configuration.makeUpstreamClient(logger: logger)
        await refresher.setUpstream(client, limits: configuration.upstream.limits)
        let validator = validate ? configuration.makeValidator(http: client) : nil
        let extraction = ExtractionService(
            refresher: refresher, catalog: catalog, validator: validator, store: nil, clock: clock,
            concurrency: configuration.extraction.concurrency, logger: logger)
        await extraction.runCycle()
        try await client.shutdown()
        await browser?.shutdown()
        let streams = StreamRanking.ranked(await catalog.all())
        var playable: [String: Int] = [:]
        for record in streams where record.health?.playable == true { playable[record.descriptor.source, default: 0] += 1 }
        return Outcome(sources: await refresher.allStatuses(), streams: streams, playable: playable)
    }
}
