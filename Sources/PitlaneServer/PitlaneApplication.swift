import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import PitlaneCore
import Prometheus
import ServiceLifecycle

/// Wires Pitlane together from a configuration: the catalogue, the refresher and its loop, the proxy,
/// the demo origin and the routes. `pitlane serve` runs what this builds; tests build it on port 0.
public struct PitlaneApplication: Sendable {
    public let configuration: Configuration
    public let catalog: StreamCatalog
    public let refresher: TokenRefresher
    public let address: ServerAddress
    /// The routes `makeApplication` added, for 405 answers and for the test that holds the OpenAPI
    /// document to them.
    let routeTable = RouteTable()
    public var routes: [String] { routeTable.all }
    public let extraction: ExtractionService
    public let clock: any WallClock
    let upstreamOverride: (any UpstreamClient)?
    let logger: Logger
    let dataDir: URL
    /// Users, sessions and tokens; nil with `auth.mode: none`.
    public let accounts: Accounts?
    /// Where every metric lands; `/metrics` writes it out.
    public let metricsRegistry = PrometheusCollectorRegistry()
    let metrics: PitlaneMetrics
    let viewers: ViewerLeases
    /// The real time for sessions and the sign-in rate limit, also when `--now` shifts the rest: a
    /// session started during a rehearsal must not live on for months.
    let authClock: any WallClock

    /// - Parameters:
    ///   - upstream: the upstream client; nil for the real AsyncHTTPClient one.
    ///   - extraSources: sources added in code (tests, plug-ins) besides the configured ones.
    public init(
        configuration: Configuration, clock: any WallClock = SystemClock(), upstream: (any UpstreamClient)? = nil,
        extraSources: [Source] = [], accounts: Accounts? = nil, authClock: any WallClock = SystemClock(),
        logger: Logger = Logger(label: "pitlane")
    ) throws {
        self.authClock = authClock
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.dataDir = URL(fileURLWithPath: configuration.server.dataDir ?? Self.defaultDataDir())
        self.catalog = StreamCatalog()
        self.metrics = PitlaneMetrics(factory: Self.metricsFactory(metricsRegistry))
        self.viewers = ViewerLeases(clock: clock, lease: configuration.refresh.lease)
        self.refresher = TokenRefresher(
            catalog: catalog, clock: clock, policy: configuration.refreshPolicy, metrics: metrics, logger: logger)
        self.address = ServerAddress()
        do {
            try DataDirectory.prepare(dataDir)
        } catch {
            logger.warning(
                "cannot make the data directory private to its owner", metadata: ["path": "\(dataDir.path)", "error": "\(error)"])
        }
        var store: SQLiteCatalogueStore?
        let databasePath = dataDir.appendingPathComponent("catalogue.sqlite").path
        do {
            store = try SQLiteCatalogueStore(path: databasePath, logger: logger)
        } catch {
            logger.warning(
                "cannot open the catalogue database; the catalogue will not survive a restart",
                metadata: ["path": "\(databasePath)", "error": "\(error)"])
        }
        self.store = store
        if configuration.auth.mode == .password {
            self.accounts =
                try accounts
                ?? Accounts(
                    store: SQLiteAccountStore(path: Self.accountsPath(dataDir: dataDir)), clock: authClock,
                    sessionLifetime: configuration.auth.sessionLifetime)
        } else {
            self.accounts = nil
        }
        self.extraction = ExtractionService(
            refresher: refresher, catalog: catalog, validator: nil, store: store, clock: clock,
            concurrency: configuration.extraction.concurrency,
            logger: logger)
        self.upstreamOverride = upstream
        self.extraSources = extraSources
    }

    let extraSources: [Source]
    let store: SQLiteCatalogueStore?

    /// Where `auth.mode: password` keeps its users (the CLI opens the same file).
    public static func accountsPath(dataDir: URL) -> String {
        dataDir.appendingPathComponent("accounts.sqlite").path
    }

    /// The Prometheus factory, with buckets that fit what each histogram times.
    static func metricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[MetricName.holdDuration] = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60].map {
            .milliseconds(Int($0 * 1000))
        }
        factory.durationHistogramBuckets[MetricName.sourceRunDuration] = [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300].map {
            .milliseconds(Int($0 * 1000))
        }
        return factory
    }

    /// `$XDG_DATA_HOME/pitlane`, else `~/.local/share/pitlane`.
    public static func defaultDataDir() -> String {
        if let xdg = ProcessInfo.processInfo.environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/pitlane" }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/pitlane").path
    }

    /// The Hummingbird application; run it with `runService()` or inside a `ServiceGroup`.
    public func makeApplication() async throws -> some ApplicationProtocol {
        let secret = SecretStore.load(configured: configuration.secret, dataDir: dataDir, logger: logger)
        let signer = HandleSigner(secret: secret, clock: clock, lifetime: configuration.server.handleLifetime)
        let demoTokens = DemoTokens(secret: secret)
        let address = self.address
        if configuration.demo.enabled {
            let extractor = DemoExtractor(
                baseURL: { address.current ?? URL(string: "http://127.0.0.1:8080/")! }, tokens: demoTokens,
                tokenTTL: configuration.demo.tokenTTL)
            await refresher.register(
                Source(id: "demo", kind: "demo", title: "Pitlane demo", allowPrivate: true, timeout: .seconds(5), extractor: extractor))
        }
        let browser = configuration.makeBrowser(protectedPort: { address.current?.port }, logger: logger)
        try await configuration.registerSources(on: refresher, browser: browser)
        for source in extraSources {
            await refresher.register(source)
        }

        let demoMedia = configuration.demo.enabled ? try DemoMedia.bundled() : nil
        // Created last: an AsyncHTTPClient must be shut down, so nothing may throw after this.
        let upstream = upstreamOverride ?? configuration.makeUpstreamClient(logger: logger)
        await refresher.setUpstream(upstream, limits: configuration.upstream.limits)
        await extraction.setValidator(configuration.extraction.validate ? configuration.makeValidator(http: upstream) : nil)
        await extraction.restore()
        let timing = ScheduleClock(raceGrace: configuration.schedule.raceGrace, otherGrace: configuration.schedule.grace)
        let schedule = ScheduleService(
            client: configuration.schedule.refresh
                ? JolpicaClient(
                    baseURL: configuration.schedule.jolpicaURL, allowPrivate: configuration.schedule.allowPrivate, http: upstream) : nil,
            store: store, clock: clock, timing: timing, logger: logger)
        let proxy = HLSProxy(
            catalog: catalog, refresher: refresher, upstream: upstream, signer: signer, clock: clock,
            requestTimeout: configuration.upstreamTimeout,
            segmentCacheBytes: configuration.upstream.segmentCacheBytes,
            segmentCacheLifetime: configuration.upstream.segmentCacheLifetime, limits: configuration.upstream.limits, metrics: metrics,
            logger: logger)
        let feeds = FeedProxy(
            proxy: proxy, catalog: catalog, settings: configuration.feeds, clock: clock, metrics: metrics, logger: logger)
        let router = Router(context: PitlaneRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(factory: metrics.factory))
        router.add(middleware: SecurityHeadersMiddleware(routes: routeTable))
        router.add(
            middleware: OriginPolicyMiddleware(
                allowed: configuration.server.corsOrigins, hostnames: configuration.server.hostnames + [configuration.server.host]))
        if let accounts { router.add(middleware: AuthMiddleware(accounts: accounts)) }
        typealias Context = PitlaneRequestContext
        HealthController<Context>().addRoutes(to: router)
        OpenAPIController<Context>(logger: logger).addRoutes(to: router)
        MetricsController<Context>(
            scrape: MetricsScrape(
                registry: metricsRegistry, metrics: metrics, catalog: catalog, refresher: refresher, proxy: proxy,
                viewers: viewers, clock: clock)
        ).addRoutes(to: router)
        WebController<Context>(files: WebFiles.bundled(logger: logger)).addRoutes(to: router)
        AuthController(accounts: accounts, throttle: LoginThrottle(clock: authClock)).addRoutes(to: router.group("api"))
        let hls = HLSController<Context>(proxy: proxy, feeds: feeds, viewers: viewers)
        hls.addRoutes(to: router.group("hls"))
        let playlist = PlaylistController<Context>(catalog: catalog, accounts: accounts)
        playlist.addRoutes(to: router.group(""))
        if accounts != nil {
            // A player's playback token as the path's prefix: relative URIs carry it to every variant and segment.
            hls.addRoutes(to: router.group("t/:token/hls"))
            playlist.addRoutes(to: router.group("t/:token"))
        }
        StreamsController<Context>(catalog: catalog, refresher: refresher, clock: clock).addRoutes(to: router.group("api"))
        SourcesController<Context>(refresher: refresher, extraction: extraction).addRoutes(to: router.group("api"))
        FeedsController<Context>(catalog: catalog, feeds: feeds, clock: clock).addRoutes(to: router.group("api"))
        ScheduleController<Context>(schedule: schedule).addRoutes(to: router)
        if let demoMedia {
            DemoController<Context>(media: demoMedia, tokens: demoTokens, clock: clock)
                .addRoutes(to: router.group("demo"))
        }

        routeTable.set(router.routes.map { ("\($0.path)", $0.method) })
        let refreshService = RefreshService(refresher: refresher, address: address, tick: .seconds(1), logger: logger)
        let host = configuration.server.host
        let logger = self.logger
        var app = Application(
            responder: HeadAsGetResponder(base: router.buildResponder()),
            configuration: .init(address: .hostname(host, port: configuration.server.port), serverName: "Pitlane"),
            services: [
                refreshService,
                ExtractionLoop(
                    extraction: extraction, address: address,
                    interval: { [configuration] in
                        let seconds = await schedule.extractionInterval(
                            live: configuration.extraction.liveInterval, idle: configuration.extraction.interval)
                        return .seconds(seconds)
                    }, logger: logger),
                ScheduleRefreshLoop(schedule: schedule, enabled: configuration.schedule.refresh, clock: clock),
                MemoryTrimService(interval: .seconds(5)),
            ],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.server.port
                let url = ServerAddress.local(host: host, port: port) ?? URL(string: "http://127.0.0.1:\(port)/")!
                address.set(url)
                logger.info("Pitlane is listening", metadata: ["url": "\(url.absoluteString)"])
            },
            logger: logger
        )
        if let client = upstream as? HTTPUpstreamClient {
            app.addServices(UpstreamShutdown(client: client))
        }
        if let browser { app.addServices(BrowserShutdown(browser: browser)) }
        return app
    }
}

/// Shuts the shared HTTP client down when the application stops.
struct UpstreamShutdown: Service {
    let client: HTTPUpstreamClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}

/// Stops the headless browser (its whole process group) when the application stops.
struct BrowserShutdown: Service {
    let browser: ChromiumBrowser

    func run() async throws {
        try? await gracefulShutdown()
        await browser.shutdown()
    }
}
