import Foundation

/// Maps a source kind to the code that builds its extractor from configuration. The built-in kinds are
/// registered here; a Swift plug-in adds its own kind with `register`.
public struct ExtractorRegistry: Sendable {
    public typealias Factory = @Sendable (Configuration.SourceConfig) throws -> any Extractor

    private var factories: [String: Factory] = [:]

    public init() {}

    public mutating func register(kind: String, _ factory: @escaping Factory) {
        factories[kind] = factory
    }

    public var kinds: [String] { factories.keys.sorted() }

    public func makeExtractor(for config: Configuration.SourceConfig) throws -> any Extractor {
        guard let factory = factories[config.kind] else {
            throw ConfigError(key: "sources.\(config.id).kind", message: "no extractor for kind '\(config.kind)'")
        }
        return try factory(config)
    }

    /// The source as the refresher runs it.
    public func makeSource(_ config: Configuration.SourceConfig) throws -> Source {
        Source(
            id: config.id, kind: config.kind, title: config.title, headers: config.headers, allowPrivate: config.allowPrivate,
            timeout: .seconds(config.timeout), enabled: config.enabled, allowHosts: config.allowHosts.map(HostAllowList.init),
            extractor: try makeExtractor(for: config))
    }

    /// static, page, json and m3u (`browser` needs an engine: `adding(browser:)`).
    public static let builtIn: ExtractorRegistry = {
        var registry = ExtractorRegistry()
        registry.register(kind: "static") { config in
            StaticExtractor(
                candidates: config.streams.map { Candidate(url: $0.url, title: $0.title, quality: $0.quality, key: $0.key, feed: $0.feed) })
        }
        registry.register(kind: "page") { config in
            PageExtractor(
                url: try required(config.url, config, "url"), title: config.title,
                pattern: try config.pattern.map { try NSRegularExpression(pattern: $0) }, iframeDepth: config.iframeDepth)
        }
        registry.register(kind: "json") { config in
            let fields = try required(config.fields, config, "fields")
            return JSONExtractor(
                url: try required(config.url, config, "url"), body: config.body,
                items: try JSONPath(required(config.items, config, "items")),
                fields: .init(
                    url: try JSONPath(fields.url), title: try fields.title.map { try JSONPath($0) },
                    quality: try fields.quality.map { try JSONPath($0) },
                    key: try fields.key.map { try JSONPath($0) }, feed: try fields.feed.map { try JSONPath($0) }),
                title: config.title)
        }
        registry.register(kind: "m3u") { config in
            M3UExtractor(url: try required(config.url, config, "url"))
        }
        return registry
    }()

    /// These kinds plus `browser`, whose pages `engine` loads (one engine for every browser source).
    public func adding(browser engine: any BrowserEngine) -> ExtractorRegistry {
        var registry = self
        registry.register(kind: "browser") { config in
            BrowserExtractor(
                url: try Self.required(config.url, config, "url"), title: config.title, wait: .milliseconds(Int64(config.wait * 1000)),
                pattern: try config.pattern.map { try NSRegularExpression(pattern: $0) }, engine: engine)
        }
        return registry
    }

    private static func required<T>(_ value: T?, _ config: Configuration.SourceConfig, _ key: String) throws -> T {
        guard let value else { throw ConfigError(key: "sources.\(config.id).\(key)", message: "is required for kind \(config.kind)") }
        return value
    }
}
