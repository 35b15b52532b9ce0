import Foundation

/// Resolves playlist URIs against the playlist's final URL (after redirects), as RFC 3986 says, and
/// survives the unescaped characters real packagers write.
public enum URIResolver {
    public static func resolve(_ reference: String, against base: URL) -> URL? {
        if let url = URL(string: reference, relativeTo: base)?.absoluteURL, url.scheme != nil { return url }
        let escaped = reference.addingPercentEncoding(withAllowedCharacters: allowed) ?? reference
        return URL(string: escaped, relativeTo: base)?.absoluteURL
    }

    /// The longest URI Pitlane fetches: CDN tokens make URLs of a few kilobytes, never more. A longer one
    /// would become a handle too long for any player's request line.
    public static let maxFetchableLength = 16 * 1024

    /// The absolute URL a playlist URI names, if Pitlane can fetch it (http or https with a host, at most
    /// `maxFetchableLength` bytes); nil for anything else, which must then never reach a player as written.
    public static func fetchable(_ reference: String, against base: URL) -> URL? {
        guard reference.utf8.count <= maxFetchableLength, let url = resolve(reference, against: base),
            let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else { return nil }
        return url
    }

    private static let allowed: CharacterSet = {
        var set = CharacterSet.urlQueryAllowed
        set.insert(charactersIn: "#%")
        return set
    }()

    /// The URL with its query and fragment removed: safe to log, since CDN tokens live in the query.
    public static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "<url>" }
        let hadQuery = components.query != nil
        components.query = nil
        components.fragment = nil
        components.user = nil
        components.password = nil
        return (components.string ?? "<url>") + (hadQuery ? "?…" : "")
    }
}
