import Foundation

extension Configuration {
    /// The configuration as YAML with every key and its value in effect (defaults included), for
    /// `pitlane config check`: the file and the environment together, as Pitlane will run. Secrets are
    /// masked: the `secret`, header values that carry credentials, and URL queries and token-like path
    /// segments (as in the log).
    public func effectiveYAML() -> String {
        var lines: [String] = []
        func section(_ name: String, _ pairs: [(String, String)]) {
            lines.append("\(name):")
            for (key, value) in pairs { lines.append("  \(key): \(value)") }
        }
        section(
            "server",
            [
                ("host", Self.quoted(server.host)), ("port", "\(server.port)"), ("data_dir", server.dataDir.map(Self.quoted) ?? "null"),
                ("hostnames", Self.list(server.hostnames)), ("cors_origins", Self.list(server.corsOrigins)),
                ("handle_lifetime", Self.seconds(server.handleLifetime)), ("shutdown_grace", Self.seconds(server.shutdownGrace)),
            ])
        // A `mode` nobody wrote stays unwritten: writing it lets Pitlane listen beyond loopback without accounts.
        section(
            "auth",
            [
                auth.modeIsExplicit ? ("mode", auth.mode.rawValue) : ("# mode", "\(auth.mode.rawValue)   (the default)"),
                ("session_lifetime", Self.seconds(auth.sessionLifetime)),
            ])
        lines.append("secret: " + (secret == nil ? "null   # generated once and kept in data_dir" : "\"***\""))
        lines.append("log_level: \(logLevel)")
        lines.append("log_format: \(logFormat.rawValue)")
        section(
            "refresh",
            [
                ("interval", Self.seconds(refresh.interval)), ("lease", Self.seconds(refresh.lease)),
                ("min_spacing", Self.seconds(refresh.minSpacing)), ("hold_timeout", Self.seconds(refresh.holdTimeout)),
            ])
        section(
            "feeds", [("switch_after", "\(feeds.switchAfter)"), ("switch_back_after", Self.seconds(feeds.switchBackAfter))])
        let megabyte = 1024 * 1024
        section(
            "upstream",
            [
                ("timeout", Self.seconds(upstream.timeout)), ("segment_cache_mb", "\(upstream.segmentCacheBytes / megabyte)"),
                ("segment_cache_lifetime", Self.seconds(upstream.segmentCacheLifetime)),
                ("playlist_max_mb", "\(upstream.limits.playlist / megabyte)"),
                ("document_max_mb", "\(upstream.limits.document / megabyte)"),
                ("segment_max_mb", "\(upstream.limits.segment / megabyte)"),
                ("segment_deadline_factor", Self.number(upstream.limits.segmentDeadlineFactor)),
            ])
        section(
            "extraction",
            [
                ("interval", Self.seconds(extraction.interval)), ("live_interval", Self.seconds(extraction.liveInterval)),
                ("validate", "\(extraction.validate)"), ("concurrency", "\(extraction.concurrency)"),
            ])
        section(
            "schedule",
            [
                ("refresh", "\(schedule.refresh)"), ("jolpica_url", Self.shown(schedule.jolpicaURL)),
                ("allow_private", "\(schedule.allowPrivate)"),
                ("race_grace", Self.seconds(schedule.raceGrace)), ("grace", Self.seconds(schedule.grace)),
            ])
        section(
            "browser",
            [
                ("path", browser.path.map(Self.quoted) ?? "null   # chromium, chromium-browser or google-chrome on PATH"),
                ("concurrency", "\(browser.concurrency)"), ("memory_mb", "\(browser.memoryBytes / megabyte)"),
                ("sandbox", browser.sandbox.rawValue),
            ])
        section("demo", [("enabled", "\(demo.enabled)"), ("token_ttl", Self.seconds(demo.tokenTTL))])
        if sources.isEmpty {
            lines.append("sources: []")
        } else {
            lines.append("sources:")
            for source in sources { lines.append(contentsOf: Self.describe(source)) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func describe(_ source: SourceConfig) -> [String] {
        var lines = ["  - id: \(quoted(source.id))", "    kind: \(source.kind)"]
        func add(_ key: String, _ value: String) { lines.append("    \(key): \(value)") }
        if let title = source.title { add("title", quoted(title)) }
        add("enabled", "\(source.enabled)")
        add("timeout", seconds(source.timeout))
        add("allow_private", "\(source.allowPrivate)")
        if let hosts = source.allowHosts { add("allow_hosts", list(hosts)) }
        if !source.headers.headers.isEmpty {
            let pairs = source.headers.headers.map { "\(quoted($0.name)): \(quoted(masked(header: $0.name, $0.value)))" }
            add("headers", "{" + pairs.joined(separator: ", ") + "}")
        }
        if let url = source.url { add("url", shown(url)) }
        if let pattern = source.pattern { add("pattern", quoted(pattern)) }
        switch source.kind {
        case "page": add("iframe_depth", "\(source.iframeDepth)")
        case "browser": add("wait", seconds(source.wait))
        case "json":
            if source.body != nil { add("body", "\"***\"   # may carry a key") }
            if let items = source.items { add("items", quoted(items)) }
            if let fields = source.fields {
                let pairs = [("url", fields.url), ("title", fields.title), ("quality", fields.quality), ("key", fields.key)]
                    .compactMap { key, value in value.map { "\(key): \(quoted($0))" } }
                add("fields", "{" + pairs.joined(separator: ", ") + "}")
            }
        default: break
        }
        if !source.streams.isEmpty {
            lines.append("    streams:")
            for stream in source.streams {
                var pairs = ["url: \(shown(stream.url))", "title: \(quoted(stream.title))"]
                if let quality = stream.quality { pairs.append("quality: \(quoted(quality))") }
                if let key = stream.key { pairs.append("key: \(quoted(key))") }
                lines.append("      - {" + pairs.joined(separator: ", ") + "}")
            }
        }
        return lines
    }

    /// Header values that carry credentials, masked.
    static func masked(header name: String, _ value: String) -> String {
        let secretive = ["cookie", "authorization", "proxy-authorization", "x-api-key", "x-auth-token"]
        let lowered = name.lowercased()
        let hints = ["token", "secret", "key", "auth", "session", "password"]
        return secretive.contains(lowered) || hints.contains(where: lowered.contains) ? "***" : value
    }

    static func shown(_ url: URL) -> String { quoted(URIResolver.redacted(url)) }

    static func quoted(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "\"\(escaped)\""
    }

    static func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }

    /// `90s`, `5m`, `6h`: the largest unit that divides it, as one would write it.
    static func seconds(_ value: Double) -> String {
        guard value == value.rounded(), value >= 60 else { return number(value) + "s" }
        if value.truncatingRemainder(dividingBy: 3600) == 0 { return number(value / 3600) + "h" }
        if value.truncatingRemainder(dividingBy: 60) == 0 { return number(value / 60) + "m" }
        return number(value) + "s"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
