import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// The routes the router has, by path pattern, so that a request for a known path with a method it does
/// not take is 405 with `Allow` (Hummingbird's router answers 404 for both). Filled once the routes are
/// added; the patterns are Hummingbird's (`:name`, `{name}.ext`, `*`, `**`).
final class RouteTable: Sendable {
    private let routes = NIOLockedValueBox([(segments: [Substring], method: HTTPRequest.Method)]())

    func set(_ descriptions: [(path: String, method: HTTPRequest.Method)]) {
        routes.withLockedValue { routes in
            routes = descriptions.map { (Self.split($0.path), $0.method) }
        }
    }

    /// Every route as "METHOD /path/{pattern}".
    var all: [String] {
        routes.withLockedValue { routes in
            routes.map {
                "\($0.method.rawValue) " + Self.pattern("/" + $0.segments.joined(separator: "/"))
            }
        }
    }

    /// `/hls/{stream}/master.m3u8` from Hummingbird's `/hls/:stream/master.m3u8`: how the OpenAPI document and
    /// the request metric write a route.
    static func pattern(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }.joined(separator: "/")
    }

    /// The methods the routes matching `path` take (GET implies HEAD), sorted; empty for an unknown path.
    func methods(for path: String) -> [String] {
        let parts = Self.split(path)
        var names = Set<String>()
        for route in routes.withLockedValue({ $0 }) where Self.matches(route.segments, parts) {
            names.insert(route.method.rawValue)
            if route.method == .get { names.insert("HEAD") }
        }
        return names.sorted()
    }

    private static func split(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private static func matches(_ pattern: [Substring], _ parts: [Substring]) -> Bool {
        for (index, segment) in pattern.enumerated() {
            if segment == "**" { return true }
            guard index < parts.count else { return false }
            let part = parts[index]
            if segment == "*" || segment.hasPrefix(":") { continue }
            if let open = segment.firstIndex(of: "{"), let close = segment.firstIndex(of: "}") {
                let prefix = segment[..<open]
                let suffix = segment[segment.index(after: close)...]
                guard part.count > prefix.count + suffix.count, part.hasPrefix(prefix), part.hasSuffix(suffix) else { return false }
                continue
            }
            if segment != part { return false }
        }
        return pattern.count == parts.count
    }
}
