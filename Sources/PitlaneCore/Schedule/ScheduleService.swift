import Foundation
import Logging

/// The seasons Pitlane knows: the bundled ones, replaced by fresher ones from Jolpica once fetched and
/// stored. A failed refresh keeps the last good data and says so; it never reports "refreshed".
public actor ScheduleService {
    public struct RefreshState: Sendable, Equatable {
        public var lastAttempt: Date?
        public var lastSuccess: Date?
        public var lastError: String?

        public init(lastAttempt: Date? = nil, lastSuccess: Date? = nil, lastError: String? = nil) {
            self.lastAttempt = lastAttempt
            self.lastSuccess = lastSuccess
            self.lastError = lastError
        }
    }

    private var seasons: [Int: Season] = [:]
    private var refreshState: [Int: RefreshState] = [:]
    private var requests: [Date] = []
    let client: JolpicaClient?
    let store: (any SeasonStore)?
    let clock: any WallClock
    public nonisolated let timing: ScheduleClock
    let logger: Logger

    public init(
        client: JolpicaClient?, store: (any SeasonStore)?, clock: any WallClock, timing: ScheduleClock = .init(),
        bundled: [Season] = BundledSeasons.all(), logger: Logger = Logger(label: "pitlane.schedule")
    ) {
        self.client = client
        self.store = store
        self.clock = clock
        self.timing = timing
        self.logger = logger
        for season in bundled { seasons[season.season] = season }
        for stored in (try? store?.loadSeasons()) ?? [] {
            seasons[stored.season.season] = stored.season
            refreshState[stored.season.season] = RefreshState(lastSuccess: stored.fetchedAt)
        }
    }

    public var years: [Int] { seasons.keys.sorted() }

    public func season(_ year: Int) -> Season? { seasons[year] }

    public func allSeasons() -> [Season] { seasons.keys.sorted().compactMap { seasons[$0] } }

    /// The season of the current year, else the nearest one known.
    public func currentYear() -> Int {
        let year = Calendar(identifier: .gregorian).dateComponents(in: .gmt, from: clock.now()).year ?? 2026
        if seasons[year] != nil { return year }
        return seasons.keys.min { abs($0 - year) < abs($1 - year) } ?? year
    }

    public func refreshInfo(_ year: Int) -> RefreshState { refreshState[year] ?? RefreshState() }

    /// Jolpica allows 4 requests a second and 500 an hour; Pitlane stays far below: one a second, 60 an hour.
    static let minimumSpacing: TimeInterval = 1
    static let hourlyBudget = 60

    /// Fetches a season from Jolpica and stores it; on failure keeps what it had and returns the reason.
    @discardableResult
    public func refresh(_ year: Int) async -> Result<Season, ScheduleError> {
        let now = clock.now()
        refreshState[year, default: RefreshState()].lastAttempt = now
        let outcome = await fetch(year, now: now)
        switch outcome {
        case .success(let season):
            seasons[year] = season
            refreshState[year]?.lastSuccess = now
            refreshState[year]?.lastError = nil
            do {
                try store?.saveSeason(season, fetchedAt: now)
            } catch {
                logger.warning("cannot store the season", metadata: ["season": "\(year)", "error": "\(error)"])
            }
            logger.info("calendar refreshed", metadata: ["season": "\(year)", "events": "\(season.events.count)"])
        case .failure(let error):
            refreshState[year]?.lastError = error.description
            logger.warning("calendar refresh failed", metadata: ["season": "\(year)", "error": "\(error.description)"])
        }
        return outcome
    }

    private func fetch(_ year: Int, now: Date) async -> Result<Season, ScheduleError> {
        guard let client else { return .failure(.off) }
        // A request "in the future" means the clock was set back: forget it rather than wait for the
        // clock to catch up (which could be a year).
        requests.removeAll { now.timeIntervalSince($0) > 3600 || $0 > now }
        if let last = requests.last, now.timeIntervalSince(last) < Self.minimumSpacing {
            return .failure(.rateLimited("wait a second between refreshes"))
        }
        guard requests.count < Self.hourlyBudget else {
            return .failure(.rateLimited("\(Self.hourlyBudget) refreshes in the last hour"))
        }
        requests.append(now)
        do {
            let season = try await client.season(year)
            guard !season.events.isEmpty else { return .failure(.invalid("the season has no races")) }
            return .success(season)
        } catch let error as ScheduleError {
            return .failure(error)
        } catch {
            return .failure(.unavailable("\(error)"))
        }
    }

    /// The live and the next session across every known season.
    public func now() -> (current: SessionRef?, next: SessionRef?, at: Date) {
        let now = clock.now()
        let all = allSeasons()
        return (timing.current(in: all, at: now), timing.next(in: all, at: now), now)
    }

    /// How often the extraction cadence should run right now.
    public func extractionInterval(live: TimeInterval, idle: TimeInterval) -> TimeInterval {
        timing.extractionInterval(in: allSeasons(), at: clock.now(), live: live, idle: idle)
    }
}

/// Fetches seasons from the Jolpica API through Pitlane's upstream client (with its timeouts).
public struct JolpicaClient: Sendable {
    public var baseURL: URL
    /// For a mirror on the home network (or a test fixture); the public API needs no such permission.
    public var allowPrivate: Bool
    let http: any UpstreamClient

    public init(baseURL: URL = URL(string: "https://api.jolpi.ca/ergast/f1/")!, allowPrivate: Bool = false, http: any UpstreamClient) {
        self.baseURL = baseURL
        self.allowPrivate = allowPrivate
        self.http = http
    }

    public func season(_ year: Int) async throws -> Season {
        var base = baseURL.absoluteString
        if !base.hasSuffix("/") { base += "/" }
        guard let url = URL(string: base + "\(year).json?limit=100") else { throw ScheduleError.unavailable("bad Jolpica URL \(base)") }
        let request = UpstreamRequest(
            url: url, headers: HeaderProfile(["Accept": "application/json", "User-Agent": "Pitlane/\(PitlaneVersion.string)"]),
            allowPrivate: allowPrivate, timeout: .seconds(15))
        let response: UpstreamResponse
        do {
            response = try await http.send(request)
        } catch {
            throw ScheduleError.unavailable("Jolpica could not be reached: \(error)")
        }
        if response.status == 429 {
            let wait = response.headers.value(for: "Retry-After").map { " (retry after \($0) s)" } ?? ""
            throw ScheduleError.unavailable("Jolpica's rate limit was reached\(wait)")
        }
        guard response.status == 200 else { throw ScheduleError.unavailable("Jolpica answered \(response.status)") }
        let body = try await response.body.collect(upTo: 4 * 1024 * 1024, within: .seconds(15))
        return try JolpicaParser.parse(Data(body.readableBytesView))
    }
}
