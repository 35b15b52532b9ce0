import Foundation
import PitlaneCore
import Testing

struct StorageTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-store-\(UUID())").appendingPathComponent("catalogue.sqlite")
            .path
    }

    func sample() -> StoredCatalogue {
        var record = StreamRecord(
            descriptor: StreamDescriptor(
                id: "src-race", source: "src", title: "Race", quality: "1080p", key: "race",
                upstream: URL(string: "https://cdn.example.com/race.m3u8?token=1")!, headers: HeaderProfile(["Referer": "https://x/"]),
                allowPrivate: false),
            health: StreamHealth(
                playable: true, latencyMs: 321, bandwidth: 5_000_000, resolutions: ["1920x1080"], live: true,
                checkedAt: Date(timeIntervalSince1970: 1_800_000_000))
        )
        record.refresh.count = 3
        record.refresh.expiresAt = Date(timeIntervalSince1970: 1_800_000_600)
        var status = SourceStatus(id: "src", kind: "page")
        status.lastRun = Date(timeIntervalSince1970: 1_800_000_000)
        status.streamsFound = 1
        status.lastError = "something"
        return StoredCatalogue(streams: [record], sources: [status])
    }

    @Test func roundTripsThroughSQLite() throws {
        let path = temporaryPath()
        try SQLiteCatalogueStore(path: path).save(sample())
        let reopened = try SQLiteCatalogueStore(path: path)
        #expect(try reopened.load() == sample())
        try reopened.save(StoredCatalogue())
        #expect(try SQLiteCatalogueStore(path: path).load() == StoredCatalogue())
    }

    @Test func aCorruptFileIsMovedAsideNotFatal() throws {
        let path = temporaryPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
        let store = try SQLiteCatalogueStore(path: path)
        #expect(try store.load() == StoredCatalogue())
        let folder = (path as NSString).deletingLastPathComponent
        let aside = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("catalogue.sqlite.corrupt-") }
        #expect(aside.count == 1)
        try store.save(sample())
        #expect(try SQLiteCatalogueStore(path: path).load() == sample())
    }

    @Test func anExtractionCycleSavesAndARestartRestores() async throws {
        let store = InMemoryCatalogueStore()
        let clock = ManualClock()
        func makeService() async -> (ExtractionService, StreamCatalog, TokenRefresher) {
            let catalog = StreamCatalog()
            let refresher = TokenRefresher(catalog: catalog, clock: clock, policy: .init())
            await refresher.register(
                Source(
                    id: "src", kind: "static",
                    extractor: StaticExtractor(candidates: [Candidate(url: URL(string: "https://x/a.m3u8")!, title: "A")])))
            return (
                ExtractionService(refresher: refresher, catalog: catalog, validator: nil, store: store, clock: clock), catalog, refresher
            )
        }
        let (first, _, _) = await makeService()
        await first.runCycle()
        #expect(try store.load().streams.count == 1)
        #expect(try store.load().sources.first?.streamsFound == 1)

        let (second, catalog, refresher) = await makeService()
        await second.restore()
        #expect(await catalog.all().map(\.descriptor.title) == ["A"])
        #expect(await refresher.allStatuses().first?.lastSuccess == clock.now())
    }
}
