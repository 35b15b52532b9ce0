import Foundation

/// EXT-X-DEFINE variable substitution (RFC 8216bis §4.3): `{$name}` in URI lines and attribute values
/// is replaced before anything is resolved, with values from NAME/VALUE, from the playlist URL's query
/// (QUERYPARAM), or imported from the master (IMPORT). The EXT-X-DEFINE tags themselves are removed from
/// what players get: the values are already in place, and a player must fail on an IMPORT that Pitlane's
/// rewritten master no longer defines (and a QUERYPARAM value is often the CDN token).
public enum PlaylistVariables {
    /// The substituted playlist and the variables it defines (a master's, for its media playlists to import).
    public static func resolve(_ playlist: Playlist, url: URL, imported: [String: String] = [:]) -> (
        playlist: Playlist, variables: [String: String]
    ) {
        guard playlist.lines.contains(where: { if case .tag(let tag) = $0 { tag.name == "EXT-X-DEFINE" } else { false } }) else {
            return (playlist, [:])
        }
        let query = URLComponents(url: url, resolvingAgainstBaseURL: true)?.queryItems ?? []
        var variables: [String: String] = [:]
        var fromQuery: Set<String> = []
        var budget = Self.expansionBudget
        var lines: [PlaylistLine] = []
        lines.reserveCapacity(playlist.lines.count)
        for line in playlist.lines {
            switch line {
            case .tag(let tag) where tag.name == "EXT-X-DEFINE":
                let attributes = tag.attributes
                if let name = attributes["NAME"], let value = attributes["VALUE"] {
                    variables[name] = value
                } else if let name = attributes["QUERYPARAM"], let value = query.first(where: { $0.name == name })?.value {
                    variables[name] = value
                    fromQuery.insert(name)
                } else if let name = attributes["IMPORT"], let value = imported[name] {
                    variables[name] = value
                }
            case .tag(var tag):
                if let value = tag.value, value.contains("{$") {
                    let plain = variables.filter { !fromQuery.contains($0.key) }
                    tag.value = substituteTag(value, all: variables, plain: plain, budget: &budget)
                }
                lines.append(.tag(tag))
            case .uri(let uri):
                lines.append(.uri(uri.contains("{$") ? substitute(uri, variables, budget: &budget) : uri))
            case .comment:
                lines.append(line)
            }
        }
        return (Playlist(kind: playlist.kind, lines: lines), variables)
    }

    /// How much substitution may add to one playlist: a hostile one that references a long value a
    /// million times is cut off here instead of taking all memory.
    static let expansionBudget = 16 * 1024 * 1024

    /// Attributes whose value is a URI that Pitlane rewrites: only there may a QUERYPARAM value (often the
    /// CDN's token) be written, since everything else reaches the player as it is.
    static let uriAttributes: Set<String> = ["URI", "X-ASSET-URI", "X-ASSET-LIST"]

    static func substituteTag(_ value: String, all: [String: String], plain: [String: String], budget: inout Int) -> String {
        guard uriAttributes.contains(where: { value.contains($0 + "=") }) else { return substitute(value, plain, budget: &budget) }
        var attributes = AttributeList(parsing: Substring(value))
        for entry in attributes.entries where entry.rawValue.contains("{$") {
            let chosen = uriAttributes.contains(entry.name) ? all : plain
            attributes.setRaw(entry.name, substitute(entry.rawValue, chosen, budget: &budget))
        }
        return attributes.serialized
    }

    /// Replaces every `{$name}` whose name is defined; an undefined reference stays as written, and so does
    /// the whole text once the budget is spent.
    static func substitute(_ text: String, _ variables: [String: String], budget: inout Int) -> String {
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{$") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let name = String(rest[open.upperBound..<close])
            let replacement = variables[name] ?? String(rest[open.lowerBound...close])
            budget -= replacement.utf8.count
            guard budget >= 0 else { return text }
            output += replacement
            rest = rest[rest.index(after: close)...]
        }
        return output + rest
    }
}
