import Foundation
import Yams

/// Configuration from the environment: `PITLANE_SECTION_KEY` sets `section.key` (`PITLANE_SERVER_PORT`,
/// `PITLANE_REFRESH_HOLD_TIMEOUT`), `PITLANE_SECRET`, `PITLANE_LOG_LEVEL` and `PITLANE_LOG_FORMAT` the top-level
/// keys, `PITLANE_SOURCES` the source list (as YAML, `[{id: …, kind: …}]`). A value is taken as the text it is
/// (a list or mapping when it starts with `[` or `{`); an empty one counts as unset. The environment wins over
/// the file, and is checked with the same rules and messages, naming the variable. A `PITLANE_` variable whose
/// first word is no section (`PITLANE_CONFIG`, `PITLANE_NOW`, a test's own) is not configuration.
enum EnvironmentOverlay {
    static let prefix = "PITLANE_"
    static let sections: Set<String> = ["server", "auth", "refresh", "upstream", "demo", "extraction", "schedule", "browser", "feeds"]
    static let topLevel: Set<String> = ["secret", "log_level", "log_format", "sources"]
    static let origin = "environment"

    struct Entry {
        var variable: String
        var path: [String]
        var value: Node
        /// `server.port`, as error messages name keys.
        var key: String { path.joined(separator: ".") }
    }

    /// The configuration variables of `environment`, sorted by name.
    static func entries(_ environment: [String: String]) throws(ConfigError) -> [Entry] {
        var entries: [Entry] = []
        for (variable, text) in environment.sorted(by: { $0.key < $1.key }) where variable.hasPrefix(prefix) && !text.isEmpty {
            let rest = variable.dropFirst(prefix.count).lowercased()
            let path: [String]
            if topLevel.contains(rest) || sections.contains(rest) {
                path = [rest]
            } else if let underscore = rest.firstIndex(of: "_"), sections.contains(String(rest[..<underscore])) {
                path = [String(rest[..<underscore]), String(rest[rest.index(after: underscore)...])]
            } else {
                continue
            }
            entries.append(Entry(variable: variable, path: path, value: try value(text, variable: variable)))
        }
        return entries
    }

    private static func value(_ text: String, variable: String) throws(ConfigError) -> Node {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("[") || trimmed.hasPrefix("{") else { return Node(text) }
        do {
            guard let node = try Yams.compose(yaml: text) else { return Node(text) }
            return node
        } catch {
            throw ConfigError(file: origin, key: variable, message: "not a valid YAML list or mapping: \(error)")
        }
    }

    /// The entries as a document of their own (to check them alone, so a problem names its variable).
    static func document(_ entries: [Entry]) -> Node {
        merge(entries, over: Node([(Node, Node)]()))
    }

    /// `base` (the file's document) with every entry set over it.
    static func merge(_ entries: [Entry], over base: Node) -> Node {
        var root = base
        for entry in entries {
            root = setting(entry.value, at: entry.path[...], in: root)
        }
        return root
    }

    /// `node` with `value` at `path`; a mapping that is not there is made, a mapping given as a whole
    /// (`PITLANE_SERVER='{port: 9000}'`) is merged key by key.
    private static func setting(_ value: Node, at path: ArraySlice<String>, in node: Node) -> Node {
        guard let key = path.first else {
            if case .mapping(let incoming) = value, case .mapping = node {
                return incoming.reduce(node) { merged, pair in
                    guard let name = pair.key.string else { return merged }
                    return setting(pair.value, at: [name][...], in: merged)
                }
            }
            return value
        }
        guard case .mapping(var mapping) = node else {
            return setting(value, at: path, in: Node([(Node, Node)]()))
        }
        let child = mapping[key] ?? Node([(Node, Node)]())
        mapping[key] = setting(value, at: path.dropFirst(), in: child)
        return .mapping(mapping)
    }

    /// The error of checking the environment alone, told by its variable: `PITLANE_SERVER_PORT
    /// (server.port): must be between 0 and 65535`.
    static func attributed(_ error: ConfigError, to entries: [Entry]) -> ConfigError {
        let entry = entries.last { error.key == $0.key || error.key.hasPrefix($0.key + ".") || error.key.hasPrefix($0.key + "[") }
        guard let entry else { return ConfigError(file: origin, key: error.key, message: error.message) }
        let key = error.key == entry.variable ? entry.variable : "\(entry.variable) (\(error.key))"
        return ConfigError(file: origin, key: key, message: error.message)
    }
}
