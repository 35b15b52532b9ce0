import Foundation

/// Rewrites a media playlist so every resource URI becomes `../s/{handle}.{ext}` and every rendition
/// report points at its variant key. Byte ranges get explicit offsets, since resources that share one
/// upstream URI share one handle.
public struct MediaRewriter: Sendable {
    /// The variant name of an interstitial's media playlists: their resources are never relocated.
    public static let assetVariant = "asset"
    /// The handle of a gap's placeholder segment (`../s/gap.ts`): the resource route answers it 404.
    public static let gapToken = "gap"

    public let stream: String
    public let variant: String
    public let context: MediaContext
    public let signer: HandleSigner
    /// Told about every URI that could not be resolved and was dropped (the proxy logs it).
    let report: @Sendable (String) -> Void

    public init(
        stream: String, variant: String, context: MediaContext = .video, signer: HandleSigner,
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.stream = stream
        self.variant = variant
        self.context = context
        self.signer = signer
        self.report = report
    }

    /// - Parameter variantKeyFor: resolves another media playlist's upstream URL to its variant key (for
    ///   rendition reports); a report it cannot resolve is dropped rather than leak an upstream URL.
    ///
    /// A URI that cannot be resolved never reaches the player: a tag carrying one is dropped, and a
    /// segment line becomes a gap (`EXT-X-GAP` and a placeholder), so later segments keep their numbers.
    public func rewrite(_ media: Playlist, baseURL: URL, variantKeyFor: (URL) -> String? = { _ in nil }) -> Playlist {
        var lines = media.lines
        Self.makeByteRangesExplicit(&lines, baseURL: baseURL)
        let hasMap = media.lines.contains { if case .tag(let tag) = $0 { tag.name == "EXT-X-MAP" } else { false } }
        let references = MediaPlaylistWalker.references(in: media)
        // A recording's playlist is read once: its handles must outlive the whole recording.
        let recording = media.hasEndList ? references.reduce(0) { $0 + (($1.kind == .segment ? $1.duration : nil) ?? 0) } : 0
        // Resources that share one URI share one handle, signed with the position of the last of them: the
        // one a sliding window keeps longest, so it can still be found after a refresh. Keyed by the URI as
        // written (no copy of it), and only URIs written more than once keep their handle for reuse.
        var sharing: [SharedURI: (last: Int, count: Int)] = [:]
        for reference in references where !reference.isRenditionReport {
            let key = SharedURI(uri: reference.uri, kind: reference.kind)
            sharing[key] = (reference.msn, (sharing[key]?.count ?? 0) + 1)
        }
        var handles: [SharedURI: String] = [:]
        var rewrittenAttributes: [Int: Set<String>] = [:]
        var dropped: Set<Int> = []
        var gaps: Set<Int> = []
        for reference in references {
            guard let upstream = URIResolver.fetchable(reference.uri, against: baseURL) else {
                report("dropped a URI that cannot be resolved (line \(reference.line + 1), \(reference.attribute ?? "segment"))")
                if reference.attribute == nil { gaps.insert(reference.line) } else { dropped.insert(reference.line) }
                continue
            }
            let replacement: String
            let shared = SharedURI(uri: reference.uri, kind: reference.kind)
            if reference.isRenditionReport {
                guard let key = variantKeyFor(upstream) else {
                    dropped.insert(reference.line)
                    continue
                }
                replacement = "\(key).m3u8"
            } else if let existing = handles[shared] {
                replacement = existing
            } else {
                let handle = ResourceHandle(
                    stream: stream, kind: reference.kind, url: upstream.absoluteString, variant: variant,
                    msn: reference.kind == .segment ? sharing[shared]?.last ?? reference.msn : reference.msn, part: reference.part,
                    duration: reference.duration.flatMap(ResourceHandle.wholeSeconds))
                let ext = MediaExtension.choose(kind: reference.kind, url: upstream, playlistHasMap: hasMap, context: context)
                replacement = "../s/\(signer.sign(handle, extra: recording)).\(ext)"
                if (sharing[shared]?.count ?? 0) > 1 { handles[shared] = replacement }
            }
            lines[reference.line] = Self.replacing(lines[reference.line], attribute: reference.attribute, with: replacement)
            if let attribute = reference.attribute { rewrittenAttributes[reference.line, default: []].insert(attribute) }
        }
        for position in lines.indices {
            if case .tag(let tag) = lines[position] {
                lines[position] = .tag(URIRewriting.scrubbed(tag, rewritten: rewrittenAttributes[position] ?? [], report: report))
            }
        }
        var kept: [PlaylistLine] = []
        kept.reserveCapacity(lines.count + gaps.count)
        for (position, line) in lines.enumerated() {
            if gaps.contains(position) {
                kept.append(.tag(Tag(name: "EXT-X-GAP", value: nil)))
                kept.append(.uri("../s/\(Self.gapToken).ts"))
            } else if !dropped.contains(position) {
                kept.append(line)
            }
        }
        return Playlist(kind: .media, lines: kept)
    }

    private struct SharedURI: Hashable {
        var uri: String
        var kind: ResourceKind
    }

    private static func replacing(_ line: PlaylistLine, attribute: String?, with uri: String) -> PlaylistLine {
        guard let attribute, case .tag(var tag) = line else { return .uri(uri) }
        var attributes = tag.attributes
        attributes.setQuoted(attribute, uri)
        tag.attributes = attributes
        return .tag(tag)
    }

    /// Writes `n@o` for every EXT-X-BYTERANGE whose offset was implied by the previous range of the same
    /// resource (RFC 8216bis §4.4.4.2), the resource told by its resolved URL (`a.mp4` and `./a.mp4` are
    /// one file). Runs on the upstream's lines, before rewriting, which does not move a line. A range
    /// whose end would overflow is left as written (the player refuses it; Pitlane must not trap on it).
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
                let resource = URIResolver.resolve(uri, against: baseURL)?.absoluteString ?? uri
                let offset = range.offset ?? nextOffset[resource] ?? 0
                let (end, overflow) = offset.addingReportingOverflow(range.length)
                guard !overflow else { continue }
                nextOffset[resource] = end
                lines[range.line] = .tag(Tag(name: "EXT-X-BYTERANGE", value: "\(range.length)@\(offset)"))
            default:
                continue
            }
        }
    }
}
