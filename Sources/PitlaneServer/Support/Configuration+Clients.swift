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

    /// Registers every configured source (disabled ones too, so the API lists them); `browser` sources
    /// share `browser`.
    func registerSources(on refresher: TokenRefresher, browser: (any BrowserEngine)?) async throws {
        let registry = browser.map { ExtractorRegistry.builtIn.adding(browser: $0) } ?? .builtIn
        for source in sources {
            await refresher.register(try registry.makeSource(source))
        }
    }

    /// Whether any source needs the headless browser (nothing starts Chromium otherwise).
    var needsBrowser: Bool { sources.contains { $0.kind == "browser" } }

    /// The browser of `browser` sources, or nil when none is configured. Says at once when Chromium is
    /// missing; the sources say it again in their `lastError`.
    func makeBrowser(protectedPort: @escaping @Sendable () -> Int?, logger: Logger) -> ChromiumBrowser? {
        guard needsBrowser else { return nil }
        do {
            _ = try ChromiumProcess.executable(configured: browser.path)
        } catch {
            logger.error("browser sources cannot run", metadata: ["error": "\(error)"])
        }
        return ChromiumBrowser(settings: browser, protectedPort: protectedPort, logger: logger)
    }
}
