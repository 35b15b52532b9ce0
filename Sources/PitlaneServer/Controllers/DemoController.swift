import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PitlaneCore

/// The demo origin under `/demo/`: looping test-card feeds served as live HLS with CDN-style tokens that
/// expire, so a fresh install exercises the whole refresh path without any outside host.
struct DemoController<Context: RequestContext>: Sendable {
    let media: DemoMedia
    let tokens: DemoTokens
    let clock: any WallClock

    func addRoutes(to group: RouterGroup<Context>) {
        group.get(":feed/master.m3u8", use: master)
        group.get(":feed/:rendition/live.m3u8", use: live)
        group.get(":feed/:rendition/:segment", use: segment)
    }

    @Sendable func master(_ request: Request, context: Context) async throws -> Response {
        let feedID = try context.parameters.require("feed")
        guard let feed = DemoFeed.all.first(where: { $0.id == feedID }) else {
            return JSONResponse.error("no demo feed \(feedID)", status: .notFound)
        }
        if let denied = check(request, feed: feedID) { return denied }
        return Self.playlist(DemoTimeline.masterPlaylist(for: feed, query: Self.tokenQuery(request)))
    }

    @Sendable func live(_ request: Request, context: Context) async throws -> Response {
        let feedID = try context.parameters.require("feed")
        let rendition = try context.parameters.require("rendition")
        guard let files = media.segments(feed: feedID, rendition: rendition) else {
            return JSONResponse.error("no such demo rendition", status: .notFound)
        }
        if let denied = check(request, feed: feedID) { return denied }
        let timeline = DemoTimeline(segmentCount: files.count)
        return Self.playlist(timeline.mediaPlaylist(at: clock.now(), query: Self.tokenQuery(request)))
    }

    @Sendable func segment(_ request: Request, context: Context) async throws -> Response {
        let feedID = try context.parameters.require("feed")
        let rendition = try context.parameters.require("rendition")
        let name = try context.parameters.require("segment")
        guard let files = media.segments(feed: feedID, rendition: rendition), name.hasSuffix(".ts"),
            let index = Int(name.dropLast(3)), files.indices.contains(index)
        else { return JSONResponse.error("no such demo segment", status: .notFound) }
        if let denied = check(request, feed: feedID) { return denied }
        return Response(
            status: .ok, headers: [.contentType: "video/mp2t", .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: files[index]))
    }

    /// 403 for a missing, forged or expired token, as a CDN would answer.
    private func check(_ request: Request, feed: String) -> Response? {
        let query = request.uri.queryParameters
        switch tokens.check(feed: feed, exp: query.get("exp"), sig: query.get("sig"), now: clock.now()) {
        case .valid: return nil
        case .expired: return JSONResponse.error("token expired", status: .forbidden, code: "token_expired")
        case .invalid: return JSONResponse.error("invalid token", status: .forbidden, code: "invalid_token")
        }
    }

    private static func tokenQuery(_ request: Request) -> String {
        let query = request.uri.queryParameters
        return "exp=\(query.get("exp") ?? "")&sig=\(query.get("sig") ?? "")"
    }

    private static func playlist(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: ProxyReply.playlistContentType, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

}

/// The demo's segment files, loaded once from the bundle (about 3.5 MB).
struct DemoMedia: Sendable {
    private let files: [String: [ByteBuffer]]

    init(directory: URL) throws {
        var files: [String: [ByteBuffer]] = [:]
        for feed in DemoFeed.all {
            for rendition in feed.renditions {
                let folder = directory.appendingPathComponent(feed.id).appendingPathComponent(rendition.name)
                let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".ts") }.sorted()
                guard !names.isEmpty else { throw DemoMediaError.missing(folder.path) }
                files["\(feed.id)/\(rendition.name)"] = try names.map {
                    ByteBuffer(bytes: try Data(contentsOf: folder.appendingPathComponent($0)))
                }
            }
        }
        self.files = files
    }

    static func bundled() throws -> DemoMedia {
        guard let directory = BundledResources.directory("demo") else { throw DemoMediaError.missing("the bundle's Resources/demo") }
        return try DemoMedia(directory: directory)
    }

    func segments(feed: String, rendition: String) -> [ByteBuffer]? {
        files["\(feed)/\(rendition)"]
    }
}

enum DemoMediaError: Error, CustomStringConvertible {
    case missing(String)

    var description: String {
        switch self {
        case .missing(let path): "demo media not found at \(path) (run scripts/make-demo-media.sh)"
        }
    }
}
