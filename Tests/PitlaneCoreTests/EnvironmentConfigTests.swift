import Foundation
import PitlaneCore
import Testing

/// `PITLANE_SECTION_KEY` variables over the file: the environment wins, and a bad value is the same error
/// as in the file, naming the variable.
struct EnvironmentConfigTests {
    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-env-\(UUID()).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theEnvironmentWinsOverTheFile() throws {
        let path = try Self.file("server: {port: 8081, host: 127.0.0.1}\nrefresh: {hold_timeout: 8, lease: 30}\nlog_level: info\n")
        let config = try ConfigLoader.load(
            file: path,
            environment: [
                "PITLANE_SERVER_PORT": "9000", "PITLANE_REFRESH_HOLD_TIMEOUT": "6.5", "PITLANE_LOG_LEVEL": "debug",
                "PITLANE_LOG_FORMAT": "json", "PITLANE_SECRET": "0123456789abcdef #not a comment",
                "PITLANE_SERVER_CORS_ORIGINS": "[https://tv.example.com]", "PITLANE_UPSTREAM_SEGMENT_CACHE_MB": "16",
                "PITLANE_DEMO_ENABLED": "false", "PITLANE_FEEDS_SWITCH_AFTER": "4",
                // Not configuration: the file's own variable, the clock, a test's settings, an empty value.
                "PITLANE_CONFIG": "/elsewhere.yaml", "PITLANE_NOW": "2026-12-06T13:00:00Z", "PITLANE_TEST_OUTPUT": "/tmp/x",
                "PITLANE_SCHEDULE_REFRESH": "", "HOME": "/root",
            ])
        #expect(config.server.port == 9000 && config.server.host == "127.0.0.1")
        #expect(config.refresh.holdTimeout == 6.5 && config.refresh.lease == 30)
        #expect(config.logLevel == "debug" && config.logFormat == .json)
        #expect(config.secret == "0123456789abcdef #not a comment")
        #expect(config.server.corsOrigins == ["https://tv.example.com"])
        #expect(config.upstream.segmentCacheBytes == 16 << 20)
        #expect(!config.demo.enabled && config.schedule.refresh)
        #expect(config.feeds.switchAfter == 4)
    }

    @Test func withoutAFileTheEnvironmentIsTheWholeConfiguration() throws {
        let config = try ConfigLoader.load(
            file: nil,
            environment: [
                "PITLANE_SERVER": "{port: 9001, hostnames: [pitlane.lan]}",
                "PITLANE_SOURCES": "[{id: tv, kind: static, streams: [{url: 'https://cdn.example.com/a.m3u8', title: Race}]}]",
            ])
        #expect(config.server.port == 9001 && config.server.hostnames == ["pitlane.lan"])
        #expect(config.sources.map(\.id) == ["tv"])
        #expect(try ConfigLoader.load(file: nil, environment: [:]) == Configuration())
    }

    @Test(arguments: [
        ("PITLANE_SERVER_PORT", "70000", "environment: PITLANE_SERVER_PORT (server.port): must be between 0 and 65535"),
        (
            "PITLANE_REFRESH_HOLD_TIMEOUT", "1e300",
            "environment: PITLANE_REFRESH_HOLD_TIMEOUT (refresh.hold_timeout): must be between 1 and 60"
        ),
        ("PITLANE_SERVER_PROT", "1", "environment: PITLANE_SERVER_PROT (server.prot): unknown key"),
        ("PITLANE_LOG_FORMAT", "xml", "environment: PITLANE_LOG_FORMAT (log_format): 'xml' is not one of"),
        ("PITLANE_SOURCES", "[{id: a, kind: nope}]", "environment: PITLANE_SOURCES (sources[0].kind)"),
        ("PITLANE_SOURCES", "[{id: a", "environment: PITLANE_SOURCES: not a valid YAML list or mapping"),
        ("PITLANE_DEMO_ENABLED", "maybe", "environment: PITLANE_DEMO_ENABLED (demo.enabled): must be true or false"),
    ])
    func aBadVariableIsNamed(variable: String, value: String, expected: String) throws {
        let path = try Self.file("server: {port: 8081}\n")
        #expect {
            try ConfigLoader.load(file: path, environment: [variable: value])
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }

    @Test func aBadFileIsStillNamedWhenTheEnvironmentIsFine() throws {
        let path = try Self.file("server: {port: eighty}\n")
        #expect {
            try ConfigLoader.load(file: path, environment: ["PITLANE_REFRESH_LEASE": "30"])
        } throws: { error in
            "\(error)" == "\(path): server.port: must be a whole number, not 'eighty'" || "\(error)".hasPrefix("\(path): server.port:")
        }
    }
}

/// `pitlane config check`'s view of a configuration: every key in effect, secrets masked, and (secrets
/// aside) YAML that loads back to the same configuration.
struct EffectiveConfigTests {
    @Test func theEffectiveConfigurationLoadsBackToItself() throws {
        let config = try ConfigLoader.parse(
            """
            server: {port: 9000, hostnames: [pitlane.lan], shutdown_grace: 2.5}
            refresh: {hold_timeout: 6.5, interval: 4m}
            log_format: json
            browser: {concurrency: 3}
            sources:
              - id: tv
                kind: page
                title: "My \\"TV\\""
                url: https://tv.example.com/live
                headers: {Referer: "https://tv.example.com/"}
              - id: list
                kind: static
                streams: [{url: "https://cdn.example.com/a.m3u8", title: Race, quality: 1080p, key: race}]
            """)
        let text = config.effectiveYAML()
        #expect(text.contains("  handle_lifetime: 6h\n") && text.contains("  interval: 4m\n") && text.contains("  hold_timeout: 6.5s\n"))
        #expect(try ConfigLoader.parse(text) == config)
        #expect(try ConfigLoader.parse(Configuration().effectiveYAML()) == Configuration())
    }

    @Test func secretsAreMasked() throws {
        let config = try ConfigLoader.parse(
            """
            secret: "0123456789abcdef-very-secret"
            sources:
              - id: tv
                kind: m3u
                url: "https://tv.example.com/list.m3u?key=hunter2"
                headers: {Cookie: "session=hunter2", Authorization: "Bearer hunter2", X-Token: hunter2, Referer: "https://tv.example.com/"}
            """)
        let text = config.effectiveYAML()
        #expect(!text.contains("hunter2") && !text.contains("very-secret"), "\(text)")
        #expect(text.contains("secret: \"***\"") && text.contains("\"Referer\": \"https://tv.example.com/\""))
    }
}
