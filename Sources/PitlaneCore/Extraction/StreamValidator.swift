import Foundation
import NIOCore

/// Checks that a stream really plays, the way a player starts it: the playlist loads and is HLS; for a
/// master, its first variant loads; one segment's first bytes arrive and are not an error page. Measures
/// the start-up latency of those three requests. Never throws: every failure is a verdict.
public struct StreamValidator: Sendable {
    let http: any UpstreamClient
    let timeout: Duration
    let playlistLimit: Int
    let measure: @Sendable () -> ContinuousClock.Instant

    public init(
        http: any UpstreamClient, timeout: Duration = .seconds(10), playlistLimit: Int = BodyLimits().playlist,
        measure: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.http = http
        self.timeout = timeout
        self.playlistLimit = playlistLimit
        self.measure = measure
    }

    struct Failure: Error {
        var reason: String
    }

    public func validate(_ stream: StreamDescriptor, now: Date) async -> StreamHealth {
        let started = measure()
        var health = StreamHealth(playable: false, checkedAt: now)
        do {
            var (playlist, finalURL) = try await playlist(at: stream.upstream, stream)
            if playlist.kind == .master {
                let index = MasterRewriter.index(of: playlist, baseURL: finalURL)
                let variants = playlist.lines.compactMap { line -> AttributeList? in
                    if case .tag(let tag) = line, tag.name == "EXT-X-STREAM-INF" { return tag.attributes }
                    return nil
                }
                health.bandwidth = variants.compactMap { $0["BANDWIDTH"].flatMap(Int.init) }.max()
                health.resolutions = Array(Set(variants.compactMap { $0["RESOLUTION"] })).sorted { Self.height($0) > Self.height($1) }
                guard let first = index.entries.first(where: { $0.kind == .variant }) else {
                    throw Failure(reason: "the master lists no variant")
                }
                (playlist, finalURL) = try await self.playlist(at: first.upstream, stream)
                guard playlist.kind == .media else { throw Failure(reason: "the variant is a master playlist, not a media playlist") }
            }
            health.live = !playlist.hasEndList
            let segments = MediaPlaylistWalker.references(in: playlist).filter { $0.kind == .segment && !$0.isRenditionReport }
            // A live stream's newest segments are the ones sure to exist; a recording's first.
            guard let segment = health.live == true ? segments.last : segments.first,
                let segmentURL = URIResolver.resolve(segment.uri, against: finalURL)
            else { throw Failure(reason: "the media playlist has no segment") }
            try await checkSegment(segmentURL, stream)
            health.playable = true
            health.latencyMs = Int((measure() - started) / .milliseconds(1))
        } catch let failure as Failure {
            health.error = failure.reason
        } catch {
            health.error = "\(error)"
        }
        return health
    }

    private func playlist(at url: URL, _ stream: StreamDescriptor) async throws -> (Playlist, URL) {
        let response = try await http.send(request(url, stream, range: nil))
        guard response.status == 200 else { throw Failure(reason: "\(URIResolver.redacted(url)) answered \(response.status)") }
        let body = try await response.body.collect(upTo: playlistLimit, within: timeout)
        do {
            return (try PlaylistParser.parse(body.readableBytesView), response.url)
        } catch {
            throw Failure(reason: "\(URIResolver.redacted(url)) is not a playlist: \(error)")
        }
    }

    private func checkSegment(_ url: URL, _ stream: StreamDescriptor) async throws {
        let response = try await http.send(request(url, stream, range: "bytes=0-4095"))
        guard response.status == 200 || response.status == 206 else {
            throw Failure(reason: "a segment answered \(response.status)")
        }
        var iterator = response.body.makeAsyncIterator()
        guard let first = try await iterator.next(), first.readableBytes > 0 else { throw Failure(reason: "a segment is empty") }
        let type = response.headers.value(for: "Content-Type")?.lowercased() ?? ""
        let head = first.getBytes(at: first.readerIndex, length: min(16, first.readableBytes)) ?? []
        if type.hasPrefix("text/html") || head.first == UInt8(ascii: "<") {
            throw Failure(reason: "a segment is an HTML page, not media")
        }
    }

    private func request(_ url: URL, _ stream: StreamDescriptor, range: String?) -> UpstreamRequest {
        UpstreamRequest(
            url: url, headers: stream.headers, allowPrivate: stream.allowPrivate, range: range, timeout: timeout,
            allowHosts: stream.allowHosts)
    }

    static func height(_ resolution: String) -> Int {
        Int(resolution.split(separator: "x").last ?? "") ?? 0
    }
}
