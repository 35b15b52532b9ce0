import Foundation

/// What a media playlist carries, as its master says: it decides the type of segments whose upstream
/// disguises them (`.png`, `.bin`, no extension).
public enum MediaContext: Sendable, Equatable {
    case video
    /// An AUDIO rendition, with the audio codecs of the variants that use its group (`mp4a.40.2`, `ec-3`).
    case audio(codecs: String?)
    case subtitles
    /// An EXT-X-IMAGE-STREAM-INF playlist (thumbnails): its segments are pictures.
    case images
}

/// Chooses the file extension of a proxied resource URL. ffmpeg-based players (mpv, Kodi, Jellyfin) refuse
/// segment URLs without a media extension, and upstreams sometimes disguise segments as `.png` or `.css`.
public enum MediaExtension {
    /// The type of an HLS playlist (RFC 8216bis §4).
    public static let playlistType = "application/vnd.apple.mpegurl"

    /// Extensions that name what the resource really is, kept when the upstream uses one of them.
    public static let known: Set<String> = [
        "ts", "m4s", "mp4", "m4a", "m4v", "aac", "ac3", "ec3", "mp3", "vtt", "webvtt", "cmfv", "cmfa", "cmft", "key", "json",
    ]
    static let pictures: Set<String> = ["jpg", "jpeg", "png", "webp"]

    /// The extension for a resource of `kind` at `url` in a playlist whose context is described by the flags.
    public static func choose(kind: ResourceKind, url: URL?, playlistHasMap: Bool, context: MediaContext = .video) -> String {
        switch kind {
        case .key: return "key"
        case .data, .assetList: return "json"
        case .asset: return "m3u8"
        default: break
        }
        let ext = url?.pathExtension.lowercased() ?? ""
        if context == .images, kind == .segment { return pictures.contains(ext) ? ext : "jpg" }
        if known.contains(ext), ext != "key", ext != "json" { return ext }
        switch (kind, context) {
        case (.map, _): return "mp4"
        case (_, .subtitles): return "vtt"
        case (_, .audio(let codecs)) where !playlistHasMap: return packedAudioExtension(codecs)
        default: return playlistHasMap ? "m4s" : "ts"
        }
    }

    /// Audio segments without an init section are packed audio (RFC 8216bis §3.4) named by their codec;
    /// without a known codec, MPEG-TS. Players read the bytes either way; the resource route also sends
    /// the type the first bytes show.
    static func packedAudioExtension(_ codecs: String?) -> String {
        let lower = codecs?.lowercased() ?? ""
        if lower.contains("mp4a.40.34") || lower.contains("mp4a.6b") || lower.contains("mp4a.69") { return "mp3" }
        if lower.contains("mp4a") { return "aac" }
        if lower.contains("ec-3") { return "ec3" }
        if lower.contains("ac-3") { return "ac3" }
        return "ts"
    }

    /// The Content-Type to send when the upstream sends none or a disguise (image/png for a segment).
    public static func contentType(forExtension ext: String) -> String {
        switch ext {
        case "ts": "video/mp2t"
        case "m4s", "mp4", "m4v", "cmfv": "video/mp4"
        case "m4a", "cmfa": "audio/mp4"
        case "aac": "audio/aac"
        case "ac3": "audio/ac3"
        case "ec3": "audio/eac3"
        case "mp3": "audio/mpeg"
        case "vtt", "webvtt", "cmft": "text/vtt"
        case "json": "application/json"
        case "m3u8": playlistType
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "webp": "image/webp"
        default: "application/octet-stream"
        }
    }

    /// The type a segment's first bytes show, for bodies whose upstream type is a disguise: MPEG-TS sync
    /// bytes, an ISO BMFF box, packed audio (ADTS, MPEG audio, AC-3 or E-AC-3, after the ID3 timestamp tag
    /// they start with), WebVTT. Nil when they show none of these.
    public static func sniff(_ bytes: some Collection<UInt8>) -> String? {
        let head = Array(bytes.prefix(512))
        guard head.count >= 4 else { return nil }
        if head[0] == 0x47, head.count < 189 || head[188] == 0x47 { return "video/mp2t" }
        if head.count >= 8 {
            let box = String(decoding: head[4..<8], as: UTF8.self)
            if ["ftyp", "styp", "moof", "moov", "sidx", "emsg", "prft"].contains(box) { return "video/mp4" }
        }
        if head.starts(with: Array("WEBVTT".utf8)) || head.starts(with: [0xEF, 0xBB, 0xBF, 0x57]) { return "text/vtt" }
        var offset = 0
        if head.count >= 10, head[0] == 0x49, head[1] == 0x44, head[2] == 0x33 {  // "ID3": skip the tag
            let size = head[6..<10].reduce(0) { ($0 << 7) | Int($1 & 0x7F) }
            offset = 10 + size + (head[5] & 0x10 != 0 ? 10 : 0)
        }
        return packedAudio(head, at: offset)
    }

    /// The audio frame that starts at `offset`, if the bytes reach that far.
    static func packedAudio(_ bytes: [UInt8], at offset: Int) -> String? {
        guard offset >= 0, offset + 2 <= bytes.count else { return nil }
        let first = bytes[offset]
        let second = bytes[offset + 1]
        if first == 0x0B, second == 0x77 {
            guard offset + 6 <= bytes.count else { return nil }
            return bytes[offset + 5] >> 3 > 10 ? "audio/eac3" : "audio/ac3"  // bsid: up to 10 AC-3, 16 E-AC-3
        }
        guard first == 0xFF, second & 0xE0 == 0xE0 else { return nil }
        return (second >> 1) & 0x03 == 0 ? "audio/aac" : "audio/mpeg"  // layer 0 is ADTS; 1–3 are MPEG audio
    }
}
