import Foundation
import Logging
import NIOConcurrencyHelpers
import PitlaneCore
import Testing

/// Pitlane's log lines: text or one JSON object per line, and never a token, in a query or in a path.
struct LogHandlerTests {
    final class Lines: Sendable {
        let box = NIOLockedValueBox([String]())
        var all: [String] { box.withLockedValue { $0 } }
        func append(_ line: String) { box.withLockedValue { $0.append(line) } }
    }

    static func logger(_ format: Configuration.LogFormat, _ lines: Lines) -> Logger {
        Logger(label: "pitlane") { label in
            var handler = PitlaneLogHandler(
                label: label, format: format, clock: ManualClock(utc("2026-06-02T12:00:00.25Z")), write: lines.append)
            handler.logLevel = .debug
            return handler
        }
    }

    @Test func jsonIsOneObjectPerLineWithEveryField() throws {
        let lines = Lines()
        Self.logger(.json, lines).warning("source run failed", metadata: ["source": "tv", "failures": "3"])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("\n") && line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["time"] as? String == "2026-06-02T12:00:00.250Z")
        #expect(object["label"] as? String == "pitlane")
        #expect(object["message"] as? String == "source run failed")
        #expect(object["source"] as? String == "PitlaneCoreTests")
        #expect(object["metadata"] as? [String: String] == ["source": "tv", "failures": "3"])
    }

    @Test func textIsTheStreamHandlersLine() throws {
        let lines = Lines()
        Self.logger(.text, lines).info("Pitlane is listening", metadata: ["url": "http://127.0.0.1:8080/"])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix(" info pitlane: url=http://127.0.0.1:8080/ [PitlaneCoreTests] Pitlane is listening\n"), "\(line)")
        #expect(line.hasPrefix("2026-06-0"))
    }

    /// Before this handler, a URL logged by mistake kept its token wherever it was: in the query, in a
    /// path (`/t/{playback token}/`, `hdnts=…`), or after `Bearer`.
    @Test(arguments: [Configuration.LogFormat.text, .json])
    func tokensNeverReachTheLog(format: Configuration.LogFormat) throws {
        let lines = Lines()
        let logger = Self.logger(format, lines)
        logger.error(
            "fetching https://cdn.example.com/live/hdnts=exp=1~hmac=SECRET1/index.m3u8?token=SECRET2 failed",
            metadata: [
                "player": "/t/SECRET3/hls/demo-world/master.m3u8", "header": "Authorization: Bearer SECRET4",
                "nested": .array([.string("http://x.example/a?sig=SECRET5")]),
                "upstream": .stringConvertible(URL(string: "https://cdn.example.com/token/SECRET6/seg1.ts")!),
            ])
        let line = try #require(lines.all.first)
        for secret in 1...6 { #expect(!line.contains("SECRET\(secret)"), "SECRET\(secret) in \(line)") }
        #expect(line.contains("https://cdn.example.com/live/…/index.m3u8?…"))
        #expect(line.contains("/t/…/hls/demo-world/master.m3u8"))
        #expect(line.contains("Bearer …"))
    }

    @Test(arguments: [
        ("HTTPS://CDN.example.com/a.m3u8?token=SECRET", "CDN.example.com/a.m3u8?…"),
        (
            "DevTools listening on ws://127.0.0.1:9222/devtools/browser/SECRET-0123456789abcdef0123",
            "ws://127.0.0.1:9222/devtools/browser/…"
        ),
        ("segment seg12.ts?token=SECRET failed", "seg12.ts?…"),
        ("Authorization: Bearer\tSECRET", "Bearer\t…"),
        ("Authorization: basic  SECRET", "basic  …"),
        ("url=\"https://x.example/p?sig=SECRET\"", "url=\"https://x.example/p?…\""),
    ])
    func moreShapesOfSecrets(line: String, expected: String) {
        let scrubbed = LogRedaction.scrub(line)
        #expect(!scrubbed.contains("SECRET") && scrubbed.contains(expected), "\(scrubbed)")
    }

    @Test func aLongLineIsScrubbedInOnePass() {
        let line = String(repeating: "Bearer x ", count: 20_000)
        #expect(LogRedaction.scrub(line).contains("Bearer … Bearer …"))
    }

    @Test func aLineWithoutSecretsIsUntouched() {
        #expect(LogRedaction.scrub("catalogue restored") == "catalogue restored")
        #expect(LogRedaction.scrub("url=http://127.0.0.1:8080/") == "url=http://127.0.0.1:8080/")
        #expect(LogRedaction.scrub("GET /hls/demo-world/v/0.m3u8") == "GET /hls/demo-world/v/0.m3u8")
    }
}
