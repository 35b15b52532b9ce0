import Foundation

/// Writes the calendar as RFC 5545 iCalendar, the format Google Calendar, Apple Calendar and Thunderbird
/// subscribe to: CRLF line endings, lines folded at 75 octets, escaped text, a stable UID per session (so a
/// moved session updates instead of duplicating), and STATUS for tentative and cancelled sessions.
public enum ICalendar {
    public static func document(_ seasons: [Season], kinds: Set<SessionKind>? = nil, stamp: Date) -> String {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pitlane//F1 calendar//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            "X-WR-CALNAME:Formula 1", "X-PUBLISHED-TTL:PT12H", "REFRESH-INTERVAL;VALUE=DURATION:PT12H",
        ]
        for season in seasons {
            for event in season.events {
                for session in event.sessions where kinds?.contains(session.kind) ?? true {
                    lines += vevent(season: season.season, event: event, session: session, stamp: stamp)
                }
            }
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    static func vevent(season: Int, event: Event, session: Session, stamp: Date) -> [String] {
        var lines = [
            "BEGIN:VEVENT",
            "UID:\(season)-\(String(format: "%02d", event.round))-\(session.kind.rawValue)@pitlane",
            "DTSTAMP:\(utc(stamp))",
        ]
        if session.allDay {
            lines.append("DTSTART;VALUE=DATE:\(day(session.start))")
            lines.append("DTEND;VALUE=DATE:\(day(session.end))")
        } else {
            lines.append("DTSTART:\(utc(session.start))")
            lines.append("DTEND:\(utc(session.end))")
        }
        lines.append("SUMMARY:" + escape("F1: \(session.kind.displayName) — \(event.name)"))
        let place = [event.circuit, event.locality, event.country].filter { !$0.isEmpty }.joined(separator: ", ")
        if !place.isEmpty { lines.append("LOCATION:" + escape(place)) }
        if let latitude = event.latitude, let longitude = event.longitude {
            lines.append(String(format: "GEO:%.6f;%.6f", latitude, longitude))
        }
        lines.append("DESCRIPTION:" + escape("Round \(event.round) of the \(season) season. Track time zone: \(event.timeZone)."))
        lines.append("CATEGORIES:Formula 1," + escape(session.kind.displayName))
        switch session.state {
        case .scheduled: lines.append("STATUS:CONFIRMED")
        case .tbc: lines.append("STATUS:TENTATIVE")
        case .cancelled: lines.append("STATUS:CANCELLED")
        }
        lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
        return lines
    }

    /// RFC 5545 §3.3.11: backslash, semicolon, comma and newline are escaped in TEXT values.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ";", with: "\\;").replacingOccurrences(
            of: ",", with: "\\,"
        )
        .replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// RFC 5545 §3.1: lines longer than 75 octets continue on lines that start with a space, never
    /// splitting a UTF-8 character.
    static func fold(_ line: String) -> String {
        var result = ""
        var count = 0
        var limit = 75
        for character in line {
            let size = String(character).utf8.count
            if count + size > limit {
                result += "\r\n "
                count = 0
                limit = 74
            }
            result.append(character)
            count += size
        }
        return result
    }

    static func utc(_ date: Date) -> String {
        date.formatted(
            Date.VerbatimFormatStyle(
                format:
                    "\(year: .defaultDigits)\(month: .twoDigits)\(day: .twoDigits)T\(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased))\(minute: .twoDigits)\(second: .twoDigits)Z",
                timeZone: .gmt, calendar: Calendar(identifier: .gregorian)))
    }

    static func day(_ date: Date) -> String {
        date.formatted(
            Date.VerbatimFormatStyle(
                format: "\(year: .defaultDigits)\(month: .twoDigits)\(day: .twoDigits)", timeZone: .gmt,
                calendar: Calendar(identifier: .gregorian)))
    }
}
