import Foundation

/// Circuit facts neither calendar source gives, above all the track's IANA time zone
/// (Resources/calendar/circuits.json, shared with scripts/convert-calendar.py).
public struct Circuit: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var locality: String
    public var country: String
    public var timeZone: String
    public var aliases: [String]
}

public enum Circuits {
    public static let all: [Circuit] = {
        guard let data = CalendarResources.data("circuits"),
            let file = try? JSONDecoder().decode([String: [Circuit]].self, from: data)
        else { return [] }
        return file["circuits"] ?? []
    }()

    /// The circuit by Jolpica's `circuitId`, or by a locality it is known under.
    public static func find(id: String?, locality: String? = nil) -> Circuit? {
        if let id, let circuit = all.first(where: { $0.id == id }) { return circuit }
        guard let locality = locality?.lowercased() else { return nil }
        return all.first { $0.locality.lowercased() == locality || $0.aliases.contains { $0.lowercased() == locality } }
    }
}

/// The seasons that ship inside Pitlane, so the calendar works with no network.
public enum BundledSeasons {
    public static let years = [2025, 2026]

    public static func load(_ year: Int) -> Season? {
        guard let data = CalendarResources.data("season-\(year)") else { return nil }
        return try? Season.decode(data)
    }

    public static func all() -> [Season] {
        years.compactMap(load)
    }
}

/// The JSON files under Resources/calendar, wherever the platform's bundle layout puts them.
enum CalendarResources {
    static func data(_ name: String) -> Data? {
        let url =
            Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources/calendar")
            ?? Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "calendar")
        return url.flatMap { try? Data(contentsOf: $0) }
    }
}
