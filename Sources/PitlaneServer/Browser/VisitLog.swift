import Foundation
import PitlaneCore

/// What one visit's Network events said, kept small: the playlist requests with their headers, status
/// and body, the policy's verdicts and refusals, the request count.
struct VisitLog {
    let visit: BrowserVisit
    var requests = 0
    var refused: [String] = []
    var loadError: String?
    /// Host and port → why refused, or nil when allowed.
    var verdicts: [String: String?] = [:]
    /// Playlist requests by request id, in the order they were first seen.
    private(set) var playlistOrder: [String] = []
    private var playlists: [String: BrowserReport.Sighting] = [:]
    /// Every request's headers (as the page set them, then as sent), until there are too many.
    private var sent: [String: [String: JSONValue]] = [:]
    private var sentExtra: [String: [String: JSONValue]] = [:]
    static let remembered = 5_000

    /// A URL as the page wrote it, without its query (tokens) for logs and status.
    static func redacted(_ text: String) -> String {
        URL(string: text).map(URIResolver.redacted) ?? String(text.prefix { $0 != "?" && $0 != "#" }.prefix(80))
    }

    init(visit: BrowserVisit) {
        self.visit = visit
    }

    mutating func record(_ event: DevToolsConnection.Event) {
        let params = event.params
        guard let id = params["requestId"]?.string else { return }
        switch event.method {
        case "Network.requestWillBeSent":
            guard let url = params["request"]?["url"]?.string else { return }
            if params["redirectResponse"] == nil { requests += 1 }
            let headers = params["request"]?["headers"]?.object ?? [:]
            if url.utf8.count <= 8192, sent.count < Self.remembered || sent[id] != nil { sent[id] = headers }
            if visit.isPlaylist(url: url) { notePlaylist(id, url: url) }
        case "Network.requestWillBeSentExtraInfo":
            if sentExtra.count < Self.remembered, let headers = params["headers"]?.object { sentExtra[id] = headers }
        case "Network.responseReceived":
            let response = params["response"]
            guard let url = response?["url"]?.string else { return }
            let type = response?["mimeType"]?.string
            if playlists[id] != nil || visit.isPlaylist(url: url, contentType: type) {
                notePlaylist(id, url: url)
                playlists[id]?.status = response?["status"]?.int
            }
        case "Network.loadingFailed":
            // Refused, blocked or cancelled: not a playlist anyone can play.
            if playlists.removeValue(forKey: id) != nil { playlistOrder.removeAll { $0 == id } }
        default:
            return
        }
    }

    /// Whether a playlist request has been answered with success (the visit can end soon after).
    var hasAnsweredPlaylist: Bool { playlists.values.contains(where: \.succeeded) }

    private mutating func notePlaylist(_ id: String, url text: String) {
        guard let url = URL(string: text) else { return }
        if playlists[id] == nil {
            guard playlistOrder.count < 100 else { return }
            playlistOrder.append(id)
        }
        playlists[id, default: .init(url: url)].url = url
    }

    /// Whether the answer to `id` is a playlist worth reading (to tell a master from its variants).
    func wantsBody(_ id: String) -> Bool {
        playlists[id]?.succeeded ?? false
    }

    mutating func setBody(_ body: String?, base64: Bool, for id: String) {
        guard let body, body.utf8.count <= visit.documentLimit * 4 / 3 + 4 else { return }
        playlists[id]?.body = base64 ? Data(base64Encoded: body).map { String(decoding: $0, as: UTF8.self) } : body
    }

    func report(title: String?) -> BrowserReport {
        let sightings = playlistOrder.compactMap { id -> BrowserReport.Sighting? in
            guard var sighting = playlists[id] else { return nil }
            // The headers as sent (cookies included) win over those the page set.
            var merged: [(String, String)] = []
            for source in [sentExtra[id] ?? [:], sent[id] ?? [:]] {
                for (name, value) in source.sorted(by: { $0.key < $1.key }) {
                    guard let value = value.string, !merged.contains(where: { $0.0.caseInsensitiveCompare(name) == .orderedSame }) else {
                        continue
                    }
                    merged.append((name, value))
                }
            }
            sighting.headers = HeaderProfile(merged.map { .init(name: $0.0, value: $0.1) })
            return sighting
        }
        return BrowserReport(
            title: title, playlists: sightings, refused: refused, requests: requests, loadError: loadError)
    }
}
