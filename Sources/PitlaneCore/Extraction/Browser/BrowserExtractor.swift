import Foundation

/// The `browser` source kind: loads `url` in a headless browser, lets the page's scripts build their
/// player, and turns the playlist requests the page made into candidates, each with the headers the page
/// sent (Referer, Origin, Cookie, a token header its script added). For pages whose playlist URL is never
/// written in the HTML. A master's own variants are not listed again; the page's title names the streams.
public struct BrowserExtractor: Extractor {
    public var url: URL
    public var title: String?
    public var wait: Duration
    public var pattern: NSRegularExpression?
    public var engine: any BrowserEngine

    public init(
        url: URL, title: String? = nil, wait: Duration = .seconds(15), pattern: NSRegularExpression? = nil, engine: any BrowserEngine
    ) {
        self.url = url
        self.title = title
        self.wait = wait
        self.pattern = pattern
        self.engine = engine
    }

    public func extract(_ context: ExtractionContext) async throws -> [Candidate] {
        let visit = BrowserVisit(
            url: url, wait: wait, pattern: pattern, allowPrivate: context.allowPrivate, allowHosts: context.allowHosts,
            documentLimit: context.documentLimit)
        let report = try await engine.visit(visit)
        context.notes.add(Self.summary(of: report))
        let playlists = Self.streams(in: report)
        guard !playlists.isEmpty else { throw ExtractionError.invalid(Self.nothingFound(report, wait: wait)) }
        let name = title ?? report.title ?? url.host ?? "Stream"
        return playlists.enumerated().map { position, sighting in
            Candidate(
                url: sighting.url, title: playlists.count == 1 ? name : "\(name) \(position + 1)",
                headers: Self.profile(from: sighting.headers))
        }
    }

    /// The playlists worth a stream: answered with success (or not answered yet), each URL once, and no
    /// variant or rendition of a master the page also loaded.
    static func streams(in report: BrowserReport) -> [BrowserReport.Sighting] {
        var seen: Set<URL> = []
        let usable = report.playlists.filter { sighting in
            (sighting.succeeded || sighting.status == nil) && seen.insert(sighting.url).inserted
        }
        var children: Set<URL> = []
        for sighting in usable {
            guard let body = sighting.body, let playlist = try? PlaylistParser.parse(body), playlist.kind == .master else { continue }
            for reference in references(in: playlist) {
                if let child = URIResolver.resolve(reference, against: sighting.url) { children.insert(child) }
            }
        }
        return usable.filter { !children.contains($0.url) }
    }

    /// The URIs a master names: variant lines and the URI attributes of its renditions.
    static func references(in playlist: Playlist) -> [String] {
        var found: [String] = []
        for line in playlist.lines {
            switch line {
            case .uri(let uri): found.append(uri)
            case .tag(let tag):
                if let value = tag.value, let uri = AttributeList(parsing: value[...])["URI"] { found.append(uri) }
            default: continue
            }
        }
        return found
    }

    /// Headers every browser sends on its own, or that describe one request only: not a CDN's condition.
    static let browserOwnHeaders: Set<String> = [
        "host", "connection", "content-length", "accept", "accept-encoding", "accept-language", "cache-control", "pragma", "priority",
        "range", "if-none-match", "if-modified-since", "upgrade-insecure-requests", "dnt", "te", "keep-alive",
    ]

    /// The request headers of a playlist request that a CDN may have checked: the rest of what the page
    /// sent, without the browser's own per-request headers (`Sec-Fetch-*`, client hints, caching, …).
    static func profile(from headers: HeaderProfile) -> HeaderProfile {
        HeaderProfile(
            headers.valid().headers.filter { header in
                let name = header.name.lowercased()
                return !browserOwnHeaders.contains(name) && !name.hasPrefix("sec-")
            })
    }

    /// One line on what the page did, for `pitlane sources check` and `/api/sources`.
    static func summary(of report: BrowserReport) -> String {
        var parts = ["\(report.requests) requests", "\(report.playlists.count) playlist(s) seen"]
        if !report.refused.isEmpty {
            parts.append(
                "\(report.refused.count) refused: " + report.refused.prefix(3).joined(separator: ", ")
                    + (report.refused.count > 3 ? ", …" : ""))
        }
        if let loadError = report.loadError { parts.append("page: \(loadError)") }
        return parts.joined(separator: "; ")
    }

    static func nothingFound(_ report: BrowserReport, wait: Duration) -> String {
        var message = "no playlist request within \(wait.components.seconds) s"
        if let loadError = report.loadError { message += " (the page did not load: \(loadError))" }
        let failed = report.playlists.compactMap { sighting in
            sighting.status.map { "\(URIResolver.redacted(sighting.url)) answered \($0)" }
        }
        if !failed.isEmpty { message += "; " + failed.prefix(3).joined(separator: ", ") }
        if !report.refused.isEmpty { message += "; \(report.refused.count) request(s) refused by the address policy" }
        return message + "; a site that refuses headless browsers is out of reach"
    }
}
