import Foundation
import Yams

/// Reads the YAML configuration strictly: an unknown key, a wrong type or a bad value is a `ConfigError`
/// that names the key, so a typo never silently falls back to a default.
public enum ConfigLoader {
    public static func load(file path: String) throws(ConfigError) -> Configuration {
        try load(file: path, environment: [:])
    }

    /// The file (if any) with the environment's `PITLANE_SECTION_KEY` variables over it (see
    /// `EnvironmentOverlay`). A problem in a variable names the variable; one in the file, the file.
    public static func load(file path: String?, environment: [String: String]) throws(ConfigError) -> Configuration {
        let entries = try EnvironmentOverlay.entries(environment)
        do {
            _ = try parse(node: EnvironmentOverlay.document(entries))
        } catch {
            throw EnvironmentOverlay.attributed(error, to: entries)
        }
        guard let path else { return try parse(node: EnvironmentOverlay.document(entries)) }
        let text: String
        guard FileManager.default.fileExists(atPath: path) else { throw ConfigError(file: path, key: "", message: "no such file") }
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: "", message: "cannot read the file (\((error as NSError).localizedDescription))")
        }
        do {
            let file = try compose(text) ?? Node([(Node, Node)]())
            guard case .mapping = file, !entries.isEmpty else { return try parse(node: file) }
            return try parse(node: EnvironmentOverlay.merge(entries, over: file))
        } catch var error {
            error.file = path
            throw error
        }
    }

    /// The environment variables that are configuration (what `load(file:environment:)` reads), sorted.
    public static func configurationVariables(in environment: [String: String]) -> [String] {
        ((try? EnvironmentOverlay.entries(environment)) ?? []).map(\.variable)
    }

    public static func parse(_ text: String) throws(ConfigError) -> Configuration {
        guard let node = try compose(text) else { return Configuration() }
        return try parse(node: node)
    }

    private static func compose(_ text: String) throws(ConfigError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(key: "", message: "not valid YAML: \(error)")
        }
    }

    static func parse(node: Node) throws(ConfigError) -> Configuration {
        var config = Configuration()
        let root = try Reader(node, path: "").mapping(allowed: [
            "server", "secret", "log_level", "log_format", "refresh", "upstream", "demo", "extraction", "schedule", "sources", "auth",
            "browser", "feeds",
        ])
        if let feeds = try root.optional("feeds")?.mapping(allowed: ["switch_after", "switch_back_after"]) {
            if let value = try feeds.optional("switch_after")?.int(in: 1...10) { config.feeds.switchAfter = value }
            if let value = try feeds.optional("switch_back_after")?.seconds(min: 5, max: 86_400) { config.feeds.switchBackAfter = value }
        }
        if let auth = try root.optional("auth")?.mapping(allowed: ["mode", "session_lifetime"]) {
            if let mode = try auth.optional("mode")?.oneOf(["none", "password"]) {
                config.auth.mode = mode == "password" ? .password : .none
                config.auth.modeIsExplicit = true
            }
            if let value = try auth.optional("session_lifetime")?.seconds(min: 300, max: 365 * 86_400) {
                config.auth.sessionLifetime = value
            }
        }
        if let server = try root.optional("server")?.mapping(allowed: [
            "host", "port", "data_dir", "cors_origins", "handle_lifetime", "hostnames", "shutdown_grace",
        ]) {
            if let value = try server.optional("shutdown_grace")?.seconds(min: 0, max: 120) { config.server.shutdownGrace = value }
            if let names = try server.optional("hostnames")?.sequence() {
                config.server.hostnames = try names.map { (name) throws(ConfigError) in try name.hostname() }
            }
            if let value = try server.optional("handle_lifetime")?.seconds(min: 60, max: 7 * 86_400) {
                config.server.handleLifetime = value
            }
            if let host = try server.optional("host")?.string() { config.server.host = host }
            if let origins = try server.optional("cors_origins")?.sequence() {
                config.server.corsOrigins = try origins.map { (origin) throws(ConfigError) in try origin.webOrigin() }
            }
            if let port = try server.optional("port")?.int(in: 0...65535) { config.server.port = port }
            config.server.dataDir = try server.optional("data_dir")?.string()
        }
        config.secret = try root.optional("secret")?.string(minLength: 16)
        if let level = try root.optional("log_level")?.oneOf(["trace", "debug", "info", "notice", "warning", "error", "critical"]) {
            config.logLevel = level
        }
        if let format = try root.optional("log_format")?.oneOf(["text", "json"]) {
            config.logFormat = Configuration.LogFormat(rawValue: format) ?? .text
        }
        if let refresh = try root.optional("refresh")?.mapping(allowed: ["interval", "lease", "min_spacing", "hold_timeout"]) {
            if let value = try refresh.optional("interval")?.seconds(min: 5, max: 86_400) { config.refresh.interval = value }
            if let value = try refresh.optional("lease")?.seconds(min: 5, max: 86_400) { config.refresh.lease = value }
            if let value = try refresh.optional("min_spacing")?.seconds(min: 0, max: 600) { config.refresh.minSpacing = value }
            if let value = try refresh.optional("hold_timeout")?.seconds(min: 1, max: 60) { config.refresh.holdTimeout = value }
        }
        if let upstream = try root.optional("upstream")?.mapping(allowed: [
            "timeout", "segment_cache_mb", "segment_cache_lifetime", "playlist_max_mb", "document_max_mb", "segment_max_mb",
            "segment_deadline_factor",
        ]) {
            let megabytes = 1024 * 1024
            if let value = try upstream.optional("playlist_max_mb")?.int(in: 1...256) {
                config.upstream.limits.playlist = value * megabytes
            }
            if let value = try upstream.optional("document_max_mb")?.int(in: 1...256) {
                config.upstream.limits.document = value * megabytes
            }
            if let value = try upstream.optional("segment_max_mb")?.int(in: 1...4096) { config.upstream.limits.segment = value * megabytes }
            if let value = try upstream.optional("segment_deadline_factor")?.number(in: 1...100) {
                config.upstream.limits.segmentDeadlineFactor = value
            }
            if let value = try upstream.optional("timeout")?.seconds(min: 1, max: 600) { config.upstream.timeout = value }
            if let value = try upstream.optional("segment_cache_mb")?.int(in: 0...16384) {
                config.upstream.segmentCacheBytes = value * 1024 * 1024
            }
            if let value = try upstream.optional("segment_cache_lifetime")?.seconds(min: 0, max: 3600) {
                config.upstream.segmentCacheLifetime = value
            }
        }
        if let demo = try root.optional("demo")?.mapping(allowed: ["enabled", "token_ttl"]) {
            if let value = try demo.optional("enabled")?.bool() { config.demo.enabled = value }
            if let value = try demo.optional("token_ttl")?.seconds(min: 5, max: 86_400) { config.demo.tokenTTL = value }
        }
        if let extraction = try root.optional("extraction")?.mapping(allowed: ["interval", "live_interval", "validate", "concurrency"]) {
            if let value = try extraction.optional("interval")?.seconds(min: 60, max: 604_800) { config.extraction.interval = value }
            if let value = try extraction.optional("live_interval")?.seconds(min: 30, max: 86_400) {
                config.extraction.liveInterval = value
            }
            if let value = try extraction.optional("validate")?.bool() { config.extraction.validate = value }
            if let value = try extraction.optional("concurrency")?.int(in: 1...32) { config.extraction.concurrency = value }
        }
        if let browser = try root.optional("browser")?.mapping(allowed: ["path", "concurrency", "memory_mb", "sandbox"]) {
            if let value = try browser.optional("path")?.string() { config.browser.path = value }
            if let value = try browser.optional("concurrency")?.int(in: 1...8) { config.browser.concurrency = value }
            if let value = try browser.optional("memory_mb")?.int(in: 128...16_384) { config.browser.memoryBytes = value * 1024 * 1024 }
            if let value = try browser.optional("sandbox")?.oneOf(["auto", "on", "off"]) {
                config.browser.sandbox = Configuration.Browser.Sandbox(rawValue: value) ?? .auto
            }
        }
        if let schedule = try root.optional("schedule")?.mapping(allowed: [
            "refresh", "jolpica_url", "allow_private", "race_grace", "grace",
        ]) {
            if let value = try schedule.optional("refresh")?.bool() { config.schedule.refresh = value }
            if let value = try schedule.optional("jolpica_url")?.httpURL() { config.schedule.jolpicaURL = value }
            if let value = try schedule.optional("allow_private")?.bool() { config.schedule.allowPrivate = value }
            if let value = try schedule.optional("race_grace")?.seconds(min: 0, max: 86_400) { config.schedule.raceGrace = value }
            if let value = try schedule.optional("grace")?.seconds(min: 0, max: 86_400) { config.schedule.grace = value }
        }
        if let sources = root.optional("sources") {
            var seen: Set<String> = []
            for (index, item) in try sources.sequence().enumerated() {
                let source = try parseSource(item)
                guard seen.insert(source.id).inserted, source.id != "demo" else {
                    throw ConfigError(
                        key: "sources[\(index)].id", message: "'\(source.id)' is used twice (\"demo\" is the built-in source)")
                }
                config.sources.append(source)
            }
        }
        return config
    }

    /// A browser run is the wait plus starting a tab and closing it: without a `timeout` of its own the
    /// source gets the wait plus 10 s; a `timeout` that leaves less than 2 s beyond the wait is an error.
    private static func readWait(_ map: Reader.Mapping, into source: inout Configuration.SourceConfig) throws(ConfigError) {
        if let value = try map.optional("wait")?.seconds(min: 1, max: 300) { source.wait = value }
        guard let timeout = map.optional("timeout") else {
            source.timeout = source.wait + 10
            return
        }
        guard source.timeout >= source.wait + 2 else {
            throw ConfigError(
                key: timeout.path,
                message:
                    "\(Reader.shown(source.timeout)) s leaves no time beyond wait (\(Reader.shown(source.wait)) s): make it at least \(Reader.shown(source.wait + 2)) s"
            )
        }
    }

    static let commonSourceKeys: Set<String> = ["id", "kind", "title", "enabled", "headers", "allow_private", "allow_hosts", "timeout"]

    private static func parseSource(_ reader: Reader) throws(ConfigError) -> Configuration.SourceConfig {
        let kinds = Configuration.sourceKinds
        let loose = try reader.mapping(allowed: commonSourceKeys.union(kinds.values.reduce(into: Set<String>()) { $0.formUnion($1) }))
        let kind = try loose.required("kind").oneOf(kinds.keys.sorted())
        let map = try reader.mapping(allowed: commonSourceKeys.union(kinds[kind] ?? []), context: "for kind \(kind)")
        let id = try map.required("id").string()
        guard id.range(of: "^[a-z0-9][a-z0-9_-]*$", options: .regularExpression) != nil else {
            throw ConfigError(key: map.path + ".id", message: "'\(id)' must be lowercase letters, digits, '-' or '_'")
        }
        guard id != "feed", !id.hasPrefix("feed-") else {
            // Stream ids begin with their source's id, and `feed-` begins a feed's (both live under /hls/).
            throw ConfigError(key: map.path + ".id", message: "'\(id)': 'feed' and 'feed-…' are reserved for feeds; choose another id")
        }
        var source = Configuration.SourceConfig(id: id, kind: kind)
        source.title = try map.optional("title")?.string()
        if let value = try map.optional("enabled")?.bool() { source.enabled = value }
        if let value = try map.optional("allow_private")?.bool() { source.allowPrivate = value }
        if let hosts = try map.optional("allow_hosts")?.sequence() {
            source.allowHosts = try hosts.map { (host) throws(ConfigError) in try host.hostPattern() }
            if source.allowHosts?.isEmpty == true {
                throw ConfigError(key: map.path + ".allow_hosts", message: "must name at least one host")
            }
        }
        if let value = try map.optional("timeout")?.seconds(min: 1, max: 600) { source.timeout = value }
        if let headers = map.optional("headers") {
            source.headers = HeaderProfile(try headers.stringPairs().map { .init(name: $0.0, value: $0.1) })
        }
        switch kind {
        case "static":
            for item in try map.required("streams").sequence() {
                let stream = try item.mapping(allowed: ["url", "title", "quality", "key", "feed"])
                source.streams.append(
                    Configuration.StaticStream(
                        url: try stream.required("url").httpURL(), title: try stream.required("title").string(),
                        quality: try stream.optional("quality")?.string(), key: try stream.optional("key")?.string(),
                        feed: try stream.optional("feed")?.string()))
            }
            if source.streams.isEmpty {
                throw ConfigError(key: map.path + ".streams", message: "a static source needs at least one stream")
            }
        case "page", "browser":
            source.url = try map.required("url").httpURL()
            if let pattern = map.optional("pattern") {
                let text = try pattern.string()
                do {
                    _ = try NSRegularExpression(pattern: text)
                } catch {
                    throw ConfigError(key: pattern.path, message: "'\(text)' is not a valid regular expression")
                }
                source.pattern = text
            }
            if let depth = try map.optional("iframe_depth")?.int(in: 0...5) { source.iframeDepth = depth }
            if kind == "browser" { try readWait(map, into: &source) }
        case "json":
            source.url = try map.required("url").httpURL()
            source.body = try map.optional("body")?.string()
            let items = try map.required("items")
            source.items = try items.jsonPath()
            let fields = try map.required("fields").mapping(allowed: ["url", "title", "quality", "key", "feed"])
            source.fields = Configuration.JSONFields(
                url: try fields.required("url").jsonPath(), title: try fields.optional("title")?.jsonPath(),
                quality: try fields.optional("quality")?.jsonPath(), key: try fields.optional("key")?.jsonPath(),
                feed: try fields.optional("feed")?.jsonPath())
        default:
            source.url = try map.required("url").httpURL()
        }
        return source
    }
}

/// A YAML node with the key path that leads to it, for error messages.
struct Reader {
    let node: Node
    let path: String

    init(_ node: Node, path: String) {
        self.node = node
        self.path = path
    }

    struct Mapping {
        let pairs: [(String, Node)]
        let path: String

        func optional(_ key: String) -> Reader? {
            guard let node = pairs.first(where: { $0.0 == key })?.1 else { return nil }
            if case .scalar(let scalar) = node, scalar.tag == .implicit || scalar.tag.rawValue.hasSuffix(":null"),
                ["", "~", "null", "Null", "NULL"].contains(scalar.string), scalar.style == .plain
            {
                return nil
            }
            return Reader(node, path: path.isEmpty ? key : "\(path).\(key)")
        }

        func required(_ key: String) throws(ConfigError) -> Reader {
            guard let reader = optional(key) else { throw ConfigError(key: path.isEmpty ? key : "\(path).\(key)", message: "is required") }
            return reader
        }
    }

    func fail(_ message: String) -> ConfigError {
        ConfigError(key: path, message: message)
    }

    func mapping(allowed: Set<String>, context: String = "") throws(ConfigError) -> Mapping {
        guard case .mapping(let mapping) = node else { throw fail("must be a mapping of keys to values") }
        var pairs: [(String, Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw fail("keys must be strings") }
            guard allowed.contains(name) else {
                let child = path.isEmpty ? name : "\(path).\(name)"
                let place = context.isEmpty ? "" : " \(context)"
                throw ConfigError(key: child, message: "unknown key\(place) (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
            pairs.append((name, value))
        }
        return Mapping(pairs: pairs, path: path)
    }

    func sequence() throws(ConfigError) -> [Reader] {
        guard case .sequence(let sequence) = node else { throw fail("must be a list") }
        return sequence.enumerated().map { Reader($0.element, path: "\(path)[\($0.offset)]") }
    }

    func string(minLength: Int = 1) throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw fail("must be a string") }
        guard scalar.string.count >= minLength else {
            throw fail(minLength == 1 ? "must not be empty" : "must be at least \(minLength) characters long")
        }
        return scalar.string
    }

    func int(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else { throw fail("must be a whole number") }
        guard range.contains(value) else { throw fail("must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    /// A plain number (a factor), range-checked.
    func number(in range: ClosedRange<Double>) throws(ConfigError) -> Double {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string.trimmingCharacters(in: .whitespaces)), value.isFinite
        else { throw fail("must be a number") }
        guard range.contains(value) else {
            throw fail("must be between \(Self.shown(range.lowerBound)) and \(Self.shown(range.upperBound)), not '\(scalar.string)'")
        }
        return value
    }

    /// A number of seconds: `30`, `2.5`, or with a unit: `500ms`, `30s`, `4m`, `1h`.
    /// Both bounds are checked: a value a Duration cannot hold (`1e300`) is an error here, never a crash later.
    func seconds(min: Double, max: Double) throws(ConfigError) -> Double {
        guard case .scalar(let scalar) = node else { throw fail("must be a number of seconds") }
        let text = scalar.string.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var value: Double?
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count)) {
                value = number * factor
                break
            }
        }
        guard let seconds = value ?? Double(text), seconds.isFinite else {
            throw fail("must be a number of seconds (like 30, 2.5, 500ms, 4m), not '\(scalar.string)'")
        }
        guard seconds >= min, seconds <= max else {
            throw fail("must be between \(Self.shown(min)) and \(Self.shown(max)) seconds, not '\(scalar.string)'")
        }
        return seconds
    }

    static func shown(_ seconds: Double) -> String { Configuration.number(seconds) }

    func bool() throws(ConfigError) -> Bool {
        guard case .scalar(let scalar) = node else { throw fail("must be true or false") }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail("must be true or false, not '\(scalar.string)'")
        }
    }

    func oneOf(_ choices: [String]) throws(ConfigError) -> String {
        let value = try string()
        guard choices.contains(value) else { throw fail("'\(value)' is not one of: \(choices.joined(separator: ", "))") }
        return value
    }

    func jsonPath() throws(ConfigError) -> String {
        let text = try string()
        do {
            _ = try JSONPath(text)
        } catch {
            throw fail("\(error)")
        }
        return text
    }

    /// A web origin, `scheme://host[:port]` with nothing after it, as browsers send it in `Origin`.
    func webOrigin() throws(ConfigError) -> String {
        let text = try string()
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.path.isEmpty || url.path == "/", url.query == nil, url.user == nil
        else {
            throw fail("'\(text)' is not a web origin (like https://tv.example.com or http://localhost:3000)")
        }
        // As browsers write it: brackets around an IPv6 literal, no default port.
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host.lowercased())]" : host.lowercased()
        let defaultPort = scheme == "https" ? 443 : 80
        return "\(scheme)://\(shownHost)" + (url.port.flatMap { $0 == defaultPort ? nil : ":\($0)" } ?? "")
    }

    /// A host name (letters, digits, dots, hyphens), as a browser sends it in `Host`.
    func hostname() throws(ConfigError) -> String {
        let text = try string().lowercased()
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
        guard !text.isEmpty, text.count <= 253, text.allSatisfy(allowed.contains), !text.hasPrefix("."), !text.hasPrefix("-") else {
            throw fail("'\(text)' is not a host name (like pitlane.example.com or homeserver.local)")
        }
        return text
    }

    /// An `allow_hosts` entry: a host name, `*.` and a name, or an IP address.
    func hostPattern() throws(ConfigError) -> String {
        let text = try string().lowercased()
        if let problem = HostAllowList.problem(with: text) { throw fail(problem) }
        return text
    }

    func httpURL() throws(ConfigError) -> URL {
        let text = try string()
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil
        else {
            throw fail("'\(text)' is not an http or https URL")
        }
        return url
    }

    func stringPairs() throws(ConfigError) -> [(String, String)] {
        guard case .mapping(let mapping) = node else { throw fail("must be a mapping of header names to values") }
        var pairs: [(String, String)] = []
        for (key, value) in mapping {
            guard let name = key.string, case .scalar(let scalar) = value else { throw fail("header values must be strings") }
            guard HeaderProfile.isValidName(name) else {
                throw ConfigError(
                    key: "\(path).\(name.debugDescription)", message: "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)")
            }
            guard HeaderProfile.isValidValue(scalar.string) else {
                throw ConfigError(key: "\(path).\(name)", message: "must not contain line breaks or control characters")
            }
            pairs.append((name, scalar.string))
        }
        return pairs
    }
}
