import Foundation

/// The last line of defence for secrets in logs: whatever a message or a metadata value says, URLs lose
/// their query and token-like path segments (`URIResolver.redacted`), `/t/{playback token}/` paths and
/// `Bearer` credentials lose the token. Code logs redacted URLs already; this catches what slips through.
public enum LogRedaction {
    public static func scrub(_ text: String) -> String {
        guard text.contains("://") || text.contains("/t/") || text.range(of: "bearer", options: .caseInsensitive) != nil else {
            return text
        }
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var rest = Substring(text)
        while let start = firstURL(in: rest) {
            output += rest[..<start]
            let tail = rest[start...]
            let end = tail.firstIndex { $0.isWhitespace || "\"'<>`,;)]}".contains($0) } ?? tail.endIndex
            let candidate = String(tail[..<end])
            output += URL(string: candidate).map(URIResolver.redacted) ?? String(candidate.prefix { $0 != "?" && $0 != "#" })
            rest = tail[end...]
        }
        output += rest
        return bearerTokens(playbackTokens(output))
    }

    private static func firstURL(in text: Substring) -> Substring.Index? {
        [text.range(of: "http://"), text.range(of: "https://")].compactMap { $0?.lowerBound }.min()
    }

    /// `/t/SECRET/hls/…` → `/t/…/hls/…`.
    static func playbackTokens(_ text: String) -> String {
        guard text.contains("/t/") else { return text }
        var output = ""
        var rest = Substring(text)
        while let marker = rest.range(of: "/t/") {
            output += rest[..<marker.upperBound]
            let after = rest[marker.upperBound...]
            let end = after.firstIndex { $0 == "/" || $0.isWhitespace || $0 == "\"" } ?? after.endIndex
            output += after[..<end].isEmpty || after[..<end] == "…" ? after[..<end] : "…"
            rest = after[end...]
        }
        return output + rest
    }

    /// `Bearer SECRET` → `Bearer …`.
    static func bearerTokens(_ text: String) -> String {
        guard let marker = text.range(of: "bearer ", options: .caseInsensitive) else { return text }
        let after = text[marker.upperBound...]
        let end = after.firstIndex { $0.isWhitespace || $0 == "\"" || $0 == "," } ?? after.endIndex
        let token = after[..<end]
        let replaced = String(text[..<marker.upperBound]) + (token.isEmpty || token == "…" ? String(token) : "…")
        return replaced + bearerTokens(String(after[end...]))
    }
}
