import Foundation
import PitlaneCore
import Testing

struct ICalendarTests {
    let stamp = utc("2030-01-01T00:00:00Z")

    func lines(_ document: String) -> [String] {
        document.components(separatedBy: "\r\n")
    }

    @Test func writesOneEventPerSessionWithStableUIDsAndStatuses() {
        let document = ICalendar.document([sampleSeason()], stamp: stamp)
        #expect(document.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"))
        #expect(document.hasSuffix("END:VCALENDAR\r\n"))
        #expect(!document.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "every line ends in CRLF")
        let unfolded = document.replacingOccurrences(of: "\r\n ", with: "")
        #expect(unfolded.components(separatedBy: "BEGIN:VEVENT").count - 1 == 9)
        #expect(unfolded.contains("UID:2030-01-race@pitlane\r\n"))
        #expect(unfolded.contains("SUMMARY:F1: Sprint Qualifying — Sprint Grand Prix\r\n"))
        #expect(unfolded.contains("DTSTART:20300308T190000Z\r\nDTEND:20300308T210000Z\r\n"))
        #expect(unfolded.contains("LOCATION:Circuit A\\, Austin\\, USA\r\n"))
        #expect(unfolded.components(separatedBy: "STATUS:CANCELLED").count - 1 == 1)
        #expect(unfolded.components(separatedBy: "STATUS:TENTATIVE").count - 1 == 1)
        #expect(ICalendar.document([sampleSeason()], stamp: stamp.addingTimeInterval(99)).contains("UID:2030-01-race@pitlane"))
    }

    @Test func foldsLongLinesAt75OctetsWithoutSplittingCharacters() {
        var season = sampleSeason()
        season.events[0].name = "Gran Premio de la Ciudad de México — Fórmula 1 — Edición Especial del Aniversario Número Setenta y Cinco"
        let document = ICalendar.document([season], stamp: stamp)
        for line in lines(document) { #expect(line.utf8.count <= 75, "\(line)") }
        #expect(lines(document).contains { $0.hasPrefix(" ") })
        #expect(document.replacingOccurrences(of: "\r\n ", with: "").contains("Número Setenta y Cinco"))
    }

    @Test func picksSessionKinds() {
        let document = ICalendar.document([sampleSeason()], kinds: [.qualifying, .race], stamp: stamp)
        #expect(document.components(separatedBy: "BEGIN:VEVENT").count - 1 == 4)
        #expect(!document.contains("Practice"))
    }

    @Test func allDaySessionsAreDates() throws {
        let season = try JolpicaParser.parse(try Data(contentsOf: TestSupport.fixtures.appendingPathComponent("jolpica/1995.json")))
        let document = ICalendar.document([season], stamp: stamp)
        #expect(document.contains("DTSTART;VALUE=DATE:19950326\r\nDTEND;VALUE=DATE:19950327\r\n"))
    }
}

struct ScheduleServiceTests {
    static func jolpica(_ status: Int = 200, fixture: String = "2026") -> FakeUpstream {
        FakeUpstream { request in
            guard status == 200 else { return .init(status: status, body: "slow down", headers: HeaderProfile(["Retry-After": "3"])) }
            let data = try Data(contentsOf: TestSupport.fixtures.appendingPathComponent("jolpica/\(fixture).json"))
            return .init(status: 200, body: String(decoding: data, as: UTF8.self))
        }
    }

    @Test func aSuccessfulRefreshReplacesTheBundledSeasonAndIsStored() async throws {
        let clock = ManualClock(utc("2026-06-01T00:00:00Z"))
        let store = InMemoryCatalogueStore()
        let upstream = Self.jolpica()
        let service = ScheduleService(client: JolpicaClient(http: upstream), store: store, clock: clock)
        #expect(await service.season(2026)?.events.count == 23)
        let result = await service.refresh(2026)
        #expect(try result.get().events.count == 1)
        #expect(await service.season(2026)?.source == "Jolpica (api.jolpi.ca)")
        #expect(await service.refreshInfo(2026) == .init(lastAttempt: clock.now(), lastSuccess: clock.now(), lastError: nil))
        #expect(upstream.requests.first?.url.absoluteString == "https://api.jolpi.ca/ergast/f1/2026.json?limit=100")
        #expect(try store.loadSeasons().first?.fetchedAt == clock.now())
        let restarted = ScheduleService(client: nil, store: store, clock: clock)
        #expect(await restarted.season(2026)?.events.count == 1, "the stored season wins over the bundled one")
    }

    @Test func aFailedRefreshKeepsTheLastGoodDataAndSaysWhy() async throws {
        let clock = ManualClock(utc("2026-06-01T00:00:00Z"))
        for (upstream, reason) in [
            (Self.jolpica(429), "rate limit was reached (retry after 3 s)"), (Self.jolpica(500), "Jolpica answered 500"),
            (Self.jolpica(fixture: "empty"), "the season has no races"),
            (FakeUpstream { _ in throw UpstreamError.timeout }, "could not be reached"),
        ] {
            let service = ScheduleService(client: JolpicaClient(http: upstream), store: nil, clock: clock)
            let result = await service.refresh(2026)
            #expect(throws: ScheduleError.self) { try result.get() }
            #expect(await service.season(2026)?.events.count == 23)
            let info = await service.refreshInfo(2026)
            #expect(info.lastSuccess == nil)
            #expect(info.lastError?.contains(reason) == true, "\(info.lastError ?? "nil")")
        }
    }

    @Test func staysWithinJolpicasLimits() async throws {
        let clock = ManualClock(utc("2026-06-01T00:00:00Z"))
        let upstream = Self.jolpica()
        let service = ScheduleService(client: JolpicaClient(http: upstream), store: nil, clock: clock)
        _ = await service.refresh(2026)
        let tooSoon = await service.refresh(2026)
        #expect(throws: ScheduleError.self) { try tooSoon.get() }
        #expect(upstream.requestCount == 1)
        for _ in 0..<70 {
            clock.advance(by: 1)
            _ = await service.refresh(2026)
        }
        #expect(upstream.requestCount == 60, "at most 60 requests an hour")
        #expect(await service.refreshInfo(2026).lastError?.contains("60 refreshes in the last hour") == true)
    }

    /// A clock set back (NTP correcting a wrong clock, a test setting a date) must not leave the limiter
    /// answering "wait" until the clock passes the newest request again.
    @Test func aClockThatGoesBackwardsDoesNotBlockRefreshes() async throws {
        let clock = ManualClock(utc("2027-06-01T00:00:00Z"))
        let upstream = Self.jolpica()
        let service = ScheduleService(client: JolpicaClient(http: upstream), store: nil, clock: clock)
        _ = try await service.refresh(2026).get()
        clock.set(utc("2026-12-01T00:00:00Z"))
        _ = try await service.refresh(2026).get()
        #expect(upstream.requestCount == 2)
        let tooSoon = await service.refresh(2026)
        #expect(throws: ScheduleError.self) { try tooSoon.get() }
        #expect(upstream.requestCount == 2, "the spacing still holds after the jump")
    }

    @Test func theCurrentYearIsTheClocks() async {
        let service = ScheduleService(client: nil, store: nil, clock: ManualClock(utc("2026-11-25T12:00:00Z")))
        #expect(await service.currentYear() == 2026)
        let (current, next, _) = await service.now()
        #expect(current == nil)
        #expect(next?.event.name == "Qatar Grand Prix" && next?.session.kind == .fp1)
        let later = ScheduleService(client: nil, store: nil, clock: ManualClock(utc("2031-01-01T00:00:00Z")))
        #expect(await later.currentYear() == 2026, "the nearest known season")
        #expect(await later.refresh(2031).isFailure)
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
