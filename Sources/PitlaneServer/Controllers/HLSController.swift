import Foundation
import Hummingbird
import PitlaneCore

/// The proxy's routes (DESIGN.md "Proxy URL scheme"): players only ever see these URLs. A feed's id
/// (`feed-…`) in place of a stream's plays the feed, with failover.
struct HLSController<Context: RemoteAddressRequestContext & UserRequestContext>: Sendable {
    let proxy: HLSProxy
    let feeds: FeedProxy
    let viewers: ViewerLeases

    func addRoutes(to group: RouterGroup<Context>) {
        group.get(":stream/master.m3u8", use: master)
        group.get(":stream/v/{key}.m3u8", use: variant)
        group.get(":stream/s/:file", use: resource)
    }

    @Sendable func master(_ request: Request, context: Context) async throws -> Response {
        let stream = try context.parameters.require("stream")
        let reply = FeedProxy.isFeed(stream) ? await feeds.master(feed: stream) : await proxy.master(stream: stream)
        return watched(reply.response, stream: await counted(stream), request: request, context: context)
    }

    @Sendable func variant(_ request: Request, context: Context) async throws -> Response {
        let stream = try context.parameters.require("stream")
        let key = try context.parameters.require("key")
        let directives = request.uri.queryParameters.map { URLQueryItem(name: String($0.key), value: String($0.value)) }
        let reply =
            FeedProxy.isFeed(stream)
            ? await feeds.variant(feed: stream, key: key) : await proxy.variant(stream: stream, key: key, directives: directives)
        return watched(reply.response, stream: await counted(stream), request: request, context: context)
    }

    /// Whom a viewer watches: a feed's viewers count for the member it plays (`pitlane_stream_viewers`).
    func counted(_ stream: String) async -> String {
        guard FeedProxy.isFeed(stream) else { return stream }
        return await feeds.session(stream)?.playing ?? stream
    }

    /// A playlist that was served renews its player's viewer lease (the player's address, the one a proxy in
    /// front forwarded for, and its user agent tell it apart).
    func watched(_ response: Response, stream: String, request: Request, context: Context) -> Response {
        if response.status == .ok {
            let address = ClientAddress.of(request, peer: context.remoteAddress)
            viewers.touch(stream: stream, viewer: address + "|" + String((request.headers[.userAgent] ?? "").prefix(200)))
        }
        return privately(response, request: request, context: context)
    }

    /// An answer to a signed-in browser or an API token (not a `/t/{token}/` path) is `private`: a cache in
    /// front keys by URL alone and would hand it to anyone who asks for that URL without credentials.
    func privately(_ response: Response, request: Request, context: Context) -> Response {
        guard context.user != nil, !request.uri.path.hasPrefix("/t/"), let control = response.headers[.cacheControl],
            !control.contains("no-store")
        else { return response }
        var response = response
        response.headers[.cacheControl] = "private, " + control.replacingOccurrences(of: "public, ", with: "")
        return response
    }

    @Sendable func resource(_ request: Request, context: Context) async throws -> Response {
        let stream = try context.parameters.require("stream")
        let file = try context.parameters.require("file")
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else {
            return JSONResponse.error("invalid handle", status: .forbidden, code: "invalid_handle")
        }
        let token = String(file[..<dot])
        let ext = String(file[file.index(after: dot)...]).lowercased()
        let range = request.headers[.range]
        let reply =
            FeedProxy.isFeed(stream)
            ? await feeds.resource(feed: stream, token: token, ext: ext, range: range)
            : await proxy.resource(stream: stream, token: token, ext: ext, range: range)
        let response = reply.response
        return privately(response, request: request, context: context)
    }
}
