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
        try container.encodeEach([.season: season.season, .source: season.source, .now: now])
        var refreshContainer = container.nestedContainer(keyedBy: RefreshKeys.self, forKey: .refresh)
        try refreshContainer.encodeEach([
            .lastAttempt: refresh.lastAttempt, .lastSuccess: refresh.lastSuccess, .lastError: refresh.lastError,
        ])
        for (key, reference) in [(Keys.current, current), (.next, next)] {
            guard let reference else {
                try container.encodeNil(forKey: key)
                continue
            }
            var nested = container.nestedContainer(keyedBy: SessionKeys.self, forKey: key)
            try nested.encodeEach([
                .season: reference.season, .round: reference.event.round, .event: reference.event.name,
                .countdownSeconds: Int(reference.session.start.timeIntervalSince(now).rounded(.up)),
            ])
            try encodeSession(reference.session, into: &nested)
        }
        var events = container.nestedUnkeyedContainer(forKey: .events)
        for event in season.events {
            var nested = events.nestedContainer(keyedBy: EventKeys.self)
            try nested.encodeEach([
                .round: event.round, .name: event.name, .circuitId: event.circuitId, .circuit: event.circuit, .locality: event.locality,
                .country: event.country, .latitude: event.latitude, .longitude: event.longitude, .timeZone: event.timeZone,
                .sprintWeekend: event.isSprintWeekend,
            ])
            var sessions = nested.nestedUnkeyedContainer(forKey: .sessions)
            for session in event.sessions {
                var item = sessions.nestedContainer(keyedBy: SessionKeys.self)
                try encodeSession(session, into: &item)
            }
        }
    }

    private func encodeSession(_ session: Session, into container: inout KeyedEncodingContainer<SessionKeys>) throws {
        try container.encodeEach([
            .kind: session.kind.rawValue, .name: session.kind.displayName, .start: session.start, .end: session.end,
            .state: session.state.rawValue, .status: timing.status(of: session, at: now).rawValue, .allDay: session.allDay,
        ])
    }
}

/// The answer of a successful `POST /api/schedule/refresh` (a failure is the API's error shape).
struct RefreshJSON: Encodable {
    var refreshed: Bool
    var season: Int
    var events: Int
}
