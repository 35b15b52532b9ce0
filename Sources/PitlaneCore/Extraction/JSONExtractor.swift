import Foundation

/// The `json` source kind: GETs (or POSTs `body` to) an API and maps its entries to candidates:
/// `items` picks the entries, `fields` says which of each entry's keys hold the URL, title, quality and key.
public struct JSONExtractor: Extractor {
    public struct Fields: Sendable, Equatable {
        public var url: JSONPath
        public var title: JSONPath?
        public var quality: JSONPath?
        public var key: JSONPath?
        public var feed: JSONPath?

        public init(url: JSONPath, title: JSONPath? = nil, quality: JSONPath? = nil, key: JSONPath? = nil, feed: JSONPath? = nil) {
            self.feed = feed
            self.url = url
            self.title = title
            self.quality = quality
            self.key = key
        }
    }

    public var url: URL
    public var body: String?
    public var items: JSONPath
    public var fields: Fields
    public var title: String?

    public init(url: URL, body: String? = nil, items: JSONPath, fields: Fields, title: String? = nil) {
        self.url = url
        self.body = body
        self.items = items
        self.fields = fields
        self.title = title
    }

    public func extract(_ context: ExtractionContext) async throws -> [Candidate] {
        let (text, finalURL) = try await context.fetchText(url, method: body == nil ? "GET" : "POST", body: body)
        guard let root = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            throw ExtractionError.invalid("\(URIResolver.redacted(url)) did not answer JSON (it starts with \"\(text.prefix(40))\")")
        }
        let entries = items.values(in: root)
        var candidates: [Candidate] = []
        for (position, entry) in entries.enumerated() {
            guard let reference = fields.url.string(in: entry), let streamURL = URIResolver.resolve(reference, against: finalURL) else {
                continue
            }
            let name =
                fields.title.flatMap { $0.string(in: entry) } ?? title.map { entries.count == 1 ? $0 : "\($0) \(position + 1)" }
                ?? "Stream \(position + 1)"
            candidates.append(
                Candidate(
                    url: streamURL, title: name, quality: fields.quality.flatMap { $0.string(in: entry) },
                    key: fields.key.flatMap { $0.string(in: entry) }, feed: fields.feed.flatMap { $0.string(in: entry) }))
        }
        return candidates
    }
}
