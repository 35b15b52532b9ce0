import Hummingbird
import NIOCore

/// `GET /metrics`: Prometheus's text format, for a scraper (with `auth.mode: password`, give it an API token).
struct MetricsController<Context: RequestContext>: Sendable {
    let scrape: MetricsScrape

    func addRoutes(to router: Router<Context>) {
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: await scrape.render())))
        }
    }
}
