import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PitlaneServer
import ServiceLifecycle

/// A hostile little CDN on loopback: token-checked URLs that die on rotation, a Referer check, Range
/// support, a redirect and disguised segment extensions. Records every request it gets.
final class FixtureOrigin: @unchecked Sendable {
    struct Seen: Sendable {
        var path: String
        var query: String
        var headers: HTTPFields
        var authority: String? = nil
    }

    private let lock = NSLock()
    private var token = "t1"
    private var seen: [Seen] = []
    let address = ServerAddress()
    /// The loopback address it listens on (127.0.0.2 plays a public server in the SSRF tests).
    let host: String
    static let referer = "https://fixture.example/watch"

    init(host: String = "127.0.0.1") {
        self.host = host
    }

    /// Runs `body` while `origins` serve, with their URLs; stops them whatever happens.
    static func serving(_ origins: [FixtureOrigin], _ body: @Sendable ([URL]) async throws -> Void) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let group = ServiceGroup(configuration: .init(services: origins.map { $0.makeApplication() }, logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let outcome: Result<Void, Error>
            do {
                var urls: [URL] = []
                for origin in origins {
                    guard let url = await origin.address.wait() else { throw HarnessError.timedOut("origin") }
                    urls.append(url)
                }
                try await body(urls)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try outcome.get()
            try await tasks.waitForAll()
        }
    }

    var currentToken: String {
        get { lock.withLock { token } }
        set { lock.withLock { token = newValue } }
    }

    var requests: [Seen] { lock.withLock { seen } }

    /// Deterministic segment bytes, large enough to arrive in several chunks.
    static func segment(_ number: Int) -> [UInt8] {
        (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ number) }
    }

    func makeApplication() -> some ApplicationProtocol {
        let router = Router()
        router.get("redirect/master.m3u8") { request, _ -> Response in
            self.record(request)
            return Response(status: .found, headers: [.location: "/live/master.m3u8?" + (request.uri.query ?? "")])
        }
        router.get("live/:file") { request, context -> Response in
            self.record(request)
            let file = try context.parameters.require("file")
            guard request.uri.queryParameters.get("token") == self.currentToken else { return Self.plain(.forbidden, "token expired") }
            guard let referer = request.headers[.referer], referer == Self.referer || referer.hasPrefix(self.base) else {
                return Self.plain(.forbidden, "hotlinking denied")
            }
            let token = self.currentToken
            switch file {
            case "master.m3u8":
                return Self.playlist(
                    """
                    #EXTM3U
                    #EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360
                    low.m3u8?token=\(token)
                    #EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720
                    high.m3u8?token=\(token)
                    """)
            case "low.m3u8", "high.m3u8":
                let ext = file == "low.m3u8" ? "png" : "ts"
                return Self.playlist(
                    """
                    #EXTM3U
                    #EXT-X-TARGETDURATION:2
                    #EXT-X-MEDIA-SEQUENCE:40
                    #EXTINF:2,
                    seg40.\(ext)?token=\(token)
                    #EXTINF:2,
                    seg41.\(ext)?token=\(token)
                    """)
            case "html.m3u8":
                return Response(
                    status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: .init(string: "<html>nope</html>")))
            default:
                guard file.hasPrefix("seg"), let number = Int(file.dropFirst(3).prefix { $0.isNumber }) else {
                    return Self.plain(.notFound, "no")
                }
                return Self.bytes(
                    Self.segment(number), range: request.headers[.range], contentType: file.hasSuffix(".png") ? "image/png" : "video/mp2t")
            }
        }
        addSiteRoutes(to: router)
        addScriptedRoutes(to: router)
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: 0)),
            onServerRunning: { channel in self.address.set(URL(string: "http://\(self.host):\(channel.localAddress!.port!)/")!) })
    }

    /// This origin's own URL (`http://127.0.0.1:PORT/`).
    var base: String { address.current?.absoluteString ?? "http://127.0.0.1/" }

    /// The fixture sites: a page with nested iframes that check their Referer, a JSON API, an M3U list,
    /// a source that never answers and one that answers garbage.
    func addSiteRoutes(to router: Router<BasicRequestContext>) {
        router.get("site/watch.html") { request, _ -> Response in
            self.record(request)
            let escaped = (self.base + "live/master.m3u8?token=" + self.currentToken).replacingOccurrences(of: "/", with: "\\/")
            return Self.html(
                """
                <html><head><title>Fixture Grand Prix</title></head><body>
                <script>window.player = {"source": "\(escaped)"};</script>
                <iframe src="/site/embed.html"></iframe></body></html>
                """)
        }
        router.get("site/embed.html") { request, _ -> Response in
            self.record(request)
            guard request.headers[.referer] == self.base + "site/watch.html" else { return Self.plain(.forbidden, "embed only") }
            return Self.html("<iframe src='player.html?v=2'></iframe>")
        }
        router.get("site/player.html") { request, _ -> Response in
            self.record(request)
            guard request.headers[.referer] == self.base + "site/embed.html" else { return Self.plain(.forbidden, "embed only") }
            return Self.html("<script>load({file: '/live/high.m3u8?token=\(self.currentToken)'})</script>")
        }
        router.get("api/events.json") { request, _ -> Response in
            self.record(request)
            let json = """
                {"data": {"events": [{"streams": [
                  {"hls": "\(self.base)live/master.m3u8?token=\(self.currentToken)", "name": "Race (API)", "q": "720p", "id": "api-race"},
                  {"hls": "/live/low.m3u8?token=\(self.currentToken)", "name": "Race low", "q": "360p", "id": "api-low"}
                ]}]}}
                """
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: json)))
        }
        router.get("lists/f1.m3u") { request, _ -> Response in
            self.record(request)
            let list = """
                #EXTM3U
                #EXTINF:-1 tvg-id="world" group-title="F1",World feed (list)
                #EXTVLCOPT:http-referrer=\(Self.referer)
                /live/master.m3u8?token=other-format&channel=world
                """
            return Response(status: .ok, headers: [.contentType: "audio/x-mpegurl"], body: .init(byteBuffer: .init(string: list)))
        }
        router.get("redirect-to") { request, _ -> Response in
            self.record(request)
            return Response(status: .found, headers: [.location: request.uri.queryParameters.get("to") ?? "/"])
        }
        router.get("gzip/:file") { request, context -> Response in
            self.record(request)
            let playlist = try context.parameters.require("file").hasSuffix(".m3u8")
            let bytes = Data(base64Encoded: playlist ? Self.gzippedPlaylist : Self.gzippedSegment)!
            return Response(
                status: .ok,
                headers: [
                    .contentType: playlist ? "application/vnd.apple.mpegurl" : "video/mp2t", .contentEncoding: "gzip",
                    .contentLength: "\(bytes.count)",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("echo") { request, _ -> Response in
            self.record(request)
            return Self.plain(.ok, "echo")
        }
        router.get("hang") { request, _ -> Response in
            try await Task.sleep(for: .seconds(Double(request.uri.queryParameters.get("seconds") ?? "") ?? 3))
            return Self.html("too late")
        }
        router.get("jolpica/:file") { request, context -> Response in
            self.record(request)
            guard try context.parameters.require("file") == "2026.json" else { return Self.plain(.notFound, "no such season") }
            let json = """
                {"MRData": {"series": "f1", "limit": "100", "offset": "0", "total": "1", "RaceTable": {"season": "2026", "Races": [
                  {"season": "2026", "round": "1", "raceName": "Fixture Grand Prix", "date": "2026-12-13", "time": "13:00:00Z",
                   "Circuit": {"circuitId": "yas_marina", "circuitName": "Yas Marina Circuit",
                               "Location": {"lat": "24.4672", "long": "54.6031", "locality": "Abu Dhabi", "country": "UAE"}},
                   "Qualifying": {"date": "2026-12-12", "time": "14:00:00Z"}}]}}}
                """
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: json)))
        }
        router.get("garbage.json") { request, _ -> Response in
            Self.html("<html><body>502 Bad Gateway</body></html>")
        }
    }

    /// gzip of a small media playlist and of 16 KiB of bytes 0…255 repeated (made with Python's gzip, mtime 0).
    static let gzippedPlaylist =
        "H4sIAAAAAAACA1N2jQjxNQ7lUgbSuhG6IY5B7q4hLqFBjiGe/n5WRjBxX1cXT0fdYNfAUFc/Z1crEwOwhKefm5WRDldxarqJgV5JMRcAmmHLkE0AAAA="
    static let gzippedSegment =
        "H4sIAAAAAAACA+3P1yIQAAAFUEIZSWRmZq/sLSNJZvYq2auMEErITKWMUBSypWETKXs2zKZRsmU17BW/0cM9f3AICPcQEZPs3UdKRk6xn/IA1UFqmkO0dPQMjEyHmVlY2dg5jnBycfPw8vELCAoJHxURFROXkJSSlpGVk1dQPKakrKJ6XO2E+kmNU5pa2jq6eqf1DQyNjE1MzcwtLM+ctTpnbWNrZ+/g6OTs4nr+gpu7h+dFL2+fS75+/pevBFwNDAq+FhIaFh4ReT3qxs1b0bfvxMTGxd9NSEy6dz855cHD1LT0RxmZWdk5uXn5jwuePH32vLCouKS0rLyi8kVV9cuaV69r6+obGpuaW1rb2jvevH33vrOru6e378PHT5+/fO0fGBz69n34x8jo2PjE5NT0z5nZufmFX7///F1cWl5ZXVvf2Nza/rdDgD/++OOPP/74448//vjjjz/++OOPP/74448//vjjjz/++OOPP/74448//vjjjz/++OOPP/74448//vjjjz/++OOPP/74448//vjjjz/+/8F/F/AiF+gAQAAA"

    static func html(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: .init(string: text)))
    }

    func record(_ request: Request) {
        lock.withLock {
            seen.append(
                Seen(path: request.uri.path, query: request.uri.query ?? "", headers: request.headers, authority: request.head.authority))
        }
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, body: .init(byteBuffer: .init(string: text)))
    }

    static func playlist(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/vnd.apple.mpegurl"], body: .init(byteBuffer: .init(string: text)))
    }

    /// Serves bytes, honouring a single `bytes=a-b` range with 206.
    static func bytes(_ data: [UInt8], range: String?, contentType: String) -> Response {
        if let range, range.hasPrefix("bytes="), let dash = range.firstIndex(of: "-") {
            let start = Int(range[range.index(range.startIndex, offsetBy: 6)..<dash]) ?? 0
            let end = min(Int(range[range.index(after: dash)...]) ?? data.count - 1, data.count - 1)
            let slice = Array(data[start...end])
            return Response(
                status: .partialContent,
                headers: [
                    .contentType: contentType, .contentRange: "bytes \(start)-\(end)/\(data.count)", .contentLength: "\(slice.count)",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: slice)))
        }
        return Response(
            status: .ok, headers: [.contentType: contentType, .acceptRanges: "bytes", .contentLength: "\(data.count)"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
