import CoreMetrics
import Foundation
import PitlaneCore
import Prometheus

/// One scrape of `/metrics`: the gauges that describe state (viewers, token expiry, a source's last
/// success…) are set from the catalogue, the refresher and the proxy now; series of streams and sources
/// that are gone are removed; then the registry is written in Prometheus text format, with a `# HELP`
/// line for every family (swift-metrics has no place for one). An actor: two scrapes at once would set
/// and remove the same gauges.
actor MetricsScrape {
    let registry: PrometheusCollectorRegistry
    let metrics: PitlaneMetrics
    let catalog: StreamCatalog
    let refresher: TokenRefresher
    let proxy: HLSProxy
    let viewers: ViewerLeases
    let clock: any WallClock
    private var live: [String: CoreMetrics.Gauge] = [:]
    private var knownStreams: Set<String> = []

    init(
        registry: PrometheusCollectorRegistry, metrics: PitlaneMetrics, catalog: StreamCatalog, refresher: TokenRefresher,
        proxy: HLSProxy, viewers: ViewerLeases, clock: any WallClock
    ) {
        self.registry = registry
        self.metrics = metrics
        self.catalog = catalog
        self.refresher = refresher
        self.proxy = proxy
        self.viewers = viewers
        self.clock = clock
    }

    func render() async -> String {
        let now = clock.now()
        var values: [(name: String, labels: [(String, String)], value: Double)] = []
        let records = await catalog.all()
        let watching = viewers.counts()
        let ids = Set(records.map(\.descriptor.id))
        let answers = proxy.lastPlaylistAnswers(keeping: ids)
        for gone in knownStreams.subtracting(ids) { metrics.forget(stream: gone) }
        knownStreams = ids
        for record in records {
            let id = record.descriptor.id
            let labels = [("stream", id)]
            values.append((MetricName.viewers, labels, Double(watching[id] ?? 0)))
            values.append((MetricName.watched, labels, record.refresh.isActive(at: now) ? 1 : 0))
            values.append((MetricName.refreshFailures, labels, Double(record.refresh.failures)))
            if let expiry = record.refresh.expiresAt { values.append((MetricName.tokenExpiry, labels, expiry.timeIntervalSince(now))) }
            if let next = record.refresh.nextRefresh { values.append((MetricName.nextRefresh, labels, next.timeIntervalSince(now))) }
            if let answered = answers[id] { values.append((MetricName.playlistAge, labels, max(0, now.timeIntervalSince(answered)))) }
        }
        let failures = await refresher.failuresInRow()
        for status in await refresher.allStatuses() {
            let labels = [("source", status.id)]
            values.append((MetricName.sourceEnabled, labels, status.enabled ? 1 : 0))
            values.append((MetricName.failuresInRow, labels, Double(failures[status.id] ?? 0)))
            if let success = status.lastSuccess { values.append((MetricName.lastSuccess, labels, success.timeIntervalSince1970)) }
            if let found = status.streamsFound { values.append((MetricName.streamsFound, labels, Double(found))) }
        }
        values.append((MetricName.streams, [], Double(records.count)))
        values.append((MetricName.cacheBytes, [], Double(proxy.segmentBytesHeld)))
        values.append((MetricName.cacheLimit, [], Double(proxy.segmentByteLimit)))
        values.append((MetricName.buildInfo, [("version", PitlaneVersion.string)], 1))

        var next: [String: CoreMetrics.Gauge] = [:]
        for (name, labels, value) in values {
            let key = name + "|" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
            let gauge = live[key] ?? CoreMetrics.Gauge(label: name, dimensions: labels, factory: metrics.factory)
            gauge.record(value)
            next[key] = gauge
        }
        for (key, gauge) in live where next[key] == nil { gauge.destroy() }
        live = next
        return Self.withHelp(registry.emitToString())
    }

    /// The exposition with `# HELP name …` before each family's `# TYPE` line.
    static func withHelp(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count + 4096)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                if let help = MetricName.help[String(name)] { output += "# HELP \(name) \(help)\n" }
            }
            output += line
            output += "\n"
        }
        while output.hasSuffix("\n\n") { output.removeLast() }
        return output
    }
}
