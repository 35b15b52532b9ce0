import Foundation

/// Chooses the file extension of a proxied resource URL. ffmpeg-based players (mpv, Kodi, Jellyfin) refuse
/// segment URLs without a media extension, and upstreams sometimes disguise segments as `.png` or `.css`.
public enum MediaExtension {
    /// Extensions that name what the resource really is, kept when the upstream uses one of them.
    public static let known: Set<String> = [
        "ts", "m4s", "mp4", "m4a", "m4v", "aac", "ac3", "ec3", "mp3", "vtt", "webvtt", "cmfv", "cmfa", "cmft", "key", "json",
    ]

    /// The extension for a resource of `kind` at `url` in a playlist whose context is described by the flags.
    public static func choose(kind: ResourceKind, url: URL?, playlistHasMap: Bool, isSubtitles: Bool) -> String {
        switch kind {
        case .key: return "key"
        case .data: return "json"
        default: break
        }
        if let ext = url?.pathExtension.lowercased(), known.contains(ext), ext != "key", ext != "json" { return ext }
        switch kind {
        case .map: return "mp4"
        default:
            if isSubtitles { return "vtt" }
            return playlistHasMap ? "m4s" : "ts"
        }
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
        default: "application/octet-stream"
        }
    }
}
