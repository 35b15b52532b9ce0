import Foundation
import PitlaneCore
import Testing

struct ConfigLoaderTests {
    @Test func emptyMeansDefaults() throws {
        #expect(try ConfigLoader.parse("") == Configuration())
        #expect(try ConfigLoader.parse("# nothing\n") == Configuration())
        let defaults = Configuration()
        #expect(defaults.server.host == "127.0.0.1" && defaults.server.port == 8080)
        #expect(defaults.refresh.interval == 240 && defaults.refresh.lease == 60)
        #expect(defaults.demo.enabled && defaults.demo.tokenTTL == 30)
    }

    @Test func readsEveryKey() throws {
        let config = try ConfigLoader.parse(
            """
            server: {host: 0.0.0.0, port: 9000, data_dir: /var/lib/pitlane, cors_origins: ["https://TV.example.com:443", "http://localhost:3000/", "http://[::1]:8080"], handle_lifetime: 2h, hostnames: [Pitlane.LAN]}
            secret: "0123456789abcdef0123"
            log_level: debug
            refresh: {interval: 4m, lease: 90s, min_spacing: 5, hold_timeout: 6.5}
            upstream: {timeout: 10, playlist_max_mb: 2, document_max_mb: 1, segment_max_mb: 128, segment_deadline_factor: 2.5}
            demo: {enabled: no, token_ttl: 10}
            feeds: {switch_after: 3, switch_back_after: 5m}
            extraction: {interval: 1h, live_interval: 2m, validate: false, concurrency: 8}
            schedule: {refresh: false, jolpica_url: "http://mirror.lan/ergast/f1/", allow_private: yes, race_grace: 45m, grace: 10m}
            sources:
              - id: my-tv
                kind: static
                title: My TV
                allow_private: true
                timeout: 15
                headers: {Referer: "https://tv.example.com/", User-Agent: "Mozilla/5.0"}
                streams:
                  - {url: "https://cdn.example.com/a.m3u8?t=1", title: Race, quality: 1080p, key: race, feed: World feed}
            """)
        #expect(config.server.host == "0.0.0.0" && config.server.port == 9000 && config.server.dataDir == "/var/lib/pitlane")
        #expect(config.server.corsOrigins == ["https://tv.example.com", "http://localhost:3000", "http://[::1]:8080"])
        #expect(config.server.hostnames == ["pitlane.lan"])
        #expect(config.server.handleLifetime == 7200)
        #expect(config.logLevel == "debug")
        #expect(config.refreshPolicy == RefreshPolicy(interval: 240, lease: 90, minSpacing: 5, holdTimeout: 6.5))
        #expect(config.upstream.timeout == 10)
        #expect(config.upstream.limits.playlist == 2 << 20 && config.upstream.limits.document == 1 << 20)
        #expect(config.upstream.limits.segment == 128 << 20 && config.upstream.limits.segmentDeadlineFactor == 2.5)
        #expect(!config.demo.enabled && config.demo.tokenTTL == 10)
        #expect(config.feeds.switchAfter == 3 && config.feeds.switchBackAfter == 300)
        #expect(config.extraction.interval == 3600 && config.extraction.liveInterval == 120)
        #expect(!config.extraction.validate && config.extraction.concurrency == 8)
        #expect(!config.schedule.refresh && config.schedule.allowPrivate && config.schedule.jolpicaURL.host == "mirror.lan")
        #expect(config.schedule.raceGrace == 2700 && config.schedule.grace == 600)
        let source = try #require(config.sources.first)
        #expect(source.id == "my-tv" && source.kind == "static" && source.allowPrivate && source.timeout == 15)
        #expect(source.headers.value(for: "referer") == "https://tv.example.com/")
        #expect(source.streams.first?.key == "race" && source.streams.first?.feed == "World feed")
    }

    @Test(arguments: [
        ("servr: {port: 1}", "servr: unknown key"),
        ("server: {port: eighty}", "server.port: must be a whole number"),
        ("server: {port: 70000}", "server.port: must be between 0 and 65535"),
        ("refresh: {interval: soon}", "refresh.interval: must be a number of seconds"),
        ("refresh: {interval: 1}", "refresh.interval: must be between 5 and 86400 seconds, not '1'"),
        // Values a Duration cannot hold used to load and then crash the server (SIGILL) or its start-up.
        ("refresh: {hold_timeout: 1e300}", "refresh.hold_timeout: must be between 1 and 60 seconds, not '1e300'"),
        ("upstream: {timeout: 1e10}", "upstream.timeout: must be between 1 and 600 seconds"),
        (
            "sources: [{id: a, kind: static, timeout: 1e300s, streams: [{url: 'http://x/y', title: t}]}]",
            "sources[0].timeout: must be between 1 and 600"
        ),
        ("server: {handle_lifetime: 10s}", "server.handle_lifetime: must be between 60 and 604800 seconds"),
        ("server: {shutdown_grace: 1h}", "server.shutdown_grace: must be between 0 and 120 seconds"),
        (
            "server: {cors_origins: ['https://tv.example.com/path']}",
            "server.cors_origins[0]: 'https://tv.example.com/path' is not a web origin"
        ),
        ("upstream: {segment_max_mb: 0}", "upstream.segment_max_mb: must be between 1 and 4096"),
        ("upstream: {segment_deadline_factor: 1e300}", "upstream.segment_deadline_factor: must be between 1 and 100, not '1e300'"),
        ("upstream: {segment_deadline_factor: .nan}", "upstream.segment_deadline_factor: must be a number"),
        ("extraction: {interval: -5m}", "extraction.interval: must be between 60 and 604800 seconds"),
        ("sources: [{id: a, kind: static, headers: {'X-A B': c}, streams: [{url: 'http://x/y', title: t}]}]", "is not a valid header name"),
        (
            "sources: [{id: a, kind: static, headers: {Referer: \"a\\r\\nX-Injected: 1\"}, streams: [{url: 'http://x/y', title: t}]}]",
            "sources[0].headers.Referer: must not contain line breaks"
        ),
        ("demo: {enabled: maybe}", "demo.enabled: must be true or false"),
        ("secret: short", "secret: must be at least 16 characters long"),
        ("sources: {id: x}", "sources: must be a list"),
        ("sources: [{kind: static}]", "sources[0].id: is required"),
        ("sources: [{id: a, kind: scraper, streams: []}]", "sources[0].kind: 'scraper' is not one of"),
        ("sources: [{id: a, kind: static}]", "sources[0].streams: is required"),
        ("sources: [{id: a, kind: static, streams: []}]", "sources[0].streams: a static source needs at least one stream"),
        ("sources: [{id: a, kind: static, url: 'http://x/', streams: []}]", "sources[0].url: unknown key for kind static"),
        ("sources: [{id: a, kind: page}]", "sources[0].url: is required"),
        (
            "sources: [{id: a, kind: page, url: 'http://x/', pattern: '(unclosed'}]",
            "sources[0].pattern: '(unclosed' is not a valid regular expression"
        ),
        ("sources: [{id: a, kind: page, url: 'http://x/', iframe_depth: 9}]", "sources[0].iframe_depth: must be between 0 and 5"),
        (
            "sources: [{id: a, kind: json, url: 'http://x/', items: 'a[x]', fields: {url: u}}]",
            "sources[0].items: 'a[x]': [x] must be [*] or a number"
        ),
        ("sources: [{id: a, kind: json, url: 'http://x/', items: 'a[*]', fields: {title: t}}]", "sources[0].fields.url: is required"),
        ("sources: [{id: a, kind: m3u, url: 'http://x/', streams: []}]", "sources[0].streams: unknown key for kind m3u"),
        (
            "sources: [{id: a, kind: static, streams: [{url: 'ftp://x/y', title: t}]}]",
            "sources[0].streams[0].url: 'ftp://x/y' is not an http"
        ),
        ("sources: [{id: A B, kind: static, streams: [{url: 'http://x/y', title: t}]}]", "sources[0].id: 'A B' must be lowercase"),
        ("sources: [{id: demo, kind: static, streams: [{url: 'http://x/y', title: t}]}]", "sources[0].id: 'demo' is used twice"),
        ("feeds: {switch_after: 0}", "feeds.switch_after: must be between 1 and 10"),
        ("feeds: {switch_back_after: 1}", "feeds.switch_back_after: must be between 5 and 86400 seconds"),
        ("feeds: {hold: 5}", "feeds.hold: unknown key"),
        (
            "sources: [{id: feed, kind: static, streams: [{url: 'http://x/y', title: t}]}]",
            "sources[0].id: 'feed': 'feed' and 'feed-…' are reserved"
        ),
        ("sources: [{id: feed-cam, kind: static, streams: [{url: 'http://x/y', title: t}]}]", "sources[0].id: 'feed-cam': 'feed' and"),
        ("server: [1, 2]", "server: must be a mapping"),
        ("key: [unclosed", "not valid YAML"),
    ])
    func namesTheKeyAndTheProblem(_ yaml: String, _ message: String) {
        #expect {
            _ = try ConfigLoader.parse(yaml)
        } throws: { error in
            "\(error)".hasPrefix(message) || "\(error)".contains(message)
        }
    }

    @Test func readsEveryKind() throws {
        let config = try ConfigLoader.parse(
            """
            sources:
              - {id: tv, kind: page, url: "https://tv.example.com/live", pattern: 'https?://[^"]+/playlist\\.php\\?id=\\d+', iframe_depth: 3}
              - id: api
                kind: json
                url: https://api.example.com/events
                body: '{"live": true}'
                items: data.events[*].streams[*]
                fields: {url: hls, title: name, quality: quality, key: id, feed: picture}
              - {id: list, kind: m3u, url: "https://lists.example.com/f1.m3u", enabled: false}
            """)
        let page = config.sources[0]
        #expect(page.kind == "page" && page.url?.host == "tv.example.com" && page.iframeDepth == 3)
        #expect(page.pattern == #"https?://[^"]+/playlist\.php\?id=\d+"#)
        let api = config.sources[1]
        #expect(api.items == "data.events[*].streams[*]" && api.body == #"{"live": true}"#)
        #expect(api.fields == Configuration.JSONFields(url: "hls", title: "name", quality: "quality", key: "id", feed: "picture"))
        #expect(config.sources[2].kind == "m3u" && !config.sources[2].enabled)
        for source in config.sources { _ = try ExtractorRegistry.builtIn.makeSource(source) }
    }

    @Test func namesTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-bad-\(UUID()).yaml").path
        try "demo: {token_ttl: -1}".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ConfigError(file: path, key: "demo.token_ttl", message: "must be between 5 and 86400 seconds, not '-1'")) {
            try ConfigLoader.load(file: path)
        }
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: "/nonexistent/pitlane.yaml") }
    }
}
