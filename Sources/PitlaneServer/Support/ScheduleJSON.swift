import Foundation
import PitlaneCore

/// A season as `/api/schedule` and `pitlane schedule --json` show it: times in ISO-8601 UTC, each session
/// with its state (scheduled, tbc, cancelled) and its status now (past, live, upcoming), the track's time
/// zone per event, and the current and next session.
public struct ScheduleJSON: Encodable, Sendable {
    let season: Season
    let timing: ScheduleClock
    let now: Date
    let current: SessionRef?
    let next: SessionRef?
    let refresh: ScheduleService.RefreshState

    public init(
        season: Season, timing: ScheduleClock, now: Date, current: SessionRef?, next: SessionRef?, refresh: ScheduleService.RefreshState
    ) {
        self.season = season
        self.timing = timing
        self.now = now
        self.current = current
        self.next = next
        self.refresh = refresh
    }

    enum Keys: String, CodingKey { case season, source, now, refresh, current, next, events }
    enum RefreshKeys: String, CodingKey { case lastAttempt, lastSuccess, lastError }
    enum EventKeys: String, CodingKey {
        case round, name, circuitId, circuit, locality, country, latitude, longitude, timeZone, sprintWeekend, sessions
    }
    enum SessionKeys: String, CodingKey {
        case season, round, event, kind, name, start, end, state, status, allDay, countdownSeconds
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(season.season, forKey: .season)
        try container.encode(season.source, forKey: .source)
        try container.encode(now, forKey: .now)
        var refreshContainer = container.nestedContainer(keyedBy: RefreshKeys.self, forKey: .refresh)
        try refreshContainer.encode(refresh.lastAttempt, forKey: .lastAttempt)
        try refreshContainer.encode(refresh.lastSuccess, forKey: .lastSuccess)
        try refreshContainer.encode(refresh.lastError, forKey: .lastError)
        for (key, reference) in [(Keys.current, current), (.next, next)] {
            guard let reference else {
                try container.encodeNil(forKey: key)
                continue
            }
            var nested = container.nestedContainer(keyedBy: SessionKeys.self, forKey: key)
            try nested.encode(reference.season, forKey: .season)
            try nested.encode(reference.event.round, forKey: .round)
            try nested.encode(reference.event.name, forKey: .event)
            try encodeSession(reference.session, into: &nested)
            try nested.encode(Int(reference.session.start.timeIntervalSince(now).rounded(.up)), forKey: .countdownSeconds)
        }
        var events = container.nestedUnkeyedContainer(forKey: .events)
        for event in season.events {
            var nested = events.nestedContainer(keyedBy: EventKeys.self)
            try nested.encode(event.round, forKey: .round)
            try nested.encode(event.name, forKey: .name)
            try nested.encode(event.circuitId, forKey: .circuitId)
            try nested.encode(event.circuit, forKey: .circuit)
            try nested.encode(event.locality, forKey: .locality)
            try nested.encode(event.country, forKey: .country)
            try nested.encode(event.latitude, forKey: .latitude)
            try nested.encode(event.longitude, forKey: .longitude)
            try nested.encode(event.timeZone, forKey: .timeZone)
            try nested.encode(event.isSprintWeekend, forKey: .sprintWeekend)
            var sessions = nested.nestedUnkeyedContainer(forKey: .sessions)
            for session in event.sessions {
                var item = sessions.nestedContainer(keyedBy: SessionKeys.self)
                try encodeSession(session, into: &item)
            }
        }
    }

    private func encodeSession(_ session: Session, into container: inout KeyedEncodingContainer<SessionKeys>) throws {
        try container.encode(session.kind.rawValue, forKey: .kind)
        try container.encode(session.kind.displayName, forKey: .name)
        try container.encode(session.start, forKey: .start)
        try container.encode(session.end, forKey: .end)
        try container.encode(session.state.rawValue, forKey: .state)
        try container.encode(timing.status(of: session, at: now).rawValue, forKey: .status)
        try container.encode(session.allDay, forKey: .allDay)
    }
}

/// The answer of `POST /api/schedule/refresh`.
struct RefreshJSON: Encodable {
    var refreshed: Bool
    var season: Int
    var events: Int?
    var error: String?

    enum Keys: String, CodingKey { case refreshed, season, events, error }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(refreshed, forKey: .refreshed)
        try container.encode(season, forKey: .season)
        try container.encode(events, forKey: .events)
        try container.encode(error, forKey: .error)
    }
}
