import Foundation

/// Rewrites a master playlist so every variant and rendition points at `v/{key}.m3u8` and every other
/// URI at a signed handle, and returns the index that resolves those keys back to upstream URLs.
public struct MasterRewriter: Sendable {
    public let stream: String
    public let signer: HandleSigner

    public init(stream: String, signer: HandleSigner) {
        self.stream = stream
        self.signer = signer
    }

    /// Builds the index alone (what the variant route needs; no signing work).
    public static func index(of master: Playlist, baseURL: URL) -> MasterIndex {
        walk(master, baseURL: baseURL).index
    }

    public func rewrite(_ master: Playlist, baseURL: URL) -> (playlist: Playlist, index: MasterIndex) {
        let walked = Self.walk(master, baseURL: baseURL)
        var lines: [PlaylistLine] = []
        lines.reserveCapacity(master.lines.count)
        var dropNextURI = false
        for (position, line) in master.lines.enumerated() {
            switch line {
            case .uri:
                if dropNextURI {
                    dropNextURI = false
                    continue
                }
                if let key = walked.keysByLine[position] {
                    lines.append(.uri("v/\(key).m3u8"))
                }
            case .tag(var tag):
                switch tag.name {
                case "EXT-X-STREAM-INF":
                    if walked.unresolvedStreamInf.contains(position) {
                        dropNextURI = true
                        continue
                    }
                    lines.append(line)
                case "EXT-X-MEDIA", "EXT-X-I-FRAME-STREAM-INF":
                    var attributes = tag.attributes
                    guard attributes["URI"] != nil else {
                        lines.append(line)
                        continue
                    }
                    guard let key = walked.keysByLine[position] else { continue }
                    attributes.setQuoted("URI", "v/\(key).m3u8")
                    tag.attributes = attributes
                    lines.append(.tag(tag))
                case "EXT-X-SESSION-KEY", "EXT-X-SESSION-DATA":
                    let kind: ResourceKind = tag.name == "EXT-X-SESSION-KEY" ? .key : .data
                    var attributes = tag.attributes
                    guard let uri = attributes["URI"], URIRewriting.isFetchable(uri) else {
                        lines.append(line)
                        continue
                    }
                    guard let upstream = URIResolver.resolve(uri, against: baseURL) else { continue }
                    let handle = ResourceHandle(stream: stream, kind: kind, url: upstream.absoluteString)
                    let ext = MediaExtension.choose(kind: kind, url: upstream, playlistHasMap: false, isSubtitles: false)
                    attributes.setQuoted("URI", "s/\(signer.sign(handle)).\(ext)")
                    tag.attributes = attributes
                    lines.append(.tag(tag))
                case "EXT-X-CONTENT-STEERING":
                    // Steering would send players to upstream hosts directly; Pitlane chooses the upstream itself.
                    continue
                default:
                    lines.append(line)
                }
            case .comment:
                lines.append(line)
            }
        }
        return (Playlist(kind: .master, lines: lines), walked.index)
    }

    /// A synthetic one-variant master for a stream whose upstream is a media playlist.
    public static func singleVariantMaster(for media: Playlist) -> Playlist {
        var lines: [PlaylistLine] = [.tag(Tag(name: "EXTM3U", value: nil))]
        if let version = media.firstTagValue("EXT-X-VERSION") { lines.append(.tag(Tag(name: "EXT-X-VERSION", value: version))) }
        lines.append(.tag(Tag(name: "EXT-X-STREAM-INF", value: "BANDWIDTH=2000000")))
        lines.append(.uri("v/\(MasterIndex.singleVariantKey).m3u8"))
        return Playlist(kind: .master, lines: lines)
    }

    struct Walked {
        var index = MasterIndex(entries: [])
        var keysByLine: [Int: String] = [:]
        var unresolvedStreamInf: Set<Int> = []
    }

    static func walk(_ master: Playlist, baseURL: URL) -> Walked {
        var walked = Walked()
        var used: [String: Int] = [:]
        var pendingStreamInf: (line: Int, attributes: AttributeList)?
        func uniqueKey(_ base: String) -> String {
            let count = used[base, default: 0] + 1
            used[base] = count
            return count == 1 ? base : "\(base)-\(count)"
        }
        for (position, line) in master.lines.enumerated() {
            switch line {
            case .tag(let tag) where tag.name == "EXT-X-STREAM-INF":
                pendingStreamInf = (position, tag.attributes)
            case .tag(let tag) where tag.name == "EXT-X-MEDIA" || tag.name == "EXT-X-I-FRAME-STREAM-INF":
                let attributes = tag.attributes
                guard let uri = attributes["URI"] else { continue }
                guard let upstream = URIResolver.resolve(uri, against: baseURL) else { continue }
                let key = uniqueKey(VariantKeyMaker.key(for: tag.name, attributes: attributes))
                let kind: MasterIndex.EntryKind =
                    tag.name == "EXT-X-MEDIA" ? .rendition(type: attributes["TYPE"] ?? "") : .iFrame
                walked.index.entries.append(.init(key: key, kind: kind, upstream: upstream))
                walked.keysByLine[position] = key
            case .uri(let uri):
                guard let pending = pendingStreamInf else { continue }
                pendingStreamInf = nil
                guard let upstream = URIResolver.resolve(uri, against: baseURL) else {
                    walked.unresolvedStreamInf.insert(pending.line)
                    continue
                }
                let key = uniqueKey(VariantKeyMaker.key(for: "EXT-X-STREAM-INF", attributes: pending.attributes))
                walked.index.entries.append(.init(key: key, kind: .variant, upstream: upstream))
                walked.keysByLine[position] = key
            default:
                continue
            }
        }
        return walked
    }
}

enum URIRewriting {
    /// URIs Pitlane can fetch; others (`skd://`, `data:`) are passed through for the player to handle.
    static func isFetchable(_ uri: String) -> Bool {
        let lower = uri.lowercased()
        if lower.hasPrefix("data:") || lower.hasPrefix("skd:") { return false }
        guard let colon = lower.firstIndex(of: ":"), let slash = lower.firstIndex(of: "/"), colon < slash else { return true }
        return lower.hasPrefix("http:") || lower.hasPrefix("https:")
    }
}
