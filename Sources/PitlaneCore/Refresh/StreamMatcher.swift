import Foundation

/// Finds an active stream's candidate among a source's fresh results (DESIGN.md "Token refresh rules"):
/// the stable key, then quality + title when unambiguous, then host + path ignoring the query, then the
/// single result. Returns nil when nothing matches, so the caller keeps the old URL.
public enum StreamMatcher {
    public enum Rule: String, Sendable, Equatable {
        case key, qualityAndTitle, hostAndPath, singleResult
    }

    public static func match(_ stream: StreamDescriptor, in candidates: [Candidate]) -> (candidate: Candidate, rule: Rule)? {
        if let key = stream.key {
            if let found = candidates.first(where: { $0.key == key }) { return (found, .key) }
        }
        let byQualityTitle = candidates.filter { $0.title == stream.title && $0.quality == stream.quality }
        if byQualityTitle.count == 1 { return (byQualityTitle[0], .qualityAndTitle) }
        let identity = URLIdentity(stream.upstream)
        let byPath = candidates.filter { URLIdentity($0.url) == identity }
        if byPath.count == 1 { return (byPath[0], .hostAndPath) }
        if candidates.count == 1 { return (candidates[0], .singleResult) }
        return nil
    }
}
