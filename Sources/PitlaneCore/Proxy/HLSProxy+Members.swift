import Foundation

/// What a feed asks of the proxy about one of its members: its media playlists, rewritten with handles
/// sealed for the member (so its holds, refreshes and relocations work as for the stream itself).
extension HLSProxy {
    /// The member's media playlist for the entry `choose` picks from its master index (the nearest to the
    /// feed's variant), rewritten, with the entry it came from.
    public func memberMedia(stream id: String, key: String, choose: @escaping @Sendable (MasterIndex) async -> MasterIndex.Entry?)
        async throws -> (playlist: Playlist, entry: MasterIndex.Entry)
    {
        let hold = Hold(limit: policy.holdTimeout)
        let record = try await activeRecord(id, hold: hold)
        let (playlist, finalURL, index) = try await fetchVariant(id, key: key, record: record, directives: [], hold: hold, choose: choose)
        guard playlist.kind == .media, let entry = await choose(index) else {
            throw ProxyFailure(status: 502, message: "the upstream variant for \(key) is not a media playlist")
        }
        let rewriter = MediaRewriter(stream: id, variant: entry.key, context: entry.context, signer: signer, report: reporter(id))
        return (rewriter.rewrite(playlist, baseURL: finalURL), entry)
    }

    /// The member's master index (for the feed to remember the variants its players were given).
    public func memberIndex(stream id: String) async -> MasterIndex? {
        guard let record = await catalog.record(id) else { return nil }
        return try? await index(for: record)
    }

    /// Whether a request for the stream is held for a token refresh now.
    public func isHolding(_ stream: String) -> Bool { holds.withLockedValue { $0[stream] != nil } }

    /// A handle's content whatever stream it was sealed for (a feed checks the stream is its member).
    public func openHandle(_ token: String) throws(HandleError) -> ResourceHandle {
        try signer.open(token)
    }

    /// Logs a feed's failure to reach a member like any proxy failure, and gives the reply it maps to.
    public func memberFailure(_ error: any Error, stream: String, what: String) -> ProxyReply {
        failureReply(error, stream: stream, what: what)
    }
}
