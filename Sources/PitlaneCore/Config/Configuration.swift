import Foundation

/// Everything `pitlane serve` can be told, with the defaults that make it work with no file at all.
public struct Configuration: Sendable, Equatable {
    public struct Server: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var dataDir: String?
        /// Other web origins whose pages may use Pitlane's API and streams (CORS). Same-origin only when empty.
        public var corsOrigins: [String] = []
        /// Names Pitlane answers to besides IP literals, `localhost` and `host` (DNS-rebinding protection).
        public var hostnames: [String] = []
        /// How long a segment handle is honoured after the playlist that carried it was served.
        public var handleLifetime: Double = 6 * 3600
        /// Seconds a stop (SIGTERM) lets responses in flight finish before it cancels them.
        public var shutdownGrace: Double = 5
    }

    public struct Refresh: Sendable, Equatable {
        public var interval: Double = 240
        public var lease: Double = 60
        public var minSpacing: Double = 3
        public var holdTimeout: Double = 8
    }

    public struct Upstream: Sendable, Equatable {
        /// Seconds to wait for an upstream's response headers.
        public var timeout: Double = 15
        /// Bytes of segments kept in memory for viewers slightly behind (least recently used go first).
        public var segmentCacheBytes = 64 * 1024 * 1024
        /// How long a segment stays in that cache.
        public var segmentCacheLifetime: Double = 30
        /// Size caps and the segment deadline of upstream bodies.
        public var limits = BodyLimits()
    }

    public struct Extraction: Sendable, Equatable {
        /// How often every source is run and every stream validated.
        public var interval: Double = 1800
        /// The same while a session is live or starts within 15 minutes.
        public var liveInterval: Double = 300
        public var validate = true
        /// Streams validated at once.
        public var concurrency = 4
    }

    public struct Schedule: Sendable, Equatable {
        /// Fetch the current season from Jolpica once a day (and on POST /api/schedule/refresh).
        public var refresh = true
        public var jolpicaURL = URL(string: "https://api.jolpi.ca/ergast/f1/")!
        /// Lets `jolpica_url` point at a loopback or private address (a local mirror).
        public var allowPrivate = false
        /// How long after its planned end a race still counts as live.
        public var raceGrace: Double = 1800
        /// The same for the other sessions.
        public var grace: Double = 900
    }

    public struct Demo: Sendable, Equatable {
        public var enabled = true
        /// Seconds the demo origin's tokens live.
        public var tokenTTL: Double = 30
    }

    public struct StaticStream: Sendable, Equatable {
        public var url: URL
        public var title: String
        public var quality: String?
        public var key: String?
        /// The feed this stream carries (see "Feeds" in README).
        public var feed: String?
    }

    /// `browser:`: the headless Chromium behind `browser` sources. Nothing starts it unless one is configured.
    public struct Browser: Sendable, Equatable {
        public enum Sandbox: String, Sendable, Equatable { case auto, on, off }
        /// The Chromium executable; nil looks for `chromium`, `chromium-browser`, `google-chrome` on PATH.
        public var path: String?
        /// Pages loaded at once (a tab each, in one browser process).
        public var concurrency = 2
        /// The browser's processes together may use this much memory (RSS); more restarts it.
        public var memoryBytes = 1024 * 1024 * 1024
        /// Chromium's own sandbox: `auto` keeps it on unless Pitlane runs as root (where Chromium refuses it).
        public var sandbox: Sandbox = .auto

        public init() {}
    }

    /// Which keys of a `json` source's entries hold what.
    public struct JSONFields: Sendable, Equatable {
        public var url: String
        public var title: String?
        public var quality: String?
        public var key: String?
        public var feed: String?

        public init(url: String, title: String? = nil, quality: String? = nil, key: String? = nil, feed: String? = nil) {
            self.feed = feed
            self.url = url
            self.title = title
            self.quality = quality
            self.key = key
        }
    }

    /// One entry of `sources:`. Kind-specific keys are nil for the other kinds.
    public struct SourceConfig: Sendable, Equatable {
        public var id: String
        public var kind: String
        public var title: String?
        public var enabled = true
        public var headers: HeaderProfile = .init()
        public var allowPrivate = false
        /// `allow_hosts`: the only hosts its fetches may reach (every redirect hop too); nil for any.
        public var allowHosts: [String]?
        public var timeout: Double = 20
        /// static
        public var streams: [StaticStream] = []
        /// page, json, m3u
        public var url: URL?
        /// page, browser
        public var pattern: String?
        /// browser: seconds to wait for the page to request a playlist.
        public var wait: Double = 15
        public var iframeDepth = 2
        /// json
        public var body: String?
        public var items: String?
        public var fields: JSONFields?

        public init(id: String, kind: String) {
            self.id = id
            self.kind = kind
        }
    }

    public var server = Server()
    public var auth = Auth()

    /// `auth:`: who may use Pitlane.
    public struct Auth: Sendable, Equatable {
        public enum Mode: String, Sendable, Equatable { case none, password }
        /// `none`: anyone who reaches the port (the default, fit for loopback only); `password`: accounts.
        public var mode: Mode = .none
        /// Whether the file said `mode` itself: only then does Pitlane listen beyond loopback without accounts.
        public var modeIsExplicit = false
        /// How long a browser stays signed in.
        public var sessionLifetime: Double = 30 * 86_400

        public init() {}
    }
    public var secret: String?
    public var logLevel = "info"
    /// `text`: one line per message for people; `json`: one JSON object per line for log collectors.
    public enum LogFormat: String, Sendable, Equatable { case text, json }
    public var logFormat: LogFormat = .text
    public var refresh = Refresh()
    public var upstream = Upstream()
    /// `feeds:`: when a feed switches members.
    public var feeds = FeedSettings()
    public var demo = Demo()
    public var extraction = Extraction()
    public var browser = Browser()
    public var schedule = Schedule()
    public var sources: [SourceConfig] = []

    public init() {}

    /// The source kinds this build knows, with the keys each takes besides the common ones.
    public static let sourceKinds: [String: Set<String>] = [
        "static": ["streams"],
        "page": ["url", "pattern", "iframe_depth"],
        "json": ["url", "body", "items", "fields"],
        "m3u": ["url"],
        "browser": ["url", "wait", "pattern"],
    ]

    public var refreshPolicy: RefreshPolicy {
        RefreshPolicy(interval: refresh.interval, lease: refresh.lease, minSpacing: refresh.minSpacing, holdTimeout: refresh.holdTimeout)
    }
}

/// A configuration problem, naming the key (`sources[1].kind`) and what is wrong with it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var key: String
    public var message: String

    public init(file: String? = nil, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String {
        let place = file.map { "\($0): " } ?? ""
        return key.isEmpty ? "\(place)\(message)" : "\(place)\(key): \(message)"
    }
}

extension Configuration {
    /// What listening where the configuration says means without accounts.
    public enum Exposure: Equatable, Sendable {
        /// Loopback, or accounts on: nothing to say.
        case fine
        /// Beyond loopback without accounts, as the file asks (`auth.mode: none`): said once, at start.
        case warn(String)
        /// Beyond loopback without accounts nobody asked for: `pitlane serve` refuses.
        case refuse(String)
    }

    public var exposure: Exposure {
        guard auth.mode == .none, !Self.isLoopback(server.host) else { return .fine }
        if auth.modeIsExplicit {
            return .warn(
                "listening on \(server.host) without accounts (auth.mode: none): anyone who reaches this port can use Pitlane")
        }
        return .refuse(
            "refusing to listen on \(server.host) without accounts: set auth.mode: password (and add users with `pitlane users add NAME`), "
                + "or say auth.mode: none in the configuration to allow anyone who reaches the port")
    }

    /// 127.0.0.0/8, ::1 and localhost.
    public static func isLoopback(_ host: String) -> Bool {
        host.lowercased() == "localhost" || AddressPolicy.isLoopback(host)
    }
}
