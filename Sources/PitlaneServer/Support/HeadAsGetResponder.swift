import HTTPTypes
import Hummingbird

/// Answers HEAD like GET without the body. Some players and IPTV tools probe playlists and segments with
/// HEAD first; a 404 there would make them give up on a stream that plays. It wraps the router (rather than
/// being router middleware) because routing happens by method before middleware runs.
struct HeadAsGetResponder<Base: HTTPResponder>: HTTPResponder {
    typealias Context = Base.Context
    let base: Base

    @Sendable func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .head else { return try await base.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await base.respond(to: Request(head: head, body: request.body), context: context)
        let length = response.headers[.contentLength]
        response.body = ResponseBody()
        response.headers[.contentLength] = length
        return response
    }
}
