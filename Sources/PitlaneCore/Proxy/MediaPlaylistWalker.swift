import Foundation

/// One URI in a media playlist together with the position that identifies it across token refreshes.
public struct MediaReference: Sendable, Equatable {
    public var line: Int
    public var kind: ResourceKind
    /// For segments and parts: the sequence number of the segment; for keys and maps: of the next segment.
    public var msn: Int
    public var part: Int?
    public var uri: String
    /// The attribute carrying the URI, or nil when the URI is a line of its own (a segment).
    public var attribute: String?
    /// For segments and parts: the seconds it plays (EXTINF, DURATION), when the playlist says.
    public var duration: Double?
    /// For `EXT-X-RENDITION-REPORT`: the reference points to another media playlist, not a resource.
    public var isRenditionReport: Bool = false
}

/// Walks a media playlist's URI-bearing lines in order, numbering segments from EXT-X-MEDIA-SEQUENCE and
/// parts within their parent segment, as RFC 8216bis §6.2.2 and §6.3.2 define them.
public enum MediaPlaylistWalker {
    public static func references(in playlist: Playlist) -> [MediaReference] {
        var references: [MediaReference] = []
        var msn = playlist.mediaSequence
        var partIndex = 0
        var duration: Double?
        for (position, line) in playlist.lines.enumerated() {
            switch line {
            case .uri(let uri):
                references.append(MediaReference(line: position, kind: .segment, msn: msn, uri: uri, duration: duration))
                msn += 1
                partIndex = 0
                duration = nil
            case .tag(let tag):
                switch tag.name {
                case "EXTINF":
                    duration = (tag.value ?? "").split(separator: ",", maxSplits: 1).first.flatMap {
                        Double($0.trimmingCharacters(in: .whitespaces))
                    }
                case "EXT-X-SKIP":
                    // A delta update: the skipped segments still count (RFC 8216bis §4.4.5.2).
                    msn = Playlist.skipping(tag, from: msn)
                case "EXT-X-MAP":
                    if let uri = tag.attributes["URI"] {
                        references.append(MediaReference(line: position, kind: .map, msn: msn, uri: uri, attribute: "URI"))
                    }
                case "EXT-X-KEY":
                    let attributes = tag.attributes
                    if let uri = attributes["URI"], attributes["METHOD"] != "NONE", !URIRewriting.passesThrough(uri) {
                        references.append(MediaReference(line: position, kind: .key, msn: msn, uri: uri, attribute: "URI"))
                    }
                case "EXT-X-PART":
                    let attributes = tag.attributes
                    if let uri = attributes["URI"] {
                        references.append(
                            MediaReference(
                                line: position, kind: .part, msn: msn, part: partIndex, uri: uri, attribute: "URI",
                                duration: attributes["DURATION"].flatMap(Double.init)))
                        partIndex += 1
                    }
                case "EXT-X-PRELOAD-HINT":
                    let attributes = tag.attributes
                    if let uri = attributes["URI"] {
                        let isMap = attributes["TYPE"] == "MAP"
                        references.append(
                            MediaReference(
                                line: position, kind: isMap ? .map : .part, msn: msn, part: isMap ? nil : partIndex, uri: uri,
                                attribute: "URI"))
                    }
                case "EXT-X-DATERANGE":
                    // Interstitials (HLS 2nd ed. Appendix D): a playlist and an asset list the player loads.
                    let attributes = tag.attributes
                    for (attribute, kind) in [("X-ASSET-URI", ResourceKind.asset), ("X-ASSET-LIST", .assetList)] {
                        if let uri = attributes[attribute] {
                            references.append(MediaReference(line: position, kind: kind, msn: msn, uri: uri, attribute: attribute))
                        }
                    }
                case "EXT-X-RENDITION-REPORT":
                    if let uri = tag.attributes["URI"] {
                        references.append(
                            MediaReference(
                                line: position, kind: .segment, msn: msn, uri: uri, attribute: "URI", isRenditionReport: true))
                    }
                default:
                    continue
                }
            case .comment:
                continue
            }
        }
        return references
    }

    /// Finds the upstream URI of the resource at a position in a (refreshed) playlist.
    public static func locate(kind: ResourceKind, msn: Int, part: Int?, in playlist: Playlist) -> String? {
        let candidates = references(in: playlist).filter { !$0.isRenditionReport && $0.kind == kind }
        switch kind {
        case .segment:
            return candidates.first { $0.msn == msn }?.uri
        case .part:
            return candidates.first { $0.msn == msn && $0.part == part }?.uri
        case .map, .key:
            // The key or map in effect for the segment: the last one declared at or before it.
            return candidates.last { $0.msn <= msn }?.uri
        case .data, .asset, .assetList:
            return nil
        }
    }
}
