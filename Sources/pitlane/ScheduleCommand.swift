import ArgumentParser
import Foundation
import PitlaneCore
import PitlaneServer

/// `pitlane schedule`: the season in the local time zone, the live or next session first with a countdown.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Show the F1 calendar in your time zone, the next session first.")

    @Option(name: .long, help: "The season (default: this year's).")
    var season: Int?

    @Flag(name: .long, help: "Print JSON (the shape of GET /api/schedule) instead of text.")
    var json = false

    @Option(name: .long, help: "Where `pitlane serve` keeps its data, for a calendar it refreshed (default ~/.local/share/pitlane).")
    var dataDir: String?

    @Option(name: .long, help: ConfigOptions.nowHelp)
    var now: String?

    func run() async throws {
        let wallClock = try await Failure.reporting { try ConfigOptions.clock(self.now) }
        let directory = dataDir ?? PitlaneApplication.defaultDataDir()
        let path = directory + "/catalogue.sqlite"
        let store = FileManager.default.fileExists(atPath: path) ? try? SQLiteCatalogueStore(path: path) : nil
        let schedule = ScheduleService(client: nil, store: store, clock: wallClock)
        let fallbackYear = await schedule.currentYear()
        let year = season ?? fallbackYear
        guard let chosen = await schedule.season(year) else {
            let known = await schedule.years.map(String.init).joined(separator: ", ")
            throw Failure.exit("no calendar for \(year) (known: \(known))", code: 1)
        }
        let (current, next, now) = await schedule.now()
        if json {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let body = ScheduleJSON(
                season: chosen, timing: schedule.timing, now: now, current: current, next: next, refresh: await schedule.refreshInfo(year))
            print(String(decoding: try encoder.encode(body), as: UTF8.self))
            return
        }
        print(ScheduleText.render(chosen, timing: schedule.timing, now: now, current: current, next: next, zone: .current))
    }
}

/// The calendar as terminal text.
enum ScheduleText {
    static func render(_ season: Season, timing: ScheduleClock, now: Date, current: SessionRef?, next: SessionRef?, zone: TimeZone)
        -> String
    {
        var out: [String] = []
        if let current {
            out.append("LIVE NOW: \(current.session.kind.displayName) — \(current.event.name)")
        }
        if let next {
            let wait = countdown(next.session.start.timeIntervalSince(now))
            out.append(
                "Next: \(next.session.kind.displayName) — \(next.event.name), \(time(next.session, zone: zone, allDay: next.session.allDay)) — in \(wait)"
            )
        } else if current == nil {
            out.append("No session ahead: the season is over.")
        }
        out.append("")
        out.append("\(season.season) season — times in \(zone.identifier), the track's local time in brackets")
        for event in season.events {
            let sprint = event.isSprintWeekend ? "  [sprint weekend]" : ""
            out.append("")
            out.append("Round \(event.round)  \(event.name) · \(event.locality), \(event.country)\(sprint)")
            let track = TimeZone(identifier: event.timeZone) ?? .gmt
            for session in event.sessions {
                let status = timing.status(of: session, at: now)
                var note = status == .live ? "LIVE" : status == .past ? "done" : ""
                if session.state != .scheduled { note += (note.isEmpty ? "" : ", ") + session.state.rawValue.uppercased() }
                let local = time(session, zone: zone, allDay: session.allDay)
                let trackClock = session.allDay ? "" : "(\(clock(session.start, zone: track)) track)"
                let line = "  " + pad(session.kind.displayName, 18) + pad(local, 22) + pad(trackClock, 16) + note
                out.append(String(line.reversed().drop { $0 == " " }.reversed()))
            }
        }
        return out.joined(separator: "\n")
    }

    static func time(_ session: Session, zone: TimeZone, allDay: Bool) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = allDay ? .gmt : zone
        formatter.dateFormat = allDay ? "EEE dd MMM" : "EEE dd MMM HH:mm"
        return formatter.string(from: session.start) + (allDay ? " (time TBC)" : "")
    }

    static func clock(_ date: Date, zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }

    static func countdown(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds))
        let (days, hours, minutes) = (total / 86_400, total % 86_400 / 3600, total % 3600 / 60)
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        return "\(minutes)m"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
    }
}
