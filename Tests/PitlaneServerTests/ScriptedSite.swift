import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The fixture origin's pages for the `browser` kind: players that build their playlist URL in script
/// (the `page` kind finds nothing in them), a page that embeds one from another origin, a hostile page
/// that aims the browser at loopback, one that never finishes loading, and one that tells whether the
/// browser kept a cookie from an earlier visit.
extension FixtureOrigin {
    /// The header the scripted player adds, and the cookies its page and API set: the CDN checks all three.
    static let playerHeader = "p1"

    func addScriptedRoutes(to router: Router<BasicRequestContext>) {
        router.get("js/watch.html") { request, _ -> Response in
            self.record(request)
            return Self.html(
                """
                <html><head><title>Scripted Grand Prix</title></head><body><script>
                document.cookie = "viewer=v1; path=/";
                fetch("/js/token" + location.search).then(r => r.json()).then(j => {
                  const url = atob(j.path) + "?token=" + j.token;
                  return fetch(url, {headers: {"X-Player": "\(Self.playerHeader)"}}).then(r => r.text()).then(text => {
                    // Like a player: the first variant next.
                    const variant = text.split("\\n").find(line => line && !line.startsWith("#"));
                    return fetch(new URL(variant, new URL(url, location.href)).href, {headers: {"X-Player": "\(Self.playerHeader)"}});
                  });
                });
                </script></body></html>
                """)
        }
        router.get("js/token") { request, _ -> Response in
            self.record(request)
            let area = request.uri.queryParameters.get("area") == "open" ? "open" : "live"
            let path = Data("/js/\(area)/master.m3u8".utf8).base64EncodedString()
            return Response(
                status: .ok, headers: [.contentType: "application/json", .setCookie: "session=s1; Path=/"],
                body: .init(byteBuffer: .init(string: #"{"path": "\#(path)", "token": "\#(self.currentToken)"}"#)))
        }
        // `live` also wants the cookies; `open` does without, for a player embedded by another site (whose
        // cookies a browser keeps from it).
        router.get("js/:area/:file") { request, context -> Response in
            self.record(request)
            let cookie = request.headers[.cookie] ?? ""
            let area = try context.parameters.require("area")
            guard area == "live" || area == "open" else { return Self.plain(.notFound, "no") }
            guard request.uri.queryParameters.get("token") == self.currentToken else { return Self.plain(.forbidden, "token expired") }
            guard request.headers[HTTPField.Name("X-Player")!] == Self.playerHeader,
                area == "open" || cookie.contains("session=s1") && cookie.contains("viewer=v1"),
                request.headers[.referer]?.hasPrefix(self.base + "js/") == true
            else { return Self.plain(.forbidden, "players only") }
            let token = self.currentToken
            switch try context.parameters.require("file") {
            case "master.m3u8":
                return Self.playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow.m3u8?token=\(token)\n")
            case "low.m3u8":
                return Self.playlist(
                    "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:40\n#EXTINF:2,\nseg40.ts?token=\(token)\n#EXTINF:2,\nseg41.ts?token=\(token)\n"
                )
            case "seg40.ts": return Self.bytes(Self.segment(40), range: nil, contentType: "video/mp2t")
            case "seg41.ts": return Self.bytes(Self.segment(41), range: nil, contentType: "video/mp2t")
            default: return Self.plain(.notFound, "no")
            }
        }
        router.get("js/outer.html") { request, _ -> Response in
            self.record(request)
            let inner = request.uri.queryParameters.get("inner") ?? ""
            return Self.html("<html><head><title>Outer page</title></head><body><iframe src=\"\(inner)\"></iframe></body></html>")
        }
        router.get("js/hostile.html") { request, _ -> Response in
            self.record(request)
            let port = request.uri.queryParameters.get("port") ?? "9"
            let only = request.uri.queryParameters.get("only")
            let targets = ["http://127.0.0.1:\(port)/", "http://[::1]:\(port)/", "http://localhost:\(port)/", "http://2130706433:\(port)/"]
            let list = targets.map { "\"\($0)\"" }.joined(separator: ",")
            let parts: [(String, String)] = [
                ("link", "<link rel=\"stylesheet\" href=\"http://127.0.0.1:\(port)/style.css\">"),
                ("img", "<img src=\"http://127.0.0.1:\(port)/image.png\">"),
                ("iframe", "<iframe src=\"http://127.0.0.1:\(port)/frame.html\"></iframe>"),
                ("script", "<script src=\"http://127.0.0.1:\(port)/script.js\"></script>"),
                ("fetch", "<script>for (const t of [\(list)]) fetch(t + 'fetch.m3u8').catch(() => {});</script>"),
                (
                    "xhr",
                    "<script>for (const t of [\(list)]) { const x = new XMLHttpRequest(); x.open('GET', t + 'xhr'); x.send(); }</script>"
                ),
                ("beacon", "<script>for (const t of [\(list)]) navigator.sendBeacon(t + 'beacon', 'x');</script>"),
                (
                    "preconnect",
                    "<link rel=\"preconnect\" href=\"http://127.0.0.1:\(port)\"><link rel=\"dns-prefetch\" href=\"http://localhost:\(port)\">"
                ),
                (
                    "websocket",
                    "<script>for (const t of [\(list)]) { try { new WebSocket(t.replace('http', 'ws') + 'socket'); } catch (e) {} }</script>"
                ),
            ]
            let body = parts.filter { only == nil || $0.0 == only }.map(\.1).joined(separator: "\n")
            return Self.html("<html><head><title>Hostile</title></head><body>\n\(body)\n</body></html>")
        }
        router.get("js/endless.html") { request, _ -> Response in
            self.record(request)
            return Response(
                status: .ok, headers: [.contentType: "text/html"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "<html><head><title>Endless</title></head><body>"))
                    while !Task.isCancelled {
                        try await writer.write(ByteBuffer(string: "<p>more</p>\n"))
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    try await writer.finish(nil)
                })
        }
        router.get("js/cookie.html") { request, _ -> Response in
            self.record(request)
            return Self.html(
                """
                <html><head><title>Cookie</title></head><body><script>
                const before = document.cookie + "|" + localStorage.getItem("mark");
                document.cookie = "mark=1; max-age=3600; path=/"; localStorage.setItem("mark", "1");
                fetch("/js/plain.m3u8?before=" + encodeURIComponent(before));
                </script></body></html>
                """)
        }
        router.get("js/plain.m3u8") { request, _ -> Response in
            self.record(request)
            return Self.playlist("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg.ts\n")
        }
    }
}
