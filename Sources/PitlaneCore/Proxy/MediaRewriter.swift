import Foundation

/// Rewrites a media playlist so every resource URI becomes `../s/{handle}.{ext}` and every rendition
/// report points at its variant key. Byte ranges get explicit offsets, since resources that share one
/// upstream URI share one handle.
public struct MediaRewriter: Sendable {
    public let stream: String
    public let variant: String
    public let isSubtitles: Bool
    public let signer: HandleSigner

    public init(stream: String, variant: String, isSubtitles: Bool, signer: HandleSigner) {
        self.stream = stream
        self.variant = variant
        self.isSubtitles = isSubtitles
        self.signer = signer
    }

    /// - Parameter variantKeyFor: resolves another media playlist's upstream URL to its variant key (for
    ///   rendition reports); a report it cannot resolve is dropped rather than leak an upstream URL.
    public func rewrite(_ media: Playlist, baseURL: URL, variantKeyFor: (URL) -> String? = { _ in nil }) -> Playlist {
        var lines = media.lines
        let hasMap = media.lines.contains { if case .tag(let tag) = $0 { tag.name == "EXT-X-MAP" } else { false } }
        var handles: [String: String] = [:]
        var dropped: Set<Int> = []
        for reference in MediaPlaylistWalker.references(in: media) {
            guard let upstream = URIResolver.resolve(reference.uri, against: baseURL) else {
                dropped.insert(reference.line)
                continue
            }
            let replacement: String
            if reference.isRenditionReport {
                guard let key = variantKeyFor(upstream) else {
                    dropped.insert(reference.line)
                    continue
                }
                replacement = "\(key).m3u8"
            } else if let existing = handles[upstream.absoluteString + "|" + reference.kind.rawValue] {
                replacement = existing
            } else {
                let handle = ResourceHandle(
                    stream: stream, kind: reference.kind, url: upstream.absoluteString, variant: variant, msn: reference.msn,
                    part: reference.part)
                let ext = MediaExtension.choose(kind: reference.kind, url: upstream, playlistHasMap: hasMap, isSubtitles: isSubtitles)
                replacement = "../s/\(signer.sign(handle)).\(ext)"
                handles[upstream.absoluteString + "|" + reference.kind.rawValue] = replacement
            }
            lines[reference.line] = Self.replacing(lines[reference.line], attribute: reference.attribute, with: replacement)
        }
        Self.makeByteRangesExplicit(&lines, baseURL: baseURL)
        let kept = lines.enumerated().filter { !dropped.contains($0.offset) || Self.isSegmentURI($0.element) }.map(\.element)
        return Playlist(kind: .media, lines: kept)
    }

    private static func isSegmentURI(_ line: PlaylistLine) -> Bool {
        if case .uri = line { return true }
        return false
    }

    private static func replacing(_ line: PlaylistLine, attribute: String?, with uri: String) -> PlaylistLine {
        guard let attribute, case .tag(var tag) = line else { return .uri(uri) }
        var attributes = tag.attributes
        attributes.setQuoted(attribute, uri)
        tag.attributes = attributes
        return .tag(tag)
    }

    /// Writes `n@o` for every EXT-X-BYTERANGE whose offset was implied by the previous range of the same
    /// resource (RFC 8216bis §4.4.4.2). Runs on the original URIs' order, which rewriting does not change.
    static func makeByteRangesExplicit(_ lines: inout [PlaylistLine], baseURL: URL) {
        var nextOffset: [String: Int] = [:]
        var pending: (line: Int, length: Int, offset: Int?)?
        for position in lines.indices {
            switch lines[position] {
            case .tag(let tag) where tag.name == "EXT-X-BYTERANGE":
                let parts = (tag.value ?? "").split(separator: "@")
                guard let length = parts.first.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else { continue }
                pending = (position, length, parts.count > 1 ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : nil)
            case .uri(let uri):
                guard let range = pending else { continue }
                pending = nil
                let offset = range.offset ?? nextOffset[uri] ?? 0
                nextOffset[uri] = offset + range.length
                lines[range.line] = .tag(Tag(name: "EXT-X-BYTERANGE", value: "\(range.length)@\(offset)"))
            default:
                continue
            }
        }
    }
}
