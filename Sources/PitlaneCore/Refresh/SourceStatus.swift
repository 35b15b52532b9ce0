import Foundation

/// How a source's last runs went: what `/api/sources` shows so a user can see which source is broken.
public struct SourceStatus: Sendable, Equatable, Codable {
    public var id: String
    public var kind: String
    public var enabled: Bool
    public var lastRun: Date?
    public var lastSuccess: Date?
    /// Seconds the last run took.
    public var duration: Double?
    public var streamsFound: Int?
    public var lastError: String?
    /// What the last run said about itself (a browser run: requests made, playlists seen, requests refused).
    public var notes: [String]?

    public init(id: String, kind: String, enabled: Bool = true) {
        self.id = id
        self.kind = kind
        self.enabled = enabled
    }
}
