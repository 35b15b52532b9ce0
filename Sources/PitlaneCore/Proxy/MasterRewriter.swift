import Foundation

/// Rewrites a master playlist so every variant and rendition points at `v/{key}.m3u8` and every other
/// URI at a signed handle, and returns the index that resolves those keys back to upstream URLs.
public struct MasterRewriter: Sendable {
    /// Where the rewritten URIs point.
    public enum Layout: Sendable {
        /// The stream's own master at `/hls/{stream}/master.m3u8`: media playlists under `v/{key}.m3u8`
        /// (keys from attributes, so they survive a refresh), other resources under `s/`.
        case stream
        /// An interstitial's master at `/hls/{stream}/s/{handle}.m3u8`: every URI a handle beside it.
        case asset
    }

    public let stream: String
    public let signer: HandleSigner
    public let layout: Layout
    /// Told about every URI that could not be resolved and was dropped (the proxy logs it).
    let report: @Sendable (String) -> Void

    /// Tags whose URI attribute names another media playlist, served under `v/{key}.m3u8`.
    static let playlistTags: Set<String> = ["EXT-X-MEDIA", "EXT-X-I-FRAME-STREAM-INF", "EXT-X-IMAGE-STREAM-INF"]

    public init(stream: String, signer: HandleSigner, layout: Layout = .stream, report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.stream = stream
        self.signer = signer
        self.layout = layout
        self.report = report
    }

    /// The URI a player gets for the media playlist with this key.
    func playlistURI(key: String, in index: MasterIndex) -> String {
        switch layout {
        case .stream:
            return "v/\(key).m3u8"
        case .asset:
            let upstream = index.entries.first { $0.key == key }?.upstream.absoluteString ?? ""
            return "\(signer.sign(ResourceHandle(stream: stream, kind: .asset, url: upstream))).m3u8"
        }
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
                    lines.append(.uri(playlistURI(key: key, in: walked.index)))
                }
            case .tag(var tag):
                switch tag.name {
                case "EXT-X-STREAM-INF":
                    if walked.unresolvedStreamInf.contains(position) {
                        report("dropped a variant whose URI cannot be resolved (line \(position + 1))")
                        dropNextURI = true
                        continue
                    }
                    lines.append(.tag(URIRewriting.scrubbed(tag, report: report)))
                case _ where Self.playlistTags.contains(tag.name):
                    var attributes = tag.attributes
                    guard attributes["URI"] != nil else {
                        lines.append(.tag(URIRewriting.scrubbed(tag, report: report)))
                        continue
                    }
                    guard let key = walked.keysByLine[position] else {
                        report("dropped \(tag.name) whose URI cannot be resolved (line \(position + 1))")
                        continue
                    }
                    attributes.setQuoted("URI", playlistURI(key: key, in: walked.index))
                    tag.attributes = attributes
                    lines.append(.tag(URIRewriting.scrubbed(tag, rewritten: ["URI"], report: report)))
                case "EXT-X-SESSION-KEY", "EXT-X-SESSION-DATA":
                    let kind: ResourceKind = tag.name == "EXT-X-SESSION-KEY" ? .key : .data
                    var attributes = tag.attributes
                    guard let uri = attributes["URI"], !URIRewriting.passesThrough(uri) else {
                        lines.append(.tag(URIRewriting.scrubbed(tag, report: report)))
                        continue
                    }
                    guard let upstream = URIResolver.fetchable(uri, against: baseURL) else {
                        report("dropped \(tag.name) whose URI cannot be resolved (line \(position + 1))")
                        continue
                    }
                    let handle = ResourceHandle(stream: stream, kind: kind, url: upstream.absoluteString)
                    let ext = MediaExtension.choose(kind: kind, url: upstream, playlistHasMap: false)
                    attributes.setQuoted("URI", (layout == .stream ? "s/" : "") + "\(signer.sign(handle)).\(ext)")
                    tag.attributes = attributes
                    lines.append(.tag(URIRewriting.scrubbed(tag, rewritten: ["URI"], report: report)))
                case "EXT-X-CONTENT-STEERING":
                    // Steering would send players to upstream hosts directly; Pitlane chooses the upstream itself.
                    continue
                default:
                    lines.append(.tag(URIRewriting.scrubbed(tag, report: report)))
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
        let audioCodecs = audioCodecsByGroup(master)
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
            case .tag(let tag) where playlistTags.contains(tag.name):
                let attributes = tag.attributes
                guard let uri = attributes["URI"] else { continue }
                guard let upstream = URIResolver.fetchable(uri, against: baseURL) else { continue }
                let key = uniqueKey(VariantKeyMaker.key(for: tag.name, attributes: attributes))
                let kind: MasterIndex.EntryKind =
                    switch tag.name {
                    case "EXT-X-MEDIA": .rendition(type: attributes["TYPE"] ?? "")
                    case "EXT-X-IMAGE-STREAM-INF": .images
                    default: .iFrame
                    }
                let codecs = kind == .rendition(type: "AUDIO") ? attributes["GROUP-ID"].flatMap { audioCodecs[$0] } : nil
                walked.index.entries.append(
                    .init(
                        key: key, kind: kind, upstream: upstream, codecs: codecs, bandwidth: bounded(attributes["BANDWIDTH"]),
                        height: height(attributes["RESOLUTION"]), language: attributes["LANGUAGE"]))
                walked.keysByLine[position] = key
            case .uri(let uri):
                guard let pending = pendingStreamInf else { continue }
                pendingStreamInf = nil
                guard let upstream = URIResolver.fetchable(uri, against: baseURL) else {
                    walked.unresolvedStreamInf.insert(pending.line)
                    continue
                }
                let key = uniqueKey(VariantKeyMaker.key(for: "EXT-X-STREAM-INF", attributes: pending.attributes))
                walked.index.entries.append(
                    .init(
                        key: key, kind: .variant, upstream: upstream, bandwidth: bounded(pending.attributes["BANDWIDTH"]),
                        height: height(pending.attributes["RESOLUTION"])))
                walked.keysByLine[position] = key
            default:
                continue
            }
        }
        return walked
    }
}

extension MasterRewriter {
    /// The height of a RESOLUTION (`1280x720` is 720).
    static func height(_ resolution: String?) -> Int? {
        bounded(resolution.flatMap { $0.split(separator: "x").last }.map(String.init))
    }

    /// A decimal-integer attribute as a number within 0…2^32 (what players use), else none: distances
    /// between hostile values must not overflow.
    static func bounded(_ text: String?) -> Int? {
        text.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.flatMap { (0...(1 << 32)).contains($0) ? $0 : nil }
    }

    /// For each audio GROUP-ID, the audio codecs listed by the variants that use it (`mp4a.40.2`): what
    /// tells packed AAC from AC-3 in a rendition whose segments are disguised.
    static func audioCodecsByGroup(_ master: Playlist) -> [String: String] {
        var codecs: [String: String] = [:]
        for case .tag(let tag) in master.lines where tag.name == "EXT-X-STREAM-INF" {
            let attributes = tag.attributes
            guard let group = attributes["AUDIO"], codecs[group] == nil, let list = attributes["CODECS"] else { continue }
            let audio = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { codec in
                ["mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "fLaC", "mp3"].contains { codec.lowercased().hasPrefix($0.lowercased()) }
            }
            if !audio.isEmpty { codecs[group] = audio.joined(separator: ",") }
        }
        return codecs
    }
}

enum URIRewriting {
    /// URIs that are for the player itself and pass through as written: inline `data:` and FairPlay's
    /// `skd:` key requests. Any other scheme (`ftp:`, `file:`) is neither fetched nor passed on.
    static func passesThrough(_ uri: String) -> Bool {
        let lower = uri.lowercased()
        return lower.hasPrefix("data:") || lower.hasPrefix("skd:")
    }

    /// Tags whose value is a number, a date or a title, not an attribute list: never read as one.
    static let plainTags: Set<String> = [
        "EXTINF", "EXT-X-BYTERANGE", "EXT-X-PROGRAM-DATE-TIME", "EXT-X-TARGETDURATION", "EXT-X-MEDIA-SEQUENCE",
        "EXT-X-DISCONTINUITY-SEQUENCE", "EXT-X-VERSION", "EXT-X-PLAYLIST-TYPE", "EXT-X-BITRATE",
    ]

    /// Attributes whose value is a URI a player might fetch.
    static func isURIAttribute(_ name: String) -> Bool {
        name == "URI" || name.hasSuffix("-URI") || name == "X-ASSET-LIST"
    }

    /// The tag without the URI attributes the rewriter did not rewrite (`rewritten` names those it did):
    /// an upstream URL, often with its token, in a tag Pitlane does not know (or in an attribute it does
    /// not expect) never reaches the player. The rest of the tag stays as it was. Found by fuzzing.
    static func scrubbed(_ tag: Tag, rewritten: Set<String> = [], report: (String) -> Void) -> Tag {
        guard !plainTags.contains(tag.name), let value = tag.value, value.contains("URI") || value.contains("X-ASSET-LIST") else {
            return tag
        }
        var attributes = tag.attributes
        // Each entry by its own value: a second `URI` after a `data:` one is the one hls.js reads.
        let isStray: (AttributeList.Entry) -> Bool = { entry in
            isURIAttribute(entry.name) && !rewritten.contains(entry.name)
                && !passesThrough(entry.rawValue.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
        let stray = attributes.entries.filter(isStray)
        guard !stray.isEmpty else { return tag }
        attributes.removeAll(where: isStray)
        for entry in stray { report("removed \(entry.name) from \(tag.name): a URI Pitlane does not rewrite") }
        var scrubbed = tag
        scrubbed.attributes = attributes
        return scrubbed
    }
}
