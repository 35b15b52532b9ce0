import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The browser app: static ES modules and pages, no build step. Pages are served at `/`, `/streams` and
/// `/watch`; assets under `/app/`. hls.js is optional (`scripts/fetch-hlsjs.py` puts it in `app/vendor/`);
/// without it the pages play with the browser's native HLS.
struct WebController<Context: RequestContext>: Sendable {
    let files: WebFiles

    func addRoutes(to router: Router<Context>) {
        router.get("/") { _, _ in files.response(for: "index.html") }
        router.get("streams") { _, _ in files.response(for: "streams.html") }
        router.get("watch") { _, _ in files.response(for: "watch.html") }
        router.get("settings") { _, _ in files.response(for: "settings.html") }
        router.get("login") { _, _ in files.response(for: "login.html") }
        router.get("favicon.ico") { _, _ in files.response(for: "icon.svg") }
        router.get("app/**") { request, _ in
            let path = String(request.uri.path.dropFirst("/app/".count))
            return files.response(for: path)
        }
    }
}

/// The web app's files, read once from the bundle.
struct WebFiles: Sendable {
    private let files: [String: ByteBuffer]
    var hasHLSJS: Bool { files["vendor/hls.mjs"] != nil }

    init(directory: URL) {
        var files: [String: ByteBuffer] = [:]
        let base = directory.standardizedFileURL.path
        if let walker = FileManager.default.enumerator(atPath: base) {
            for case let relative as String in walker {
                let full = base + "/" + relative
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                    let data = FileManager.default.contents(atPath: full)
                else { continue }
                files[relative] = ByteBuffer(bytes: data)
            }
        }
        self.files = files
    }

    static func bundled(logger: Logger) -> WebFiles {
        let directory = BundledResources.directory("web")
        let files = directory.map(WebFiles.init) ?? WebFiles(directory: URL(fileURLWithPath: "/nonexistent"))
        if !files.hasHLSJS {
            logger.notice(
                "hls.js is not bundled: browsers without native HLS (Firefox) cannot play; run scripts/fetch-hlsjs.py and rebuild")
        }
        return files
    }

    /// The pages load only Pitlane's own scripts, styles and media: no inline script, no other origin, no
    /// framing. hls.js needs `blob:` for its worker and for the MediaSource it plays.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
        + "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static let types = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8", "svg": "image/svg+xml", "png": "image/png", "txt": "text/plain; charset=utf-8",
        "json": "application/json", "ico": "image/x-icon",
    ]

    func response(for path: String) -> Response {
        guard !path.contains(".."), let body = files[path] else {
            return JSONResponse.error("no such file of the web app", status: .notFound)
        }
        let ext = (path as NSString).pathExtension.lowercased()
        let cache = path.hasPrefix("vendor/") ? "public, max-age=86400" : "no-cache"
        var headers: HTTPFields = [.contentType: Self.types[ext] ?? "application/octet-stream", .cacheControl: cache]
        if ext == "html" { headers[.contentSecurityPolicy] = Self.contentSecurityPolicy }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}
