import Foundation

/// One picture ("World feed") that one or more streams carry, from one source or several. A stream joins
/// the feed its configuration names (`feed:` on a static stream or a `json` mapping); the others are
/// grouped when their titles (case, accents and punctuation aside) and their qualities (`1280x720` is
/// `720p`) match. Members are ranked as the catalogue is: the first is the one to play.
public struct Feed: Sendable, Equatable {
    /// `feed-` and a slug of the name (and the quality, when the feed was found by matching): never a
    /// stream id, so feeds and streams can share a URL space.
    public var id: String
    public var title: String
    public var quality: String?
    /// Whether the configuration named it (rather than titles and qualities matching).
    public var explicit: Bool
    public var members: [StreamRecord]

    /// The member to play now: the best ranked.
    public var current: StreamRecord? { members.first }
}

public enum FeedGrouping {
    /// The catalogue's streams as feeds, best feed first (by its best member), each stream in one feed.
    public static func feeds(_ records: [StreamRecord]) -> [Feed] {
        var groups: [String: [StreamRecord]] = [:]
        var order: [String] = []
        for record in StreamRanking.ranked(records) {
            let key = groupKey(record.descriptor)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(record)
        }
        var used: Set<String> = []
        func base(_ descriptor: StreamDescriptor) -> String {
            let quality = descriptor.feed == nil ? normalisedQuality(descriptor.quality) : nil
            return "feed-" + StreamID.slug(descriptor.feed ?? descriptor.title) + (quality.map { "-" + StreamID.slug($0) } ?? "")
        }
        // Feeds whose names make the same slug are told apart by a digest of what groups them, not by their
        // order (which follows the ranking): a player's URL keeps naming the same feed.
        let bases = order.compactMap { groups[$0]?.first.map { base($0.descriptor) } }
        let shared = Dictionary(bases.map { ($0, 1) }, uniquingKeysWith: +).filter { $0.value > 1 }
        return order.compactMap { key in
            guard let members = groups[key], let first = members.first?.descriptor else { return nil }
            let explicit = first.feed != nil
            let title = first.feed ?? first.title
            let quality = explicit ? nil : normalisedQuality(first.quality)
            var id = base(first)
            if shared[id] != nil { id += "-" + StreamID.shortDigest(key) }
            var suffix = 2
            let base = id
            while used.contains(id) {
                id = "\(base)-\(suffix)"
                suffix += 1
            }
            used.insert(id)
            return Feed(id: id, title: title, quality: quality, explicit: explicit, members: members)
        }
    }

    /// What makes two streams one feed.
    static func groupKey(_ descriptor: StreamDescriptor) -> String {
        if let feed = descriptor.feed { return "feed:" + normalisedTitle(feed) }
        return "auto:" + normalisedTitle(descriptor.title) + "|" + (normalisedQuality(descriptor.quality) ?? "")
    }

    /// `World Feed!`, `world-feed`, `Wörld feed` are one title: letters and digits, lower case, without
    /// accents, single spaces.
    static func normalisedTitle(_ title: String) -> String {
        let folded = title.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        return folded.split { !$0.isLetter && !$0.isNumber }.joined(separator: " ")
    }

    /// `1280x720`, `720p`, `720P`, `HD 720p` are `720p`; anything else as it is, in lower case.
    static func normalisedQuality(_ quality: String?) -> String? {
        guard let text = quality?.lowercased().trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let x = text.firstIndex(of: "x"), let height = Int(text[text.index(after: x)...]), Int(text[..<x]) != nil {
            return "\(height)p"
        }
        if let match = text.firstMatch(of: /(\d{3,4})p/) { return "\(match.1)p" }
        return text
    }
}
