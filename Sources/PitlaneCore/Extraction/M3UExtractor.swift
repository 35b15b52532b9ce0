import Foundation

/// The `m3u` source kind: an extended M3U channel list (`#EXTINF` with `tvg-id`, `tvg-name`, `group-title`
/// and the title after the comma; `#EXTVLCOPT:http-referrer=` and `http-user-agent=` become headers).
public struct M3UExtractor: Extractor {
    public var url: URL

    public init(url: URL) {
        self.url = url
    }

    public func extract(_ context: ExtractionContext) async throws -> [Candidate] {
        let (text, finalURL) = try await context.fetchText(url)
        return try Self.parse(text, base: finalURL)
    }

    /// The channels of an M3U list; a body that is not one is an error.
    public static func parse(_ text: String, base: URL) throws(ExtractionError) -> [Candidate] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.first?.replacingOccurrences(of: "\u{FEFF}", with: ""), first.hasPrefix("#EXTM3U") else {
            throw .invalid("not an M3U list (it starts with \"\(lines.first?.prefix(40) ?? "")\")")
        }
        var candidates: [Candidate] = []
        var info: (attributes: [String: String], title: String)?
        var headers = HeaderProfile()
        for line in lines.dropFirst() {
            if line.hasPrefix("#EXTINF:") {
                info = parseInfo(String(line.dropFirst("#EXTINF:".count)))
                headers = HeaderProfile()
            } else if line.hasPrefix("#EXTVLCOPT:") {
                let option = line.dropFirst("#EXTVLCOPT:".count)
                let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2 else { continue }
                switch pair[0].lowercased() {
                case "http-referrer", "http-referer": headers.headers.append(.init(name: "Referer", value: pair[1]))
                case "http-user-agent": headers.headers.append(.init(name: "User-Agent", value: pair[1]))
                case "http-origin": headers.headers.append(.init(name: "Origin", value: pair[1]))
                default: continue
                }
            } else if line.hasPrefix("#") {
                continue
            } else {
                guard let streamURL = URIResolver.resolve(line, against: base),
                    ["http", "https"].contains(streamURL.scheme?.lowercased() ?? "")
                else {
                    info = nil
                    continue
                }
                let attributes = info?.attributes ?? [:]
                let title = [info?.title, attributes["tvg-name"]].compactMap { $0 }.first { !$0.isEmpty } ?? streamURL.lastPathComponent
                let key = attributes["tvg-id"].flatMap { $0.isEmpty ? nil : $0 }
                candidates.append(Candidate(url: streamURL, title: title, quality: nil, key: key, headers: headers))
                info = nil
                headers = HeaderProfile()
            }
        }
        return candidates
    }

    /// `-1 tvg-id="x" group-title="F1",Title, with comma` → attributes and the title after the first comma
    /// that is outside quotes.
    static func parseInfo(_ text: String) -> (attributes: [String: String], title: String) {
        var inQuotes = false
        var split = text.endIndex
        for index in text.indices {
            if text[index] == "\"" { inQuotes.toggle() }
            if text[index] == ",", !inQuotes {
                split = index
                break
            }
        }
        let head = text[..<split]
        let title = split < text.endIndex ? text[text.index(after: split)...].trimmingCharacters(in: .whitespaces) : ""
        var attributes: [String: String] = [:]
        let expression = try! NSRegularExpression(pattern: #"([A-Za-z0-9_-]+)="([^"]*)""#)
        let headText = String(head)
        for match in expression.matches(in: headText, range: NSRange(headText.startIndex..., in: headText)) {
            if let name = Range(match.range(at: 1), in: headText), let value = Range(match.range(at: 2), in: headText) {
                attributes[headText[name].lowercased()] = String(headText[value])
            }
        }
        return (attributes, title)
    }
}
