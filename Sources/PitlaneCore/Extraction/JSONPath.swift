import Foundation

/// The small path syntax of `json` sources: keys separated by dots, `[*]` to take every element of an
/// array, `[N]` to take one (`data.events[*].streams[*]`, `items[0].url`, `[*]` for a top-level array).
public struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    enum Step: Sendable, Equatable {
        case key(String)
        case all
        case index(Int)
    }

    let steps: [Step]
    public let description: String

    public init(_ text: String) throws(ExtractionError) {
        var steps: [Step] = []
        var index = text.startIndex
        var key = ""
        func flush() {
            if !key.isEmpty { steps.append(.key(key)) }
            key = ""
        }
        while index < text.endIndex {
            let character = text[index]
            switch character {
            case ".":
                flush()
            case "[":
                flush()
                guard let close = text[index...].firstIndex(of: "]") else { throw .invalid("'\(text)': '[' without ']'") }
                let inside = text[text.index(after: index)..<close]
                if inside == "*" {
                    steps.append(.all)
                } else if let number = Int(inside), number >= 0 {
                    steps.append(.index(number))
                } else {
                    throw .invalid("'\(text)': [\(inside)] must be [*] or a number")
                }
                index = close
            default:
                key.append(character)
            }
            index = text.index(after: index)
        }
        flush()
        self.steps = steps
        self.description = text
    }

    /// Every value the path reaches (wildcards fan out; missing keys reach nothing).
    public func values(in root: Any) -> [Any] {
        var current: [Any] = [root]
        for step in steps {
            var next: [Any] = []
            for value in current {
                switch step {
                case .key(let key):
                    if let object = value as? [String: Any], let child = object[key], !(child is NSNull) { next.append(child) }
                case .all:
                    if let array = value as? [Any] { next.append(contentsOf: array) }
                case .index(let position):
                    if let array = value as? [Any], array.indices.contains(position) { next.append(array[position]) }
                }
            }
            current = next
        }
        return current
    }

    /// The first value reached, as text (numbers and booleans are written out).
    public func string(in root: Any) -> String? {
        guard let value = values(in: root).first else { return nil }
        switch value {
        case let text as String: return text.isEmpty ? nil : text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }
}
