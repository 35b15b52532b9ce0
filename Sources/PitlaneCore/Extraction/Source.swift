import Foundation

/// One configured place where streams are found.
public struct Source: Sendable {
    public var id: String
    public var kind: String
    public var title: String?
    public var headers: HeaderProfile
    /// Lets upstream fetches for this source reach loopback and private addresses (the demo, test fixtures).
    public var allowPrivate: Bool
    /// The hosts its fetches may reach (`allow_hosts`); nil for any public host.
    public var allowHosts: HostAllowList?
    public var timeout: Duration
    /// A disabled source is listed (so the API shows it) but never run.
    public var enabled: Bool
    public var extractor: any Extractor

    public init(
        id: String, kind: String, title: String? = nil, headers: HeaderProfile = .init(), allowPrivate: Bool = false,
        timeout: Duration = .seconds(20), enabled: Bool = true, allowHosts: HostAllowList? = nil, extractor: any Extractor
    ) {
        self.allowHosts = allowHosts
        self.enabled = enabled
        self.id = id
        self.kind = kind
        self.title = title
        self.headers = headers
        self.allowPrivate = allowPrivate
        self.timeout = timeout
        self.extractor = extractor
    }
}
