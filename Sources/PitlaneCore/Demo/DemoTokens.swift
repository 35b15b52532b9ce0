import Crypto
import Foundation

/// The demo origin's CDN-style tokens: `exp=<unix seconds>&sig=<hmac>` on every URL, answered 403 after
/// `exp`, so Pitlane's refresh path runs from the first minute.
public struct DemoTokens: Sendable {
    private let key: SymmetricKey

    public init(secret: some DataProtocol) {
        key = SymmetricKey(data: SHA256.hash(data: Data("demo".utf8) + Data(secret)))
    }

    public func query(feed: String, expires: Date) -> String {
        let exp = Int(expires.timeIntervalSince1970.rounded(.down))
        return "exp=\(exp)&sig=\(signature(feed: feed, exp: exp))"
    }

    public enum Verdict: Sendable, Equatable {
        case valid
        case expired
        case invalid
    }

    public func check(feed: String, exp: String?, sig: String?, now: Date) -> Verdict {
        guard let exp, let expiry = Int(exp), let sig, sig == signature(feed: feed, exp: expiry) else { return .invalid }
        return Double(expiry) > now.timeIntervalSince1970 ? .valid : .expired
    }

    private func signature(feed: String, exp: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(feed)|\(exp)".utf8), using: key)
        return Base64URL.encode(Data(mac).prefix(12))
    }
}

/// The `demo` source kind: hands out the demo feeds' URLs with fresh tokens on every run.
public struct DemoExtractor: Extractor {
    /// Where this Pitlane listens (known only once the server is bound, hence a function).
    public var baseURL: @Sendable () -> URL
    public var tokens: DemoTokens
    public var tokenTTL: TimeInterval

    public init(baseURL: @escaping @Sendable () -> URL, tokens: DemoTokens, tokenTTL: TimeInterval) {
        self.baseURL = baseURL
        self.tokens = tokens
        self.tokenTTL = tokenTTL
    }

    public func extract(_ context: ExtractionContext) async throws -> [Candidate] {
        let baseURL = baseURL()
        return DemoFeed.all.map { feed in
            let query = tokens.query(feed: feed.id, expires: context.now.addingTimeInterval(tokenTTL))
            let url = URL(string: "demo/\(feed.id)/master.m3u8?\(query)", relativeTo: baseURL)!.absoluteURL
            return Candidate(url: url, title: feed.title, quality: feed.renditions.first?.resolution, key: feed.id)
        }
    }
}
