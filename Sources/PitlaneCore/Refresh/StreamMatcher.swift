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

    /// Assigns candidates to streams: keyed streams by their key first (their claim is the strongest),
    /// then the others one rule at a time, strongest first. A fallback rule only pairs a stream and a
    /// candidate that are each the only one of their side to fit it: two "Race 1080p" streams never take
    /// a lone "Race 1080p" result by title, and the single-result rule needs a single stream too.
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
        let unkeyed = streams.filter { $0.key == nil }
        func pass(_ rule: Rule, _ fits: (StreamDescriptor, Candidate) -> Bool) {
            let waiting = unkeyed.filter { matches[$0.id] == nil }
            for stream in waiting {
                let open = candidates.indices.filter { !claimed.contains($0) && candidates[$0].key == nil && fits(stream, candidates[$0]) }
                guard open.count == 1 else { continue }
                let rivals = waiting.filter { matches[$0.id] == nil && fits($0, candidates[open[0]]) }
                guard rivals.count == 1 else { continue }
                matches[stream.id] = Match(index: open[0], rule: rule)
                claimed.insert(open[0])
            }
        }
        pass(.qualityAndTitle) { $0.title == $1.title && $0.quality == $1.quality }
        pass(.hostAndPath) { URLIdentity($0.upstream) == URLIdentity($1.url) }
        if candidates.count == 1, unkeyed.count == 1, matches[unkeyed[0].id] == nil, !claimed.contains(0), candidates[0].key == nil {
            matches[unkeyed[0].id] = Match(index: 0, rule: .singleResult)
        }
        return matches
    }

    /// One stream's match on its own (no other stream competing for the candidates).
    public static func match(_ stream: StreamDescriptor, in candidates: [Candidate]) -> (candidate: Candidate, rule: Rule)? {
        assign([stream], in: candidates)[stream.id].map { (candidates[$0.index], $0.rule) }
    }
}
