import Foundation

/// Finds a source's known streams among its fresh results (DESIGN.md "Token refresh rules"), so that a
/// viewer never ends up on another feed:
/// - a stream whose source gave it a stable key is matched by that key only, never by a fallback;
/// - a stream without a key: quality + title when unambiguous, then host + path ignoring the query, then
///   the single result; it only considers candidates without a key (a keyed candidate is its own stream);
/// - a candidate matches at most one stream.
/// A stream without a match is absent from the answer: the caller keeps its old URL.
public enum StreamMatcher {
    public enum Rule: String, Sendable, Equatable {
        case key, qualityAndTitle, hostAndPath, singleResult
    }

    public struct Match: Sendable, Equatable {
        /// The candidate's position in the fresh results.
        public var index: Int
        public var rule: Rule
    }

    /// Assigns candidates to streams: keyed streams first (their claim is the strongest), then the others
    /// in order, each from what is still unclaimed.
    public static func assign(_ streams: [StreamDescriptor], in candidates: [Candidate]) -> [String: Match] {
        var matches: [String: Match] = [:]
        var claimed: Set<Int> = []
        for stream in streams {
            guard let key = stream.key else { continue }
            if let index = candidates.indices.first(where: { !claimed.contains($0) && candidates[$0].key == key }) {
                matches[stream.id] = Match(index: index, rule: .key)
                claimed.insert(index)
            }
        }
        for stream in streams where stream.key == nil {
            let open = candidates.indices.filter { !claimed.contains($0) && candidates[$0].key == nil }
            if let match = fallback(stream, among: open, of: candidates) {
                matches[stream.id] = match
                claimed.insert(match.index)
            }
        }
        return matches
    }

    /// One stream's match on its own (no other stream competing for the candidates).
    public static func match(_ stream: StreamDescriptor, in candidates: [Candidate]) -> (candidate: Candidate, rule: Rule)? {
        assign([stream], in: candidates)[stream.id].map { (candidates[$0.index], $0.rule) }
    }

    private static func fallback(_ stream: StreamDescriptor, among open: [Int], of candidates: [Candidate]) -> Match? {
        let byQualityTitle = open.filter { candidates[$0].title == stream.title && candidates[$0].quality == stream.quality }
        if byQualityTitle.count == 1 { return Match(index: byQualityTitle[0], rule: .qualityAndTitle) }
        let identity = URLIdentity(stream.upstream)
        let byPath = open.filter { URLIdentity(candidates[$0].url) == identity }
        if byPath.count == 1 { return Match(index: byPath[0], rule: .hostAndPath) }
        if open.count == 1, candidates.count == 1 { return Match(index: open[0], rule: .singleResult) }
        return nil
    }
}
