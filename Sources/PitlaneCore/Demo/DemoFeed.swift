import Foundation

/// One of the demo source's looping feeds: its renditions share segment timing so they switch cleanly.
public struct DemoFeed: Sendable, Equatable {
    public struct Rendition: Sendable, Equatable {
        public var name: String
        public var bandwidth: Int
        public var resolution: String
    }

    public var id: String
    public var title: String
    public var renditions: [Rendition]

    /// The feeds whose media `scripts/make-demo-media.sh` makes.
    public static let all: [DemoFeed] = [
        DemoFeed(
            id: "world", title: "World feed",
            renditions: [
                Rendition(name: "high", bandwidth: 420_000, resolution: "640x360"),
                Rendition(name: "low", bandwidth: 210_000, resolution: "320x180"),
            ]),
        DemoFeed(id: "onboard-a", title: "Onboard A", renditions: [Rendition(name: "main", bandwidth: 250_000, resolution: "426x240")]),
        DemoFeed(id: "onboard-b", title: "Onboard B", renditions: [Rendition(name: "main", bandwidth: 250_000, resolution: "426x240")]),
        DemoFeed(id: "pit-lane", title: "Pit lane", renditions: [Rendition(name: "main", bandwidth: 250_000, resolution: "426x240")]),
    ]
}

/// Turns the demo's looping files into a live stream: wall time since a fixed epoch decides the media
/// sequence number, so every Pitlane process (and restart) agrees on what is live now.
public struct DemoTimeline: Sendable, Equatable {
    /// 2024-01-01T00:00:00Z: the demo's broadcast began then.
    public static let epoch = Date(timeIntervalSince1970: 1_704_067_200)

    public var segmentCount: Int
    public var segmentDuration: Double
    public var windowSize: Int

    public init(segmentCount: Int, segmentDuration: Double = 2, windowSize: Int = 6) {
        self.segmentCount = segmentCount
        self.segmentDuration = segmentDuration
        self.windowSize = windowSize
    }

    /// The newest segment that has completely "aired" at `now`.
    public func liveEdge(at now: Date) -> Int {
        max(windowSize - 1, Int((now.timeIntervalSince(Self.epoch) / segmentDuration).rounded(.down)) - 1)
    }

    /// The file (0-based) behind a media sequence number.
    public func fileIndex(of msn: Int) -> Int {
        msn % segmentCount
    }

    /// A live media playlist: the last `windowSize` segments, a discontinuity where the loop restarts,
    /// program date-times, and `query` (the token) appended to every segment URI.
    public func mediaPlaylist(at now: Date, query: String) -> String {
        let last = liveEdge(at: now)
        let first = last - windowSize + 1
        var text = """
            #EXTM3U
            #EXT-X-VERSION:3
            #EXT-X-TARGETDURATION:\(Int(segmentDuration.rounded(.up)))
            #EXT-X-MEDIA-SEQUENCE:\(first)
            #EXT-X-DISCONTINUITY-SEQUENCE:\(first / segmentCount)

            """
        for msn in first...last {
            if msn != first, msn % segmentCount == 0 { text += "#EXT-X-DISCONTINUITY\n" }
            let start = Self.epoch.addingTimeInterval(Double(msn) * segmentDuration)
            text += "#EXT-X-PROGRAM-DATE-TIME:\(Self.formatter.format(start))\n"
            text += "#EXTINF:\(String(format: "%.3f", segmentDuration)),\n"
            text += String(format: "%02d.ts", fileIndex(of: msn)) + "?" + query + "\n"
        }
        return text
    }

    private static let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// A master playlist naming the feed's renditions, each carrying the same token.
    public static func masterPlaylist(for feed: DemoFeed, query: String) -> String {
        var text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        for rendition in feed.renditions {
            text += "#EXT-X-STREAM-INF:BANDWIDTH=\(rendition.bandwidth),RESOLUTION=\(rendition.resolution),"
            text += "CODECS=\"avc1.4d401e,mp4a.40.2\",FRAME-RATE=25.000\n"
            text += "\(rendition.name)/live.m3u8?\(query)\n"
        }
        return text
    }
}
