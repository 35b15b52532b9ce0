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

    /// The URL with its query, fragment and credentials removed, and every path segment that looks like a
    /// token replaced by `…`: safe to log. CDN tokens live in the query, but also in the path (Akamai's
    /// `hdnts=…~hmac=…`, a JWT, `/token/<value>/`, `/expires/<t>/`, long random segments).
    public static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "<url>" }
        let hadQuery = components.query != nil
        components.query = nil
        components.fragment = nil
        components.user = nil
        components.password = nil
        var segments = components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for index in segments.indices {
            let follows = index > 0 ? segments[index - 1].lowercased() : ""
            if looksLikeToken(segments[index].removingPercentEncoding ?? segments[index])
                || ["token", "tokens", "auth", "sig", "signature", "hdnts", "expires", "exp"].contains(follows)
            {
                segments[index] = "…"
            }
        }
        // Joined as text: `…` is no valid percent-encoded path, and URLComponents traps on one.
        components.percentEncodedPath = ""
        return (components.string ?? "<url>") + segments.joined(separator: "/") + (hadQuery ? "?…" : "")
    }

    /// A path segment that carries a secret rather than naming a resource: `name=value` pairs, `~`-joined
    /// fields, a JWT, or a long run of letters and digits with no file extension.
    static func looksLikeToken(_ segment: String) -> Bool {
        guard !segment.isEmpty, segment != "…" else { return false }
        if segment.contains("=") || segment.contains("~") || segment.hasPrefix("eyJ") { return true }
        guard segment.count >= 20, !segment.contains(".") else { return false }
        let letters = segment.contains { $0.isLetter }
        let digits = segment.contains { $0.isNumber }
        return letters && digits
    }
}
