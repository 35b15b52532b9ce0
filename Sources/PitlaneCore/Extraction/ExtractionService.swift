import Foundation
import Logging

/// Keeps the catalogue current: runs every source (concurrently, each bounded by its timeout, errors kept
/// per source), validates the streams, and saves the result so a restart answers from disk at once.
/// One cycle at a time: a request for a cycle while one runs waits for that one.
public actor ExtractionService {
    let refresher: TokenRefresher
    let catalog: StreamCatalog
    private var validator: StreamValidator?
    let store: (any CatalogueStore)?
    let clock: any WallClock
    let concurrency: Int
    let logger: Logger
    /// The cycle under way: a second caller (`POST /api/extract` during the loop's run) shares it.
    private let cycles: SingleFlight<String, Bool>

    public init(
        refresher: TokenRefresher, catalog: StreamCatalog, validator: StreamValidator?, store: (any CatalogueStore)?, clock: any WallClock,
        concurrency: Int = 4, logger: Logger = Logger(label: "pitlane.extraction")
    ) {
        self.refresher = refresher
        self.catalog = catalog
        self.validator = validator
        self.store = store
        self.clock = clock
        self.concurrency = max(1, concurrency)
        self.logger = logger
        self.cycles = SingleFlight(clock: clock)
    }

    /// Sets the validator once the HTTP client exists (nil turns validation off).
    public func setValidator(_ validator: StreamValidator?) {
        self.validator = validator
    }

    /// Loads the saved catalogue (for the sources still configured) into memory.
    public func restore() async {
        guard let store else { return }
        do {
            let saved = try store.load()
            let known = Set(await refresher.sourceIDs)
            var streams: [StreamRecord] = []
            for var record in saved.streams {
                // The current configuration wins: a source whose allow_private was removed loses it at once.
                guard let policy = await refresher.fetchPolicy(ofSource: record.descriptor.source) else { continue }
                record.descriptor.allowPrivate = policy.allowPrivate
                record.descriptor.allowHosts = policy.allowHosts
                record.descriptor.headers = policy.headers.winning(
                    over: record.descriptor.discoveredHeaders ?? record.descriptor.headers)
                streams.append(record)
            }
            await catalog.restore(streams)
            await refresher.restore(saved.sources.filter { known.contains($0.id) })
            logger.info("catalogue restored", metadata: ["streams": "\(saved.streams.count)"])
        } catch {
            logger.warning("cannot read the saved catalogue", metadata: ["error": "\(error)"])
        }
    }

    /// Runs every source, validates every stream, saves. Returns when done.
    public func runCycle() async {
        _ = await cycles.value(for: "cycle") {
            await self.cycle()
            return true
        }
    }

    private func cycle() async {
        let started = clock.now()
        await refresher.discoverAll()
        await validateAll()
        await persist()
        let streams = await catalog.all()
        logger.info(
            "extraction finished",
            metadata: [
                "streams": "\(streams.count)", "playable": "\(streams.filter { $0.health?.playable == true }.count)",
                "seconds": "\(String(format: "%.1f", clock.now().timeIntervalSince(started)))",
            ])
    }

    /// Validates every stream, at most `concurrency` at a time.
    public func validateAll() async {
        guard let validator else { return }
        let records = await catalog.all()
        let clock = self.clock
        await withTaskGroup(of: (String, StreamHealth).self) { group in
            var next = 0
            func startNext() {
                guard next < records.count else { return }
                let descriptor = records[next].descriptor
                next += 1
                group.addTask { (descriptor.id, await validator.validate(descriptor, now: clock.now())) }
            }
            for _ in 0..<concurrency { startNext() }
            while let (id, health) = await group.next() {
                await catalog.setHealth(id, health)
                startNext()
            }
        }
    }

    /// Saves the catalogue; a failure is logged, never fatal. Tells whether it was saved.
    @discardableResult
    public func persist() async -> Bool {
        guard let store else { return false }
        let catalogue = StoredCatalogue(streams: await catalog.all(), sources: await refresher.allStatuses())
        do {
            try store.save(catalogue)
            return true
        } catch {
            logger.warning("cannot save the catalogue", metadata: ["error": "\(error)"])
            return false
        }
    }
}
