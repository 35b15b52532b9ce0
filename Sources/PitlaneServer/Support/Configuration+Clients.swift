import Logging
import PitlaneCore

extension Configuration {
    /// Time to an upstream's response headers.
    var upstreamTimeout: Duration { .seconds(upstream.timeout) }

    /// The shared upstream client. Its read timeout (silence in the middle of a body) is never shorter than
    /// 20 s: a live segment can pause longer than a response takes to start.
    func makeUpstreamClient(logger: Logger) -> HTTPUpstreamClient {
        HTTPUpstreamClient(readTimeout: .seconds(max(upstream.timeout, 20)), logger: logger)
    }

    func makeValidator(http: any UpstreamClient) -> StreamValidator {
        StreamValidator(http: http, timeout: upstreamTimeout)
    }

    /// Registers every configured source (disabled ones too, so the API lists them).
    func registerSources(on refresher: TokenRefresher) async throws {
        for source in sources {
            await refresher.register(try ExtractorRegistry.builtIn.makeSource(source))
        }
    }
}
