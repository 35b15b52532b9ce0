import CoreMetrics
import Hummingbird
import PitlaneCore

/// Times every request by route (the router's pattern, such as `/hls/{stream}/s/{file}`: bounded, and no
/// token or stream id in it), method and status. A relayed segment is timed to its response head, not to
/// its last byte.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath.map(RouteTable.pattern) ?? "unmatched"
        Timer(
            label: MetricName.httpRequestDuration,
            dimensions: [("route", route), ("method", request.method.rawValue), ("status", String(response.status.code))],
            factory: factory
        ).recordSeconds((ContinuousClock.now - started).seconds)
        return response
    }

}
