// libFuzzer entry point for the two rewriters: whatever the upstream's playlist holds, the rewritten one
// parses again, is stable, and names no upstream: every URI a player would fetch is a handle or a variant
// key beside it (only `data:` and `skd:` pass through). Built by scripts/fuzz with the HLS engine's
// sources, the rewriters' and the handle signer's, against Fuzz/Shims/Crypto.swift.
import Foundation

private let base = URL(string: "https://cdn.example.com/live/event/index.m3u8?token=abc")!
private let signer = HandleSigner(secret: Array("fuzzing-secret-0123456789".utf8))

/// Tags whose value is a duration, a number, a date or a title: players read no URI in them.
private let plainTags: Set<String> = [
    "EXTINF", "EXT-X-BYTERANGE", "EXT-X-PROGRAM-DATE-TIME", "EXT-X-TARGETDURATION", "EXT-X-MEDIA-SEQUENCE",
    "EXT-X-DISCONTINUITY-SEQUENCE", "EXT-X-VERSION", "EXT-X-PLAYLIST-TYPE", "EXT-X-BITRATE",
]

/// Attributes that carry a URI a player fetches.
private func isURIAttribute(_ name: String) -> Bool {
    name == "URI" || name.hasSuffix("-URI") || name == "X-ASSET-LIST"
}

/// A URI that leads nowhere but Pitlane: relative to the rewritten playlist, not a host or an absolute path.
private func staysHere(_ uri: String) -> Bool {
    let lower = uri.lowercased()
    if URIRewriting.passesThrough(uri) { return true }
    return !lower.contains("://") && !lower.hasPrefix("//") && !lower.hasPrefix("/") && !lower.hasPrefix("\\")
}

private func check(_ output: Playlist, _ what: String) {
    let text = output.serialized()
    guard let again = try? PlaylistParser.parse(text) else { fatalError("the rewritten \(what) does not parse:\n\(text)") }
    guard again.serialized() == text else { fatalError("the rewritten \(what) is not stable") }
    for line in again.lines {
        switch line {
        case .uri(let uri):
            guard staysHere(uri) else { fatalError("an upstream URI is left in the rewritten \(what): \(uri)") }
        case .tag(let tag) where !plainTags.contains(tag.name):
            for entry in tag.attributes.entries where isURIAttribute(entry.name) {
                let value = entry.rawValue.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                guard staysHere(value) else { fatalError("an upstream \(entry.name) is left in the rewritten \(what): \(value)") }
            }
        case .tag, .comment:
            break
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let fetched = try? PlaylistParser.parse(UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    let (playlist, _) = PlaylistVariables.resolve(fetched, url: base, imported: ["cdn": "https://edge.example.com"])
    switch playlist.kind {
    case .master:
        for layout in [MasterRewriter.Layout.stream, .asset] {
            check(MasterRewriter(stream: "s1", signer: signer, layout: layout).rewrite(playlist, baseURL: base).playlist, "master")
        }
    case .media:
        for context in [MediaContext.video, .audio(codecs: "mp4a.40.2")] {
            let rewriter = MediaRewriter(stream: "s1", variant: "v1", context: context, signer: signer)
            check(rewriter.rewrite(playlist, baseURL: base, variantKeyFor: { $0.path.hasSuffix("1.m3u8") ? "k1" : nil }), "media playlist")
        }
    }
    return 0
}
