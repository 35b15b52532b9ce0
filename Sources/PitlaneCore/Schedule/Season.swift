import Foundation

/// The kinds of session of a race weekend, in weekend order.
public enum SessionKind: String, Sendable, Codable, CaseIterable, Comparable {
    case fp1, fp2, fp3, sprintQualifying, sprint, qualifying, race

    /// How long a session is planned to last.
    public var duration: TimeInterval {
        switch self {
        case .fp1, .fp2, .fp3, .qualifying: 60 * 60
        case .sprintQualifying: 45 * 60
        case .sprint: 30 * 60
        case .race: 120 * 60
        }
    }

    public var displayName: String {
        switch self {
        case .fp1: "Practice 1"
        case .fp2: "Practice 2"
        case .fp3: "Practice 3"
        case .sprintQualifying: "Sprint Qualifying"
        case .sprint: "Sprint"
        case .qualifying: "Qualifying"
        case .race: "Race"
        }
    }

    public static func < (lhs: SessionKind, rhs: SessionKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What the organisers say of a session: on, tentative, or off.
public enum SessionState: String, Sendable, Codable {
    case scheduled
    case tbc
    case cancelled
}

public struct Session: Sendable, Equatable, Codable {
    public var kind: SessionKind
    public var start: Date
    public var end: Date
    public var state: SessionState
    /// Only the day is known (old seasons, or a time not yet published): `start` is that day at 00:00 UTC.
    public var allDay: Bool

    public init(kind: SessionKind, start: Date, end: Date? = nil, state: SessionState = .scheduled, allDay: Bool = false) {
        self.kind = kind
        self.start = start
        self.end = end ?? start.addingTimeInterval(allDay ? 86_400 : kind.duration)
        self.state = state
        self.allDay = allDay
    }

    enum CodingKeys: String, CodingKey { case kind, start, end, state, allDay }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(SessionKind.self, forKey: .kind)
        start = try container.decode(Date.self, forKey: .start)
        end = try container.decode(Date.self, forKey: .end)
        state = try container.decodeIfPresent(SessionState.self, forKey: .state) ?? .scheduled
        allDay = try container.decodeIfPresent(Bool.self, forKey: .allDay) ?? false
    }
}

/// One race weekend.
public struct Event: Sendable, Equatable, Codable {
    public var round: Int
    public var name: String
    public var slug: String?
    public var circuitId: String?
    public var circuit: String
    public var locality: String
    public var country: String
    public var latitude: Double?
    public var longitude: Double?
    /// The track's IANA time zone, for showing local times.
    public var timeZone: String
    public var sessions: [Session]

    public init(
        round: Int, name: String, slug: String? = nil, circuitId: String? = nil, circuit: String, locality: String, country: String,
        latitude: Double? = nil, longitude: Double? = nil, timeZone: String, sessions: [Session]
    ) {
        self.round = round
        self.name = name
        self.slug = slug
        self.circuitId = circuitId
        self.circuit = circuit
        self.locality = locality
        self.country = country
        self.latitude = latitude
        self.longitude = longitude
        self.timeZone = timeZone
        self.sessions = sessions.sorted { $0.start < $1.start }
    }

    /// Sprint weekends are recognised from their sessions, not from a flag.
    public var isSprintWeekend: Bool {
        sessions.contains { $0.kind == .sprint || $0.kind == .sprintQualifying }
    }

    public func session(_ kind: SessionKind) -> Session? {
        sessions.first { $0.kind == kind }
    }
}

public struct Season: Sendable, Equatable, Codable {
    public var season: Int
    public var source: String?
    public var events: [Event]

    public init(season: Int, source: String? = nil, events: [Event]) {
        self.season = season
        self.source = source
        self.events = events.sorted { $0.round < $1.round }
    }

    /// Reads a season file (the bundled format).
    public static func decode(_ data: Data) throws -> Season {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Season.self, from: data)
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}
