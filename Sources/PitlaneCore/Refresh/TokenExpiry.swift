import Foundation

/// Reads the expiry time that CDNs write into signed URLs, so a refresh can run before the token dies
/// instead of after a 403: query parameters `exp`, `expires`, `e` (and a few common spellings),
/// Akamai's `hdnts=…~exp=…`, a JWT's `exp` claim, and path segments `/expires/<t>/`.
public enum TokenExpiry {
    static let parameterNames: Set<String> = ["exp", "expires", "e", "expiry", "expire", "expiration", "x-expires", "validto"]

    /// The earliest expiry found in the URL, or nil when it reveals none.
    public static func expiry(of url: URL) -> Date? {
        var found: [Date] = []
        let components = URLComponents(url: url, resolvingAgainstBaseURL: true)
        for item in components?.queryItems ?? [] {
            guard let value = item.value, !value.isEmpty else { continue }
            let name = item.name.lowercased()
            if parameterNames.contains(name), let date = date(fromEpoch: value) {
                found.append(date)
            } else if name == "hdnts" || name == "__token__" || value.contains("~exp=") {
                found.append(contentsOf: akamaiExpiry(value).map { [$0] } ?? [])
            } else if let date = jwtExpiry(value) {
                found.append(date)
            }
        }
        let segments = url.path.split(separator: "/")
        for (position, segment) in segments.enumerated() {
            let lower = segment.lowercased()
            if lower == "expires" || lower == "exp", position + 1 < segments.count, let date = date(fromEpoch: segments[position + 1]) {
                found.append(date)
            } else if let date = jwtExpiry(String(segment)) {
                found.append(date)
            }
        }
        return found.min()
    }

    /// An epoch timestamp in seconds or milliseconds. Values that cannot be a plausible time
    /// (before 2001 or after 2200) are ignored: `e=1` is a flag, not an expiry.
    static func date(fromEpoch text: some StringProtocol) -> Date? {
        let digits = text.trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = Double(digits), digits.allSatisfy({ $0.isNumber || $0 == "." })
        else { return nil }
        let seconds = number > 100_000_000_000 ? number / 1000 : number
        guard seconds > 978_307_200, seconds < 7_258_118_400 else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    static func akamaiExpiry(_ value: String) -> Date? {
        let decoded = value.removingPercentEncoding ?? value
        for field in decoded.split(whereSeparator: { $0 == "~" || $0 == "&" || $0 == "," }) {
            let pair = field.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "exp", let date = date(fromEpoch: pair[1]) { return date }
        }
        return nil
    }

    /// The `exp` claim of something shaped like a JWT (three base64url parts, a JSON header and payload).
    static func jwtExpiry(_ value: String) -> Date? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].hasPrefix("eyJ"), let payload = Base64URL.decode(parts[1]) ?? paddedDecode(parts[1]),
            let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any]
        else { return nil }
        if let number = object["exp"] as? NSNumber { return date(fromEpoch: number.stringValue) }
        if let text = object["exp"] as? String { return date(fromEpoch: text) }
        return nil
    }

    private static func paddedDecode(_ text: Substring) -> Data? {
        Base64URL.decode(text.replacingOccurrences(of: "=", with: ""))
    }
}
