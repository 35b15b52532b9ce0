/// An HLS attribute list (`NAME=VALUE,NAME="quoted, value"`), kept in its original order so a
/// rewritten tag differs from its input only where Pitlane changed something.
public struct AttributeList: Sendable, Equatable {
    /// One attribute: its name and its value exactly as written (quotes included when quoted).
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var rawValue: String
    }

    public private(set) var entries: [Entry]

    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    /// Parses leniently: attribute names are case-sensitive as the RFC says, spaces around separators are
    /// tolerated, and a quoted string may contain commas and `=`.
    public init(parsing text: Substring) {
        var entries: [Entry] = []
        var index = text.startIndex
        while index < text.endIndex {
            while index < text.endIndex, text[index].isWhitespace || text[index] == "," { index = text.index(after: index) }
            guard index < text.endIndex else { break }
            let nameStart = index
            while index < text.endIndex, text[index] != "=", text[index] != "," { index = text.index(after: index) }
            let name = text[nameStart..<index].trimmingCharacters(in: .whitespaces)
            var value = ""
            if index < text.endIndex, text[index] == "=" {
                index = text.index(after: index)
                // Any white space, tabs too: a value that starts with a quote after it is a quoted string,
                // or a second parse of the serialized list would read it differently (found by fuzzing).
                while index < text.endIndex, text[index].isWhitespace { index = text.index(after: index) }
                let valueStart = index
                if index < text.endIndex, text[index] == "\"" {
                    index = text.index(after: index)
                    while index < text.endIndex, text[index] != "\"" { index = text.index(after: index) }
                    if index < text.endIndex { index = text.index(after: index) }
                    value = String(text[valueStart..<index])
                } else {
                    while index < text.endIndex, text[index] != "," { index = text.index(after: index) }
                    value = text[valueStart..<index].trimmingCharacters(in: .whitespaces)
                }
            }
            if !name.isEmpty { entries.append(Entry(name: name, rawValue: value)) }
        }
        self.entries = entries
    }

    /// The value with surrounding quotes removed, or nil when absent.
    public subscript(name: String) -> String? {
        guard let raw = entries.first(where: { $0.name == name })?.rawValue else { return nil }
        if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") { return String(raw.dropFirst().dropLast()) }
        return raw
    }

    /// Replaces (or appends) an attribute with a quoted-string value.
    public mutating func setQuoted(_ name: String, _ value: String) {
        setRaw(name, "\"\(value)\"")
    }

    /// Replaces (or appends) an attribute with a value written as is. Later duplicates of the name go:
    /// a player may read the last one (hls.js does), so a rewritten URI must be the only one (found by
    /// fuzzing: a second `X-ASSET-LIST` kept its upstream URL).
    public mutating func setRaw(_ name: String, _ raw: String) {
        if let position = entries.firstIndex(where: { $0.name == name }) {
            entries[position].rawValue = raw
            var seen = false
            entries.removeAll { entry in
                guard entry.name == name else { return false }
                defer { seen = true }
                return seen
            }
        } else {
            entries.append(Entry(name: name, rawValue: raw))
        }
    }

    public mutating func remove(_ name: String) {
        entries.removeAll { $0.name == name }
    }

    public mutating func removeAll(where shouldBeRemoved: (Entry) -> Bool) {
        entries.removeAll(where: shouldBeRemoved)
    }

    public var serialized: String {
        entries.map { $0.rawValue.isEmpty ? $0.name : "\($0.name)=\($0.rawValue)" }.joined(separator: ",")
    }
}
