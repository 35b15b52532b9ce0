import Logging
import PitlaneCore

extension Configuration {
    /// Time to an upstream's response headers.
    var upstreamTimeout: Duration { .seconds(upstream.timeout) }

    /// The shared upstream client. Its read timeout (silence on a connection, the response head included)
    /// is never shorter than 20 s, since a live segment can pause longer than a response takes to start,
    /// and never shorter than any source's `timeout`, since that alone bounds a source's requests: a
    /// hidden, shorter cap would fail a JSON API that answers in 25 s behind a source that allows 40 s.
    func makeUpstreamClient(logger: Logger) -> HTTPUpstreamClient {
        HTTPUpstreamClient(readTimeout: upstreamReadTimeout, logger: logger)
    }

    public var upstreamReadTimeout: Duration {
        .seconds(([upstream.timeout, 20] + sources.map(\.timeout)).max() ?? 20)
    }

    func makeValidator(http: any UpstreamClient) -> StreamValidator {
        StreamValidator(http: http, timeout: upstreamTimeout, playlistLimit: upstream.limits.playlist)
    }

    /// Registers every configured source (disabled ones too, so the API lists them).
    func registerSources(on refresher: TokenRefresher) async throws {
        for source in sources {
            await refresher.register(try ExtractorRegistry.builtIn.makeSource(source))
        }
    }
}
