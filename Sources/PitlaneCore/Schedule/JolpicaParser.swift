import Foundation

/// Why a season could not be had from Jolpica.
public enum ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case unavailable(String)
    /// `schedule.refresh: false`.
    case off
    /// Pitlane's own politeness towards Jolpica (one a second, 60 an hour).
    case rateLimited(String)

    public var description: String {
        switch self {
        case .invalid(let reason): "Jolpica's answer is not a season: \(reason)"
        case .unavailable(let reason): reason
        case .off: "calendar refresh is turned off (schedule.refresh: false)"
        case .rateLimited(let reason): "rate limited: \(reason)"
        }
    }
}

/// Reads Jolpica's (Ergast-compatible) season JSON, where every value is a string, sessions may lack a
/// time (or be absent), and 2023 called sprint qualifying `SprintShootout`.
public enum JolpicaParser {
    static let sessionKeys: [(String, SessionKind)] = [
        ("FirstPractice", .fp1), ("SecondPractice", .fp2), ("ThirdPractice", .fp3), ("SprintQualifying", .sprintQualifying),
        ("SprintShootout", .sprintQualifying), ("Sprint", .sprint), ("Qualifying", .qualifying),
    ]

    public static func parse(_ data: Data) throws(ScheduleError) -> Season {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw .invalid("not a JSON object") }
        guard let mrData = root["MRData"] as? [String: Any], let table = mrData["RaceTable"] as? [String: Any] else {
            throw .invalid("no MRData.RaceTable")
        }
        guard let races = table["Races"] as? [[String: Any]] else { throw .invalid("no RaceTable.Races list") }
        let year = int(table["season"]) ?? races.first.flatMap { int($0["season"]) }
        guard let year else { throw .invalid("no season") }
        var events: [Event] = []
        for race in races {
            guard let round = int(race["round"]), let name = race["raceName"] as? String,
                let raceSession = session(race, kind: .race)
            else { throw .invalid("a race without round, raceName or date") }
            let circuit = race["Circuit"] as? [String: Any] ?? [:]
            let location = circuit["Location"] as? [String: Any] ?? [:]
            let circuitID = circuit["circuitId"] as? String
            let locality = location["locality"] as? String ?? ""
            let known = Circuits.find(id: circuitID, locality: locality)
            var sessions = [raceSession]
            for (key, kind) in sessionKeys {
                if let object = race[key] as? [String: Any], let parsed = session(object, kind: kind) { sessions.append(parsed) }
            }
            events.append(
                Event(
                    round: round, name: name, circuitId: circuitID, circuit: circuit["circuitName"] as? String ?? known?.name ?? "",
                    locality: locality, country: location["country"] as? String ?? known?.country ?? "",
                    latitude: double(location["lat"]), longitude: double(location["long"]), timeZone: known?.timeZone ?? "UTC",
                    sessions: sessions))
        }
        return Season(season: year, source: "Jolpica (api.jolpi.ca)", events: events)
    }

    /// `{"date": "2024-03-02", "time": "15:00:00Z"}`; without a time the session is all-day and TBC.
    static func session(_ object: [String: Any], kind: SessionKind) -> Session? {
        guard let date = object["date"] as? String else { return nil }
        if let time = object["time"] as? String, let start = timestamp(date, time) {
            return Session(kind: kind, start: start)
        }
        guard let day = timestamp(date, "00:00:00Z") else { return nil }
        return Session(kind: kind, start: day, state: .tbc, allDay: true)
    }

    static func timestamp(_ date: String, _ time: String) -> Date? {
        let normalized = time.hasSuffix("Z") ? time : time + "Z"
        return try? Date("\(date)T\(normalized)", strategy: .iso8601)
    }

    static func int(_ value: Any?) -> Int? {
        if let text = value as? String { return Int(text) }
        return (value as? NSNumber)?.intValue
    }

    static func double(_ value: Any?) -> Double? {
        if let text = value as? String { return Double(text) }
        return (value as? NSNumber)?.doubleValue
    }
}
