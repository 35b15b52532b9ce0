import Foundation

/// Header policy: what is relayed with a resource, and what type it is said to be.
extension HLSProxy {
    /// A resource's reply: its type told (sniffed from the first bytes when the upstream hides it), cached
    /// by whoever is in front, and the 206 the player asked for when the upstream ignored its `Range`.
    func relay(_ response: UpstreamResponse, stream: String, kind: ResourceKind, ext: String, range: String?) async throws -> ProxyReply {
        var body = response.body
        var sniffed: String?
        let fromStart = range.map { $0.replacingOccurrences(of: " ", with: "").hasPrefix("bytes=0-") } ?? true
        if fromStart, kind != .key, kind != .data, !Self.tellsTheType(response.headers.value(for: "Content-Type")) {
            let peeked = try await body.peekingFirstChunk()
            body = peeked.body
            sniffed = peeked.first.flatMap { MediaExtension.sniff($0.readableBytesView) }
        }
        var headers = passthroughHeaders(response.headers, ext: ext, sniffed: sniffed)
        let relayed = metrics.relayedBytes(stream: stream)
        headers.headers.append(.init(name: "Cache-Control", value: "public, max-age=300, immutable"))
        if let (wanted, length) = ByteRange.ignored(range, by: response) {
            headers.headers.removeAll { ["content-length", "content-range"].contains($0.name.lowercased()) }
            headers.headers.append(.init(name: "Content-Range", value: "bytes \(wanted.first)-\(wanted.last)/\(length)"))
            headers.headers.append(.init(name: "Content-Length", value: String(wanted.count)))
            return ProxyReply(status: 206, headers: headers, body: .stream(body.slice(wanted).counting(relayed)))
        }
        return ProxyReply(status: response.status, headers: headers, body: .stream(body.counting(relayed)))
    }

    /// Whether the upstream's Content-Type may be relayed: media, playlist and key types only (an allow
    /// list). Anything else (absent, generic, a disguise such as `image/png`, or a type a browser would
    /// run, such as `text/html` or `application/xhtml+xml`) is replaced by what the first bytes show or
    /// the extension says, so a hostile upstream can never make Pitlane's origin serve a page.
    static func tellsTheType(_ type: String?) -> Bool {
        relayableType(type) != nil
    }

    /// The upstream's type as Pitlane relays it: `type/subtype` alone (parameters dropped), and only when
    /// it is allowed. A list (`video/mp4, text/html`: browsers take the last) is never relayed.
    static func relayableType(_ type: String?) -> String? {
        guard let type, !type.contains(","),
            let essence = type.lowercased().split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        else { return nil }
        let allowed = ["application/vnd.apple.mpegurl", "application/x-mpegurl", "application/mp4", "video/mp2t", "text/vtt"]
        let media = (essence.hasPrefix("video/") || essence.hasPrefix("audio/")) && !essence.contains("+")
        return allowed.contains(essence) || media ? essence : nil
    }

    /// The headers relayed with a resource. Its type: the upstream's when it tells one, else what the first
    /// bytes show (`sniffed`), else the extension's.
    func passthroughHeaders(_ upstream: HeaderProfile, ext: String, sniffed: String? = nil) -> HeaderProfile {
        var headers = HeaderProfile()
        let upstreamType = upstream.value(for: "Content-Type")
        let byExtension = MediaExtension.contentType(forExtension: ext)
        var type = sniffed ?? byExtension
        if sniffed == "video/mp4", byExtension.hasPrefix("audio/") { type = "audio/mp4" }
        if let relayable = Self.relayableType(upstreamType) { type = relayable }
        headers.headers.append(.init(name: "Content-Type", value: type))
        // An encoding the upstream client did not decode goes with the bytes it describes.
        for name in ["Content-Encoding", "Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag"] {
            if let value = upstream.value(for: name) { headers.headers.append(.init(name: name, value: value)) }
        }
        return headers
    }
}
