import Foundation
import PitlaneCore
import Testing

/// The calendar over HTTP: the bundled season, a refresh from a fixture Jolpica, and the iCalendar feed.
@Suite(.serialized)
struct ScheduleIntegrationTests {
    static func json(_ fetched: ServerHarness.Fetched) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(fetched.body)) as? [String: Any])
    }

    @Test func servesTheSeasonRefreshesItAndExportsICalendar() async throws {
        try await ServerHarness.run(configure: { config, _ in config.schedule.refresh = false }) { harness in
            harness.clock.set(utc("2026-11-25T12:00:00Z"))
            let bundled = try Self.json(try await harness.get("/api/schedule"))
            #expect(bundled["season"] as? Int == 2026)
            let events = try #require(bundled["events"] as? [[String: Any]])
            #expect(events.count == 23)
            let qatar = try #require(events.first { $0["round"] as? Int == 22 })
            #expect(qatar["timeZone"] as? String == "Asia/Qatar" && qatar["sprintWeekend"] as? Bool == false)
            let sessions = try #require(qatar["sessions"] as? [[String: Any]])
            #expect(sessions.first?["start"] as? String == "2026-11-27T13:30:00Z")
            #expect(sessions.first?["status"] as? String == "upcoming")
            #expect((events.first?["sessions"] as? [[String: Any]])?.first?["status"] as? String == "past")
            #expect(bundled["current"] is NSNull)
            let next = try #require(bundled["next"] as? [String: Any])
            #expect(next["event"] as? String == "Qatar Grand Prix" && next["kind"] as? String == "fp1")
            #expect(next["countdownSeconds"] as? Int == 2 * 86_400 + 5400)

            harness.clock.set(utc("2026-11-29T17:00:00Z"))
            let live = try Self.json(try await harness.get("/api/schedule"))
            #expect((live["current"] as? [String: Any])?["kind"] as? String == "race")

            #expect(try await harness.get("/api/schedule?season=1990").status == 404)
            #expect(try await harness.get("/api/schedule?season=abc").status == 400)

            let off = try await harness.post("/api/schedule/refresh")
            #expect(off.status == 409)
            let error = try #require(try Self.json(off)["error"] as? [String: Any])
            #expect(error["code"] as? String == "refresh_off")
            #expect((error["message"] as? String)?.contains("schedule.refresh: false") == true)

            let ics = try await harness.get("/calendar.ics?sessions=qualifying,race&season=2026")
            #expect(ics.status == 200)
            #expect(ics.header("Content-Type") == "text/calendar; charset=utf-8")
            #expect(ics.text.components(separatedBy: "BEGIN:VEVENT").count - 1 == 46)
            #expect(ics.text.contains("SUMMARY:F1: Qualifying — Qatar Grand Prix\r\n"))
            #expect(try await harness.get("/calendar.ics?sessions=warmup").status == 400)
        }
    }

    @Test func aRefreshFromJolpicaReplacesTheSeason() async throws {
        try await ServerHarness.run { harness in
            harness.clock.set(utc("2026-12-01T00:00:00Z"))
            let refreshed = try await harness.post("/api/schedule/refresh?season=2026")
            #expect(refreshed.status == 200, "\(refreshed.text)")
            #expect(try Self.json(refreshed)["refreshed"] as? Bool == true)
            let season = try Self.json(try await harness.get("/api/schedule?season=2026"))
            let events = try #require(season["events"] as? [[String: Any]])
            #expect(events.map { $0["name"] as? String } == ["Fixture Grand Prix"])
            #expect((season["refresh"] as? [String: Any])?["lastError"] is NSNull)
            #expect(harness.origin.requests.contains { $0.path == "/jolpica/2026.json" && $0.query == "limit=100" })
        }
    }
}
