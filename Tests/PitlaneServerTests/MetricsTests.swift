import Foundation
import PitlaneCore
import PitlaneServer
import Testing

/// `/metrics` against a real server that played a stream through one token expiry: every family has its
/// HELP and TYPE, the numbers follow what happened, and no label carries a URL or a token.
@Suite struct MetricsTests {
    /// The samples of a scrape by series (`name{labels}`), and the families' HELP and TYPE lines.
    struct Scrape {
        var samples: [String: Double] = [:]
        var help: Set<String> = []
        var types: [String: String] = [:]

        init(_ text: String) {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("# HELP ") {
                    help.insert(String(line.dropFirst(7).prefix { $0 != " " }))
                } else if line.hasPrefix("# TYPE ") {
                    let parts = line.dropFirst(7).split(separator: " ")
                    types[String(parts[0])] = String(parts[1])
                } else if let space = line.lastIndex(of: " ") {
                    samples[String(line[..<space])] = Double(line[line.index(after: space)...])
                }
            }
        }

        func value(_ series: String) -> Double? { samples[series] }
    }

    @Test func aScrapeTellsWhatHappenedInPrometheusFormat() async throws {
        try await ServerHarness.run { harness in
            let segments = try await ProxyIntegrationTests.segmentPaths(harness, stream: "fixture-race")
            harness.origin.currentToken = "t2"
            #expect(try await harness.get(segments[1]).status == 200)  // held while the stream is refreshed
            let response = try await harness.get("/metrics")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let scrape = Scrape(response.text)

            for family in scrape.types.keys {
                #expect(scrape.help.contains(family), "\(family) has no HELP")
                #expect(family.hasPrefix("pitlane_"), "\(family)")
            }
            #expect(scrape.types[MetricName.relayedBytes] == "counter")
            #expect(scrape.types[MetricName.holdDuration] == "histogram")
            #expect(scrape.types[MetricName.viewers] == "gauge")

            #expect(scrape.value(#"pitlane_stream_viewers{stream="fixture-race"}"#) == 1)
            #expect(scrape.value(#"pitlane_stream_viewers{stream="html-race"}"#) == 0)
            #expect(scrape.value(#"pitlane_stream_watched{stream="fixture-race"}"#) == 1)
            #expect(scrape.value(#"pitlane_stream_relayed_bytes_total{stream="fixture-race"}"#) == Double(FixtureOrigin.segment(41).count))
            #expect(scrape.value(#"pitlane_stream_refreshes_total{stream="fixture-race",outcome="refreshed"}"#) == 1)
            #expect(scrape.value(#"pitlane_stream_hold_duration_seconds_count{stream="fixture-race",outcome="saved"}"#) == 1)
            #expect((scrape.value(#"pitlane_upstream_responses_total{stream="fixture-race",class="2xx"}"#) ?? 0) >= 3)
            #expect(scrape.value(#"pitlane_upstream_responses_total{stream="fixture-race",class="4xx"}"#) == 1)  // the 403
            #expect(scrape.value(#"pitlane_source_runs_total{source="fixture",outcome="ok"}"#) == 2)
            #expect(scrape.value(#"pitlane_source_consecutive_failures{source="fixture"}"#) == 0)
            #expect(scrape.value(#"pitlane_source_streams_found{source="fixture"}"#) == 1)
            #expect(
                scrape.value(#"pitlane_source_last_success_timestamp_seconds{source="fixture"}"#)
                    == ServerHarness.start.timeIntervalSince1970)
            #expect(scrape.value(#"pitlane_stream_playlist_age_seconds{stream="fixture-race"}"#) == 0)  // the clock stands still
            #expect((scrape.value(#"pitlane_shared_fetches_total{cache="segment",result="miss"}"#) ?? 0) >= 1)
            #expect((scrape.value("pitlane_segment_cache_bytes") ?? 0) > 0)
            #expect(scrape.value(#"pitlane_build_info{version="\#(PitlaneVersion.string)"}"#) == 1)
            #expect(
                scrape.value(#"pitlane_http_request_duration_seconds_count{route="/hls/{stream}/s/{file}",method="GET",status="200"}"#) == 1
            )
            let labels = scrape.samples.keys.joined(separator: "\n")
            #expect(!labels.contains("http:") && !labels.contains("token=") && !labels.contains("127.0.0.1"), "\(labels)")
        }
    }

    @Test func aStreamThatLeavesTheCatalogueLeavesTheScrape() async throws {
        try await ServerHarness.run { harness in
            #expect(try await harness.get("/metrics").text.contains(#"pitlane_stream_watched{stream="fixture-race"}"#))
            await harness.app.catalog.remove("fixture-race")
            let after = try await harness.get("/metrics").text
            #expect(!after.contains(#"pitlane_stream_watched{stream="fixture-race"}"#))
            #expect(after.contains(#"pitlane_stream_watched{stream="html-race"}"#))
        }
    }
}
