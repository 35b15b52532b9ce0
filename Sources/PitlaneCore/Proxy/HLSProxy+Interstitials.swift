import Foundation

/// Interstitials (HLS 2nd edition, Appendix D): an EXT-X-DATERANGE names a playlist (`X-ASSET-URI`) or a
/// JSON asset list (`X-ASSET-LIST`) that the player loads in the middle of the stream. Both are fetched
/// and rewritten like the stream's own playlists, so the player never meets the upstream's URIs.
extension HLSProxy {
    /// Asset lists are a few hundred bytes; anything near this is not one.
    static let assetListLimit = 1024 * 1024

    func interstitial(_ handle: ResourceHandle) async -> ProxyReply {
        let id = handle.stream
        do {
            guard let record = await catalog.record(id) else { throw ProxyFailure.unknownStream(id) }
            guard let url = URL(string: handle.url) else { throw ProxyFailure(status: 502, message: "unusable upstream URL") }
            switch handle.kind {
            case .asset:
                return try await assetPlaylist(url, record: record)
            default:
                return try await assetList(url, record: record)
            }
        } catch {
            return failureReply(error, stream: id, what: "interstitial \(handle.kind)")
        }
    }

    /// An interstitial's playlist: a master gets every URI as a handle beside it, a media playlist has its
    /// segments rewritten as the stream's are.
    private func assetPlaylist(_ url: URL, record: StreamRecord) async throws -> ProxyReply {
        let id = record.descriptor.id
        let fetched: Playlist
        let finalURL: URL
        do {
            (fetched, finalURL) = try await fetchPlaylist(url, record: record)
        } catch let failure as ProxyFailure where failure.rejection != nil {
            throw ProxyFailure(status: 502, message: "the upstream rejected the interstitial's playlist")
        }
        let playlist = PlaylistVariables.resolve(fetched, url: finalURL).playlist
        switch playlist.kind {
        case .master:
            let rewriter = MasterRewriter(stream: id, signer: signer, layout: .asset, report: reporter(id))
            return .playlist(rewriter.rewrite(playlist, baseURL: finalURL).playlist)
        case .media:
            let rewriter = MediaRewriter(stream: id, variant: MediaRewriter.assetVariant, signer: signer, report: reporter(id))
            return .playlist(rewriter.rewrite(playlist, baseURL: finalURL))
        }
    }

    /// An asset list (`{"ASSETS": [{"URI": …, "DURATION": …}]}`) with each URI made a handle beside it.
    private func assetList(_ url: URL, record: StreamRecord) async throws -> ProxyReply {
        let request = UpstreamRequest(
            url: url, headers: record.descriptor.headers, allowPrivate: record.descriptor.allowPrivate, timeout: requestTimeout,
            allowHosts: record.descriptor.allowHosts)
        let response = try await upstream.send(request)
        guard response.status == 200 else { throw ProxyFailure.upstreamStatus(response.status) }
        let body = try await response.body.collect(upTo: Self.assetListLimit, within: requestTimeout)
        let text = try AssetListRewriter(stream: record.descriptor.id, signer: signer).rewrite(
            Data(body.readableBytesView), baseURL: response.url)
        return ProxyReply(
            status: 200, headers: HeaderProfile(["Content-Type": "application/json", "Cache-Control": ProxyReply.playlistCacheControl]),
            body: .text(text))
    }
}

/// Rewrites an interstitial asset list's URIs to asset handles; every other field is kept as it was.
public struct AssetListRewriter: Sendable {
    public let stream: String
    public let signer: HandleSigner

    public init(stream: String, signer: HandleSigner) {
        self.stream = stream
        self.signer = signer
    }

    public func rewrite(_ json: Data, baseURL: URL) throws -> String {
        guard var object = try? JSONSerialization.jsonObject(with: json) as? [String: Any], let assets = object["ASSETS"] as? [Any] else {
            throw ProxyFailure(status: 502, message: "the upstream's asset list is not an HLS asset list")
        }
        object["ASSETS"] = assets.compactMap { item -> Any? in
            guard var asset = item as? [String: Any] else { return nil }
            guard let uri = asset["URI"] as? String, let upstream = URIResolver.fetchable(uri, against: baseURL) else { return nil }
            asset["URI"] = signer.sign(ResourceHandle(stream: stream, kind: .asset, url: upstream.absoluteString)) + ".m3u8"
            return asset
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
