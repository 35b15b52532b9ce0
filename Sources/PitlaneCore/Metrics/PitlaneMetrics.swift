import CoreMetrics
import Foundation

/// What Pitlane counts and times as it works, through swift-metrics with an injected factory (the server
/// gives a Prometheus one; tests a fake; by default nothing is recorded). Labels are stream and source ids,
/// outcomes and status classes: bounded values, never URLs. What is a state rather than an event (viewers,
/// token expiry, the last success) is read at scrape time by the server instead.
public struct PitlaneMetrics: Sendable {
    public let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Records nothing.
    public static let off = PitlaneMetrics(factory: NOOPMetricsHandler.instance)

    /// How a stream's refresh went: a new URL, the same URL handed back, not found in its source's run,
    /// or the run failed.
    public enum RefreshOutcome: String, Sendable, CaseIterable {
        case refreshed, unchanged, notFound = "not_found", failed
    }

    public func refreshed(stream: String, outcome: RefreshOutcome) {
        Counter(label: MetricName.refreshes, dimensions: [("stream", stream), ("outcome", outcome.rawValue)], factory: factory).increment()
    }

    /// How a hold ended: the refresh found the stream, did not, or did not finish within the hold.
    public enum HoldOutcome: String, Sendable, CaseIterable {
        case saved, failed, timedOut = "timed_out"
    }

    /// A player request held for a refresh, from the hold's start to its end.
    public func held(stream: String, seconds: Double, outcome: HoldOutcome) {
        Timer(label: MetricName.holdDuration, dimensions: [("stream", stream), ("outcome", outcome.rawValue)], factory: factory)
            .recordSeconds(seconds)
    }

    static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx", "error"]

    /// Removes every series of a stream that left the catalogue, so ids that come and go (a source whose
    /// titles change) do not pile up series for ever.
    public func forget(stream: String) {
        for outcome in RefreshOutcome.allCases {
            Counter(label: MetricName.refreshes, dimensions: [("stream", stream), ("outcome", outcome.rawValue)], factory: factory)
                .destroy()
        }
        for outcome in HoldOutcome.allCases {
            Timer(label: MetricName.holdDuration, dimensions: [("stream", stream), ("outcome", outcome.rawValue)], factory: factory)
                .destroy()
        }
        for statusClass in Self.statusClasses {
            Counter(label: MetricName.upstreamResponses, dimensions: [("stream", stream), ("class", statusClass)], factory: factory)
                .destroy()
        }
        relayedBytes(stream: stream).destroy()
    }

    /// One answer of an upstream to the proxy, by status class; `nil` when no answer came (a connection
    /// error, a timeout, a refused address).
    public func upstreamResponse(stream: String, status: Int?) {
        let statusClass = status.map { Self.statusClasses[min(4, max(0, $0 / 100 - 1))] } ?? "error"
        Counter(label: MetricName.upstreamResponses, dimensions: [("stream", stream), ("class", statusClass)], factory: factory)
            .increment()
    }

    /// The counter of bytes relayed to players for a stream: made once per reply, incremented per chunk.
    public func relayedBytes(stream: String) -> Counter {
        Counter(label: MetricName.relayedBytes, dimensions: [("stream", stream)], factory: factory)
    }

    /// A feed moved to another member.
    public func feedSwitched(feed: String, reason: String) {
        Counter(label: MetricName.feedSwitches, dimensions: [("feed", feed), ("reason", reason)], factory: factory).increment()
    }

    public func sourceRun(source: String, seconds: Double, succeeded: Bool) {
        Timer(label: MetricName.sourceRunDuration, dimensions: [("source", source)], factory: factory).recordSeconds(seconds)
        Counter(label: MetricName.sourceRuns, dimensions: [("source", source), ("outcome", succeeded ? "ok" : "failed")], factory: factory)
            .increment()
    }

    /// The two counters of a shared cache (`segment`, `playlist`): lookups answered by a kept result or a
    /// fetch under way (hits), and lookups that started a fetch (misses).
    public func sharedFetches(cache: String) -> (hit: Counter, miss: Counter) {
        (
            Counter(label: MetricName.sharedFetches, dimensions: [("cache", cache), ("result", "hit")], factory: factory),
            Counter(label: MetricName.sharedFetches, dimensions: [("cache", cache), ("result", "miss")], factory: factory)
        )
    }
}

/// Every metric's name and what it means (the `# HELP` line of the Prometheus exposition).
public enum MetricName {
    public static let refreshes = "pitlane_stream_refreshes_total"
    public static let holdDuration = "pitlane_stream_hold_duration_seconds"
    public static let upstreamResponses = "pitlane_upstream_responses_total"
    public static let relayedBytes = "pitlane_stream_relayed_bytes_total"
    public static let sourceRunDuration = "pitlane_source_run_duration_seconds"
    public static let sourceRuns = "pitlane_source_runs_total"
    public static let sharedFetches = "pitlane_shared_fetches_total"
    public static let httpRequestDuration = "pitlane_http_request_duration_seconds"
    public static let viewers = "pitlane_stream_viewers"
    public static let watched = "pitlane_stream_watched"
    public static let tokenExpiry = "pitlane_stream_token_expiry_seconds"
    public static let nextRefresh = "pitlane_stream_next_refresh_seconds"
    public static let playlistAge = "pitlane_stream_playlist_age_seconds"
    public static let refreshFailures = "pitlane_stream_refresh_failures"
    public static let lastSuccess = "pitlane_source_last_success_timestamp_seconds"
    public static let streamsFound = "pitlane_source_streams_found"
    public static let failuresInRow = "pitlane_source_consecutive_failures"
    public static let sourceEnabled = "pitlane_source_enabled"
    public static let cacheBytes = "pitlane_segment_cache_bytes"
    public static let cacheLimit = "pitlane_segment_cache_limit_bytes"
    public static let streams = "pitlane_streams"
    public static let buildInfo = "pitlane_build_info"
    public static let feedSwitches = "pitlane_feed_switches_total"

    public static let help: [String: String] = [
        feedSwitches:
            "Switches of a feed from one member to another, by reason (segment_failed, playlist_failed, edge_stalled, not_found, recovered, gone).",
        refreshes: "Refreshes of a stream's upstream URL, by outcome (refreshed, unchanged, not_found, failed).",
        holdDuration: "How long player requests were held for a token refresh, by outcome (saved, timed_out).",
        upstreamResponses: "Upstream answers to the proxy's requests, by status class (2xx…5xx, error: no answer).",
        relayedBytes: "Bytes of segments, parts, keys and init sections relayed to players.",
        sourceRunDuration: "How long a source's runs took.",
        sourceRuns: "Source runs, by outcome (ok, failed).",
        sharedFetches: "Lookups of the shared caches: hit (answered by a kept result or a fetch under way) or miss.",
        httpRequestDuration: "HTTP requests Pitlane answered, by route, method and status.",
        viewers: "Players that fetched the stream's playlists within the lease (distinct address and user agent).",
        watched: "1 while the stream is watched (its lease is live), else 0.",
        tokenExpiry: "Seconds until the stream's known token expiry (negative once passed).",
        nextRefresh: "Seconds until the stream's next planned refresh (negative when overdue).",
        playlistAge: "Seconds since the stream's upstream last answered a playlist.",
        refreshFailures: "The stream's refresh failures since its last success.",
        lastSuccess: "When the source's last successful run ended (Unix time).",
        streamsFound: "Streams the source's last successful run found.",
        failuresInRow: "The source's failed runs since its last success.",
        sourceEnabled: "1 when the source is enabled, else 0.",
        cacheBytes: "Bytes the segment cache holds, downloads in flight included.",
        cacheLimit: "The segment cache's budget (upstream.segment_cache_mb).",
        streams: "Streams in the catalogue.",
        buildInfo: "Pitlane's version (always 1).",
    ]
}
