import Foundation

/// Where a session stands at a given moment.
public enum SessionStatus: String, Sendable, Codable {
    case past
    case live
    case upcoming
}

/// A session together with its event: what "current" and "next" point at.
public struct SessionRef: Sendable, Equatable {
    public var season: Int
    public var event: Event
    public var session: Session
}

/// The calendar's answers to "what's on, and when?", as pure functions of the time.
public struct ScheduleClock: Sendable, Equatable {
    /// How long after its planned end a race still counts as live (they overrun).
    public var raceGrace: TimeInterval
    /// The same for every other session.
    public var otherGrace: TimeInterval

    public init(raceGrace: TimeInterval = 30 * 60, otherGrace: TimeInterval = 15 * 60) {
        self.raceGrace = raceGrace
        self.otherGrace = otherGrace
    }

    public func liveUntil(_ session: Session) -> Date {
        session.end.addingTimeInterval(session.kind == .race ? raceGrace : otherGrace)
    }

    /// Past, live or upcoming. A cancelled session is never live; an all-day (time unknown) one is
    /// upcoming until its day has passed.
    public func status(of session: Session, at now: Date) -> SessionStatus {
        if now < session.start { return .upcoming }
        if session.state != .cancelled, now < liveUntil(session), !session.allDay { return .live }
        return now < session.end && session.allDay ? .upcoming : .past
    }

    /// Every session, in time order, across the given seasons.
    public func sessions(in seasons: [Season]) -> [SessionRef] {
        seasons.flatMap { season in
            season.events.flatMap { event in event.sessions.map { SessionRef(season: season.season, event: event, session: $0) } }
        }.sorted { $0.session.start < $1.session.start }
    }

    /// The session live now, if any (the one that started last when two overlap).
    public func current(in seasons: [Season], at now: Date) -> SessionRef? {
        sessions(in: seasons).last { status(of: $0.session, at: now) == .live }
    }

    /// The next session that will happen: not cancelled, not started yet.
    public func next(in seasons: [Season], at now: Date) -> SessionRef? {
        sessions(in: seasons).first { $0.session.state != .cancelled && $0.session.start > now }
    }

    /// How often to look for streams: often while a session is live or about to start (pre-warm),
    /// rarely otherwise.
    public func extractionInterval(
        in seasons: [Season], at now: Date, live: TimeInterval, idle: TimeInterval, prewarm: TimeInterval = 15 * 60
    ) -> TimeInterval {
        if current(in: seasons, at: now) != nil { return live }
        guard let next = next(in: seasons, at: now), !next.session.allDay else { return idle }
        let untilPrewarm = next.session.start.timeIntervalSince(now) - prewarm
        if untilPrewarm <= 0 { return live }
        return max(live, min(idle, untilPrewarm))
    }
}
