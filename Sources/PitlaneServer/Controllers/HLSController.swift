import Foundation
import Hummingbird
import PitlaneCore

/// The proxy's routes (DESIGN.md "Proxy URL scheme"): players only ever see these URLs.
struct HLSController<Context: RemoteAddressRequestContext>: Sendable {
    let proxy: HLSProxy
    let viewers: ViewerLeases

    func addRoutes(to group: RouterGroup<Context>) {
        group.get(":stream/master.m3u8", use: master)
        group.get(":stream/v/{key}.m3u8", use: variant)
        group.get(":stream/s/:file", use: resource)
    }

    @Sendable func master(_ request: Request, context: Context) async throws -> Response {
        let stream = try context.parameters.require("stream")
        watching(stream, request: request, context: context)
        return await proxy.master(stream: stream).response
    }

    @Sendable func variant(_ request: Request, context: Context) async throws -> Response {
        let stream = try context.parameters.require("stream")
        let key = try context.parameters.require("key")
        watching(stream, request: request, context: context)
        let directives = request.uri.queryParameters.map { URLQueryItem(name: String($0.key), value: String($0.value)) }
        return await proxy.variant(stream: stream, key: key, directives: directives).response
    }

    /// A playlist request renews the player's viewer lease (its address and user agent tell it apart).
    func watching(_ stream: String, request: Request, context: Context) {
        let address = context.remoteAddress?.ipAddress ?? "-"
        viewers.touch(stream: stream, viewer: address + "|" + (request.headers[.userAgent] ?? ""))
    }

    @Sendable func resource(_ request: Request, context: Context) async throws -> Response {
        let stream = try context.parameters.require("stream")
        let file = try context.parameters.require("file")
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else {
            return JSONResponse.error("invalid handle", status: .forbidden, code: "invalid_handle")
        }
        let token = String(file[..<dot])
        let ext = String(file[file.index(after: dot)...]).lowercased()
        return await proxy.resource(stream: stream, token: token, ext: ext, range: request.headers[.range]).response
    }
}
