import Foundation

/// The `page` source kind: fetches a page, finds HLS playlist URLs in its HTML and inline scripts
/// (absolute, protocol-relative, relative, and with JSON-escaped `\/`), and follows `<iframe src>` up to
/// `iframeDepth` levels, each child fetched with its parent as Referer. A stream carries the page it was
/// found on as Referer and that page's origin as Origin (the source's own headers win), since CDNs check them.
public struct PageExtractor: Extractor {
    public var url: URL
    public var title: String?
    /// Matches playlist URLs that do not end in `.m3u8`; its first capture group (or whole match) is the URL.
    public var pattern: NSRegularExpression?
    public var iframeDepth: Int

    public init(url: URL, title: String? = nil, pattern: NSRegularExpression? = nil, iframeDepth: Int = 2) {
        self.url = url
        self.title = title
        self.pattern = pattern
        self.iframeDepth = iframeDepth
    }

    public func extract(_ context: ExtractionContext) async throws -> [Candidate] {
        var found: [(url: URL, page: URL)] = []
        var visited: Set<String> = []
        var pageTitle: String?
        var queue: [(url: URL, referer: URL?, depth: Int)] = [(url, nil, 0)]
        var firstError: Error?
        while !queue.isEmpty {
            let (pageURL, referer, depth) = queue.removeFirst()
            guard visited.insert(pageURL.absoluteString).inserted, visited.count <= 20 else { continue }
            let page: (text: String, url: URL)
            do {
                page = try await context.fetchText(pageURL, extra: referer.map { HeaderProfile(["Referer": $0.absoluteString]) } ?? .init())
            } catch {
                if depth == 0 { throw error }
                firstError = firstError ?? error
                continue
            }
            if pageTitle == nil { pageTitle = HTMLScan.title(in: page.text) }
            for stream in HTMLScan.playlistURLs(in: page.text, base: page.url, pattern: pattern)
            where !found.contains(where: { $0.url == stream }) {
                found.append((stream, page.url))
            }
            if depth < iframeDepth {
                for frame in HTMLScan.iframeSources(in: page.text, base: page.url) { queue.append((frame, page.url, depth + 1)) }
            }
        }
        if found.isEmpty, let firstError { throw firstError }
        let name = title ?? pageTitle ?? url.host ?? "Stream"
        return found.enumerated().map { position, item in
            var headers = HeaderProfile(["Referer": item.page.absoluteString])
            if let origin = HTMLScan.origin(of: item.page) { headers.headers.append(.init(name: "Origin", value: origin)) }
            return Candidate(url: item.url, title: found.count == 1 ? name : "\(name) \(position + 1)", headers: headers)
        }
    }
}

/// Regular-expression scanning of HTML and inline scripts; pages are tag soup, so no parser is assumed.
enum HTMLScan {
    private static let quoted = try! NSRegularExpression(
        pattern: #"["'`]([^"'`\s<>]*?\.m3u8(?:\?[^"'`\s<>]*)?)["'`]"#, options: [.caseInsensitive])
    private static let bare = try! NSRegularExpression(
        pattern: #"(?:https?:)?//[^\s"'`<>()\\]+?\.m3u8(?:\?[^\s"'`<>()\\]*)?"#, options: [.caseInsensitive])
    private static let iframe = try! NSRegularExpression(
        pattern: #"<iframe\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"#, options: [.caseInsensitive])
    private static let titleTag = try! NSRegularExpression(
        pattern: #"<title[^>]*>(.*?)</title>"#, options: [.caseInsensitive, .dotMatchesLineSeparators])

    /// Undoes the escapes scripts and attributes use for URLs (`\/`, `\u002F`, `&amp;`).
    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\/", with: "/").replacingOccurrences(of: "\\u002F", with: "/", options: .caseInsensitive)
            .replacingOccurrences(of: "\\u0026", with: "&", options: .caseInsensitive).replacingOccurrences(of: "&amp;", with: "&")
    }

    static func playlistURLs(in html: String, base: URL, pattern: NSRegularExpression?) -> [URL] {
        let text = unescape(html)
        var references: [String] = []
        for expression in [quoted, bare] { references += matches(of: expression, in: text) }
        if let pattern { references += matches(of: pattern, in: text) }
        var urls: [URL] = []
        for reference in references {
            guard let url = URIResolver.resolve(reference, against: base), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https"
            else { continue }
            if !urls.contains(url) { urls.append(url) }
        }
        return urls
    }

    static func iframeSources(in html: String, base: URL) -> [URL] {
        matches(of: iframe, in: html).compactMap { source in
            let trimmed = unescape(source).trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.lowercased().hasPrefix("javascript:"), !trimmed.lowercased().hasPrefix("about:") else {
                return nil
            }
            return URIResolver.resolve(trimmed, against: base)
        }
    }

    static func title(in html: String) -> String? {
        guard let raw = matches(of: titleTag, in: html).first else { return nil }
        let text = raw.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(
                of: "&gt;", with: ">"
            )
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return text.isEmpty ? nil : text
    }

    static func origin(of url: URL) -> String? {
        guard let scheme = url.scheme, let host = url.host else { return nil }
        return url.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }

    /// The first non-empty capture group of each match, or the whole match when the pattern has none.
    static func matches(of expression: NSRegularExpression, in text: String) -> [String] {
        expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            for group in stride(from: 1, through: max(1, match.numberOfRanges - 1), by: 1) where group < match.numberOfRanges {
                if let range = Range(match.range(at: group), in: text), !range.isEmpty { return String(text[range]) }
            }
            return Range(match.range, in: text).map { String(text[$0]) }
        }
    }
}
