import Foundation

/// What an upstream resource is to its playlist; decides the handle's file extension and how a 403 on it
/// is re-resolved after a refresh.
public enum ResourceKind: String, Sendable, Codable, Equatable {
    case segment = "s"
    case part = "p"
    case map = "m"
    case key = "k"
    case data = "d"
    /// An interstitial's playlist (EXT-X-DATERANGE `X-ASSET-URI`): served rewritten, never relayed raw.
    case asset = "a"
    /// An interstitial's asset list (EXT-X-DATERANGE `X-ASSET-LIST`, JSON): served with its URIs rewritten.
    case assetList = "l"
}

/// The signed content of `/hls/{stream}/s/{handle}.{ext}`: the upstream URL and its position in the stream,
/// so that after a token refresh the same resource can be found again in the fresh playlist.
public struct ResourceHandle: Sendable, Codable, Equatable {
    /// The stream this handle was issued for; a handle is refused under any other stream.
    public var stream: String
    public var kind: ResourceKind
    public var url: String
    /// The variant key of the media playlist that listed the resource (nil for master-level resources).
    public var variant: String?
    /// The media sequence number of the segment the resource belongs to or applies to.
    public var msn: Int?
    /// The index of a partial segment within its parent segment (LL-HLS).
    public var part: Int?
    /// Whole seconds the segment or part plays (rounded up), from EXTINF or DURATION: its body's deadline
    /// is derived from it.
    public var duration: Int?

    public init(
        stream: String, kind: ResourceKind, url: String, variant: String? = nil, msn: Int? = nil, part: Int? = nil, duration: Int? = nil
    ) {
        self.stream = stream
        self.kind = kind
        self.url = url
        self.variant = variant
        self.msn = msn
        self.part = part
        self.duration = duration
    }

    /// A playlist's duration as whole seconds, rounded up (nil for nonsense: negative, NaN, over a day).
    public static func wholeSeconds(_ seconds: Double) -> Int? {
        guard seconds.isFinite, seconds >= 0, seconds <= 86_400 else { return nil }
        return Int(seconds.rounded(.up))
    }

    enum CodingKeys: String, CodingKey {
        case stream = "s", kind = "k", url = "u", variant = "v", msn = "n", part = "p", duration = "d"
    }
}
