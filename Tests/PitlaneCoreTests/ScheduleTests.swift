import Foundation
import PitlaneCore
import Testing

func utc(_ text: String) -> Date {
    try! Date(text, strategy: .iso8601)
}

/// A sprint weekend and a normal one, with a cancelled and a tentative session, for status tests.
func sampleSeason() -> Season {
    let sprint = Event(
        round: 1, name: "Sprint Grand Prix", circuit: "Circuit A", locality: "Austin", country: "USA", timeZone: "America/Chicago",
        sessions: [
            Session(kind: .fp1, start: utc("2030-03-06T17:30:00Z")),
            Session(kind: .sprintQualifying, start: utc("2030-03-06T21:30:00Z")),
            Session(kind: .sprint, start: utc("2030-03-07T18:00:00Z")),
            Session(kind: .qualifying, start: utc("2030-03-07T22:00:00Z")),
            Session(kind: .race, start: utc("2030-03-08T19:00:00Z")),
        ])
    let normal = Event(
        round: 2, name: "Night Grand Prix", circuit: "Strip Circuit", locality: "Las Vegas", country: "USA",
        timeZone: "America/Los_Angeles",
        sessions: [
            Session(kind: .fp1, start: utc("2030-03-20T02:30:00Z"), state: .cancelled),
            Session(kind: .fp2, start: utc("2030-03-20T06:00:00Z"), state: .tbc),
            Session(kind: .qualifying, start: utc("2030-03-21T06:00:00Z")),
            Session(kind: .race, start: utc("2030-03-22T06:00:00Z")),
        ])
    return Season(season: 2030, events: [normal, sprint])
}

struct ScheduleTests {
    let timing = ScheduleClock()

    @Test func theBundledSeasonsLoadWithTimeZonesForEveryTrack() throws {
        let seasons = BundledSeasons.all()
        #expect(seasons.map(\.season) == [2025, 2026])
        #expect(seasons.map(\.events.count) == [24, 23])
        for event in seasons.flatMap(\.events) {
            #expect(TimeZone(identifier: event.timeZone) != nil, "\(event.name): \(event.timeZone)")
            #expect(!event.circuit.isEmpty && !event.country.isEmpty)
            #expect(event.session(.race) != nil)
        }
        let sprints = try #require(seasons.first).events.filter(\.isSprintWeekend).map(\.locality)
        #expect(sprints == ["Shanghai", "Miami", "Spa", "Austin", "São Paulo", "Lusail"])
        let qatar = try #require(seasons.last?.events.first { $0.round == 22 })
        #expect(qatar.name == "Qatar Grand Prix" && qatar.timeZone == "Asia/Qatar")
        #expect(qatar.session(.race)?.end.timeIntervalSince(qatar.session(.race)!.start) == 7200)
        #expect(seasons.last?.source?.contains("f1calendar.com") == true)
    }

    @Test func statusFollowsTheClockWithAGracePeriod() {
        let race = sampleSeason().events[0].session(.race)!  // 19:00–21:00 UTC
        #expect(timing.status(of: race, at: utc("2030-03-08T18:59:59Z")) == .upcoming)
        #expect(timing.status(of: race, at: utc("2030-03-08T19:00:00Z")) == .live)
        #expect(timing.status(of: race, at: utc("2030-03-08T21:29:59Z")) == .live, "races overrun: 30 min grace")
        #expect(timing.status(of: race, at: utc("2030-03-08T21:30:00Z")) == .past)
        let sprint = sampleSeason().events[0].session(.sprint)!  // 18:00–18:30
        #expect(timing.status(of: sprint, at: utc("2030-03-07T18:44:00Z")) == .live, "15 min grace for other sessions")
        #expect(timing.status(of: sprint, at: utc("2030-03-07T18:45:00Z")) == .past)
        let custom = ScheduleClock(raceGrace: 0, otherGrace: 0)
        #expect(custom.status(of: race, at: utc("2030-03-08T21:00:00Z")) == .past)
    }

    @Test func currentAndNextAcrossASprintWeekend() throws {
        let seasons = [sampleSeason()]
        let before = utc("2030-03-01T00:00:00Z")
        #expect(timing.current(in: seasons, at: before) == nil)
        #expect(timing.next(in: seasons, at: before)?.session.kind == .fp1)
        #expect(timing.next(in: seasons, at: before)?.event.round == 1, "events come in time order, not file order")
        let duringSprint = utc("2030-03-07T18:10:00Z")
        #expect(timing.current(in: seasons, at: duringSprint)?.session.kind == .sprint)
        #expect(timing.next(in: seasons, at: duringSprint)?.session.kind == .qualifying)
        let sprint = try #require(sampleSeason().events.first { $0.round == 1 })
        #expect(sprint.isSprintWeekend)
        #expect(!(sampleSeason().events.first { $0.round == 2 }!.isSprintWeekend))
    }

    @Test func cancelledSessionsAreNeverLiveOrNextAndTentativeOnesStillCount() {
        let seasons = [sampleSeason()]
        let duringCancelled = utc("2030-03-20T02:45:00Z")
        #expect(timing.current(in: seasons, at: duringCancelled) == nil)
        let next = timing.next(in: seasons, at: utc("2030-03-19T00:00:00Z"))
        #expect(next?.session.kind == .fp2 && next?.session.state == .tbc)
    }

    @Test func theSeasonEnds() {
        let seasons = [sampleSeason()]
        let after = utc("2030-12-31T00:00:00Z")
        #expect(timing.current(in: seasons, at: after) == nil)
        #expect(timing.next(in: seasons, at: after) == nil)
        #expect(timing.extractionInterval(in: seasons, at: after, live: 300, idle: 1800) == 1800)
    }

    @Test func aRaceWhoseLocalDateDiffersFromItsUTCDate() throws {
        let vegas = try #require(sampleSeason().events.first { $0.round == 2 }?.session(.race))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/Los_Angeles")!
        #expect(calendar.component(.day, from: vegas.start) == 21, "Saturday night on the Strip")
        calendar.timeZone = .gmt
        #expect(calendar.component(.day, from: vegas.start) == 22, "Sunday morning in UTC")
        #expect(timing.status(of: vegas, at: utc("2030-03-22T05:59:00Z")) == .upcoming)
        #expect(timing.status(of: vegas, at: utc("2030-03-22T06:01:00Z")) == .live)
    }

    @Test func extractionRunsOftenAroundSessions() {
        let seasons = [sampleSeason()]
        #expect(timing.extractionInterval(in: seasons, at: utc("2030-03-08T19:30:00Z"), live: 300, idle: 1800) == 300)
        #expect(timing.extractionInterval(in: seasons, at: utc("2030-03-08T18:50:00Z"), live: 300, idle: 1800) == 300, "pre-warm")
        #expect(
            timing.extractionInterval(in: seasons, at: utc("2030-03-08T18:30:00Z"), live: 300, idle: 1800) == 900,
            "wake up for the pre-warm")
        #expect(timing.extractionInterval(in: seasons, at: utc("2030-03-01T00:00:00Z"), live: 300, idle: 1800) == 1800)
    }
}

struct JolpicaParserTests {
    func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: TestSupport.fixtures.appendingPathComponent("jolpica/\(name).json"))
    }

    @Test func readsAStringlyTypedSeason() throws {
        let season = try JolpicaParser.parse(try fixture("2024"))
        #expect(season.season == 2024)
        let bahrain = try #require(season.events.first)
        #expect(bahrain.round == 1 && bahrain.name == "Bahrain Grand Prix" && bahrain.circuit == "Bahrain International Circuit")
        #expect(bahrain.locality == "Sakhir" && bahrain.country == "Bahrain" && bahrain.latitude == 26.0325 && bahrain.longitude == 50.5106)
        #expect(bahrain.timeZone == "Asia/Bahrain")
        #expect(bahrain.sessions.map(\.kind) == [.fp1, .fp2, .fp3, .qualifying, .race])
        #expect(bahrain.session(.race)?.start == utc("2024-03-02T15:00:00Z"))
        #expect(bahrain.session(.qualifying)?.end == utc("2024-03-01T17:00:00Z"))
        #expect(!bahrain.isSprintWeekend)
        let vegas = try #require(season.events.last)
        #expect(vegas.timeZone == "America/Los_Angeles")
    }

    @Test func sprintShootoutIsSprintQualifying() throws {
        let baku = try #require(try JolpicaParser.parse(try fixture("2023")).events.first)
        #expect(baku.isSprintWeekend)
        #expect(baku.sessions.map(\.kind) == [.fp1, .qualifying, .sprintQualifying, .sprint, .race])
        let shootout = try #require(baku.session(.sprintQualifying))
        #expect(shootout.end.timeIntervalSince(shootout.start) == 2700)
    }

    @Test func sessionsWithoutTimesAreAllDayAndTentative() throws {
        let season = try JolpicaParser.parse(try fixture("1995"))
        let brazil = try #require(season.events.first?.session(.race))
        #expect(brazil.allDay && brazil.state == .tbc)
        #expect(brazil.start == utc("1995-03-26T00:00:00Z") && brazil.end == utc("1995-03-27T00:00:00Z"))
        #expect(season.events.last?.timeZone == "UTC", "an unknown circuit falls back to UTC")
        #expect(ScheduleClock().status(of: brazil, at: utc("1995-03-26T12:00:00Z")) == .upcoming)
    }

    @Test func a2026SprintWeekend() throws {
        let china = try #require(try JolpicaParser.parse(try fixture("2026")).events.first)
        #expect(china.session(.sprintQualifying)?.start == utc("2026-03-13T07:30:00Z"))
        #expect(china.session(.sprint)?.start == utc("2026-03-14T03:00:00Z"))
        #expect(china.timeZone == "Asia/Shanghai")
    }

    @Test(arguments: [
        "[]", "{}", #"{"MRData": {}}"#, #"{"MRData": {"RaceTable": {"season": "2024", "Races": [{"round": "x"}]}}}"#, "<html>",
    ])
    func rejectsWhatIsNotASeason(_ body: String) {
        #expect(throws: ScheduleError.self) { try JolpicaParser.parse(Data(body.utf8)) }
    }
}
