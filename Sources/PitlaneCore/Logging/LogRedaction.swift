import Foundation

/// The last line of defence for secrets in logs: whatever a message or a metadata value says, URLs
/// (`http`, `https`, `ws`, `wss`, any case) lose their query and token-like path segments
/// (`URIResolver.redacted`), a relative URI its query, a `/t/{playback token}/` path its token, and the word
/// after `Bearer` or `Basic` is dropped. Code logs redacted URLs already; this catches what slips through.
/// One pass over the words: linear in the text, whatever it holds.
public enum LogRedaction {
    public static func scrub(_ text: String) -> String {
        guard text.contains("://") || text.contains("?") || text.contains("/t/") || mentionsCredentials(text) else { return text }
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var word = ""
        var credentialFollows = false
        func flush() {
            guard !word.isEmpty else { return }
            if credentialFollows {
                output += "…"
                credentialFollows = false
            } else {
                output += redactedWord(word)
                let bare = word.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "\"':,="))
                credentialFollows = bare == "bearer" || bare == "basic"
            }
            word = ""
        }
        for character in text {
            if character.isWhitespace {
                flush()
                output.append(character)
            } else {
                word.append(character)
            }
        }
        flush()
        return output
    }

    private static func mentionsCredentials(_ text: String) -> Bool {
        text.range(of: "bearer", options: .caseInsensitive) != nil || text.range(of: "basic", options: .caseInsensitive) != nil
    }

    /// One whitespace-free word: a URL in it redacted, else a query cut, and a playback token dropped.
    static func redactedWord(_ word: String) -> String {
        var result = word
        if let scheme = result.range(of: "://") {
            let start = result[..<scheme.lowerBound].lastIndex { !$0.isLetter }.map { result.index(after: $0) } ?? result.startIndex
            let tail = result[start...]
            let end = tail.firstIndex { "\"'<>`,;)]}".contains($0) } ?? tail.endIndex
            let candidate = String(tail[..<end])
            let redacted =
                URL(string: candidate).flatMap { $0.scheme == nil ? nil : URIResolver.redacted($0) }
                ?? String(candidate.prefix { $0 != "?" && $0 != "#" })
            result = String(result[..<start]) + redacted + String(tail[end...])
        } else if let question = result.firstIndex(of: "?"), result[question...].contains("=") {
            result = String(result[...question]) + "…"
        }
        return playbackTokens(result)
    }

    /// `/t/SECRET/hls/…` → `/t/…/hls/…`.
    static func playbackTokens(_ text: String) -> String {
        guard text.contains("/t/") else { return text }
        var output = ""
        var rest = Substring(text)
        while let marker = rest.range(of: "/t/") {
            output += rest[..<marker.upperBound]
            let after = rest[marker.upperBound...]
            let end = after.firstIndex { $0 == "/" || $0 == "\"" } ?? after.endIndex
            output += after[..<end].isEmpty || after[..<end] == "…" ? String(after[..<end]) : "…"
            rest = after[end...]
        }
        return output + rest
    }
}
