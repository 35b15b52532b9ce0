import Foundation
import Hummingbird
import NIOCore
import PitlaneCore

/// `/` (a minimal page listing the streams, until the web app replaces it) and `/healthz`.
struct HomeController<Context: RequestContext>: Sendable {
    let catalog: StreamCatalog

    func addRoutes(to router: Router<Context>) {
        router.get("healthz", use: health)
        router.get("/", use: index)
    }

    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.encode(["status": "ok", "version": PitlaneVersion.string])
    }

    @Sendable func index(_ request: Request, context: Context) async throws -> Response {
        let records = await catalog.all()
        var items = ""
        for record in records {
            let id = Self.escape(record.descriptor.id)
            let title = Self.escape(record.descriptor.title)
            items += """
                <li><h2>\(title) <small>\(Self.escape(record.descriptor.source))</small></h2>
                <video controls muted playsinline preload="none" src="/hls/\(id)/master.m3u8"></video>
                <p><a href="/hls/\(id)/master.m3u8">/hls/\(id)/master.m3u8</a> · <a href="/api/streams/\(id)">state</a></p></li>

                """
        }
        if records.isEmpty { items = "<li>No streams yet: sources are still being read, reload in a moment.</li>" }
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Pitlane</title>
            <style>
            body{font-family:system-ui,sans-serif;background:#111;color:#eee;margin:2rem}a{color:#7cf}
            ul{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem}
            li{background:#1c1c1c;padding:1rem;border-radius:8px}video{width:100%;background:#000;aspect-ratio:16/9}
            h2{font-size:1.1rem;margin:0 0 .5rem}small{color:#888;font-weight:normal}
            </style></head>
            <body><h1>Pitlane</h1>
            <p>Each stream plays here where the browser has native HLS (Safari, recent Chromium); any player can open the playlist URL
            (VLC: Media → Open Network Stream; <code>mpv http://HOST:PORT/hls/ID/master.m3u8</code>).</p>
            <ul>
            \(items)</ul></body></html>
            """
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
