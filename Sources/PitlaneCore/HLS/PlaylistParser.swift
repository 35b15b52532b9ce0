import Foundation

/// Why a body is not a playlist. Carried as a value so the proxy can answer 502 with the reason.
public enum PlaylistParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case missingHeader(firstLine: String)
    case notText

    public var description: String {
        switch self {
        case .empty: "the body is empty"
        case .missingHeader(let firstLine): "the body does not start with #EXTM3U (it starts with \"\(firstLine)\")"
        case .notText: "the body is not UTF-8 text"
        }
    }
}

/// Parses HLS playlists (RFC 8216bis, LL-HLS included) as lines, tolerating CRLF, a BOM, blank lines and
/// leading whitespace; anything that does not start with `#EXTM3U` is a `PlaylistParseError`.
public enum PlaylistParser {
    /// Tags that only appear in master playlists; their presence decides the playlist's kind.
    static let masterTags: Set<String> = [
        "EXT-X-STREAM-INF", "EXT-X-I-FRAME-STREAM-INF", "EXT-X-IMAGE-STREAM-INF", "EXT-X-MEDIA", "EXT-X-SESSION-DATA",
        "EXT-X-SESSION-KEY", "EXT-X-CONTENT-STEERING",
    ]

    public static func parse(_ bytes: some Collection<UInt8>) throws(PlaylistParseError) -> Playlist {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .notText }
        return try parse(text)
    }

    public static func parse(_ text: String) throws(PlaylistParseError) -> Playlist {
        var lines: [PlaylistLine] = []
        var sawHeader = false
        var isMaster = false
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if !sawHeader, line.first == "\u{FEFF}" { line = line.dropFirst() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if !sawHeader {
                guard trimmed == "#EXTM3U" || trimmed.hasPrefix("#EXTM3U ") else {
                    throw .missingHeader(firstLine: String(trimmed.prefix(40)))
                }
                sawHeader = true
                lines.append(.tag(Tag(name: "EXTM3U", value: nil)))
                continue
            }
            if trimmed.hasPrefix("#EXT") {
                let body = trimmed.dropFirst()
                if let colon = body.firstIndex(of: ":") {
                    let name = String(body[..<colon])
                    if masterTags.contains(name) { isMaster = true }
                    lines.append(.tag(Tag(name: name, value: String(body[body.index(after: colon)...]))))
                } else {
                    lines.append(.tag(Tag(name: String(body), value: nil)))
                }
            } else if trimmed.hasPrefix("#") {
                lines.append(.comment(trimmed))
            } else {
                lines.append(.uri(trimmed))
            }
        }
        guard sawHeader else { throw .empty }
        return Playlist(kind: isMaster ? .master : .media, lines: lines)
    }
}
