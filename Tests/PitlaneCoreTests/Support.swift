import Foundation
import PitlaneCore

/// Shared helpers for the core tests.
enum TestSupport {
    /// Handles issued at `start` and honoured for six hours of `signerClock`.
    static let signerClock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
    static let signer = HandleSigner(secret: Data("test-secret-0123456789".utf8), clock: signerClock)

    /// The fixed instant tests use for "now" when the time does not matter (never `Date()`).
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// The fixtures folder in the source tree (so `PITLANE_UPDATE_FIXTURES=1` can write expected files).
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Replaces every signed handle in a rewritten playlist with its decoded, readable content, after
    /// checking its signature: the expected outputs show what each handle carries.
    static func decodeHandles(_ text: String, stream: String) -> String {
        let pattern = try! NSRegularExpression(pattern: "s/([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)\\.([a-z0-9]+)")
        var result = text
        let matches = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed()
        for match in matches {
            let token = String(text[Range(match.range(at: 1), in: text)!])
            let ext = String(text[Range(match.range(at: 2), in: text)!])
            let readable: String
            if let handle = try? signer.verify(token, stream: stream) {
                var parts = ["\(handle.kind)"]
                if let variant = handle.variant { parts.append("variant=\(variant)") }
                if let msn = handle.msn { parts.append("msn=\(msn)") }
                if let part = handle.part { parts.append("part=\(part)") }
                parts.append(handle.url)
                readable = "s/[\(parts.joined(separator: " "))].\(ext)"
            } else {
                readable = "s/[INVALID].\(ext)"
            }
            result.replaceSubrange(Range(match.range, in: result)!, with: readable)
        }
        return result
    }
}
