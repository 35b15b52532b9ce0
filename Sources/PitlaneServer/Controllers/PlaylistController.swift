import Foundation
import Hummingbird
import NIOCore
import PitlaneCore

/// `/playlist.m3u`: every playable picture (or not yet checked), best first: a feed once, a stream alone as itself, as an extended M3U whose URLs point at Pitlane's proxy, so VLC, Kodi,
/// Jellyfin or Threadfin can use Pitlane as their tuner.
/// With accounts, every URL carries the user's playback token as its prefix (`/t/{token}/hls/…`).
struct PlaylistController<Context: RequestContext & UserRequestContext>: Sendable {
    let catalog: StreamCatalog
    let accounts: Accounts?

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("playlist.m3u", use: playlist)
    }

    @Sendable func playlist(_ request: Request, context: Context) async throws -> Response {
        var base = Self.baseURL(of: request)
        if let accounts, let user = context.user, let account = try accounts.account(user) {
            base += "/t/\(account.playbackToken)"
        }
        var text = "#EXTM3U\n"
        // One entry per picture: a feed that more than one playable stream carries is listed once (and fails
        // over between them); a stream alone in its feed is listed as itself.
        for feed in FeedGrouping.feeds(await catalog.all()) {
            let playable = feed.members.filter { $0.health?.playable != false }
            guard let first = playable.first?.descriptor else { continue }
            let (id, title, group) = playable.count > 1 ? (feed.id, feed.title, "Feeds") : (first.id, first.title, first.source)
            let name = title.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
            text += "#EXTINF:-1 tvg-id=\"\(Self.attribute(id))\" tvg-name=\"\(Self.attribute(name))\" "
            text += "group-title=\"\(Self.attribute(group))\",\(name)\n"
            text += "\(base)/hls/\(id)/master.m3u8\n"
        }
        return Response(
            status: .ok, headers: [.contentType: "audio/x-mpegurl; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The URL this request reached Pitlane at, honouring a reverse proxy's X-Forwarded-Proto/Host.
    static func baseURL(of request: Request) -> String {
        let forwardedHost = request.headers[values: .init("X-Forwarded-Host")!].first
        let forwardedProto = request.headers[values: .init("X-Forwarded-Proto")!].first
        let host = forwardedHost ?? request.head.authority ?? "127.0.0.1:8080"
        let scheme = forwardedProto ?? "http"
        return "\(scheme)://\(host)"
    }

    static func attribute(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "'")
    }
}
