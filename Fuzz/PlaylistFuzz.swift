// libFuzzer entry point for the HLS engine's pure core: the parser, the serializer, attribute lists,
// EXT-X-DEFINE substitution and URI resolution. Built by scripts/fuzz with the sources of
// Sources/PitlaneCore/HLS/ (no package, no dependencies), seeded from the playlist corpus.
import Foundation

private let base = URL(string: "https://cdn.example.com/live/event/index.m3u8?token=abc")!

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let playlist = try? PlaylistParser.parse(bytes) else { return 0 }

    // Serializing is stable: parse(serialize(p)) serializes to the same text.
    let text = playlist.serialized()
    guard let again = try? PlaylistParser.parse(text) else { fatalError("a serialized playlist does not parse again") }
    guard again.serialized() == text else { fatalError("serialize ∘ parse is not stable") }

    for line in playlist.lines {
        switch line {
        case .tag(let tag):
            // Attribute lists survive a round trip of their own serialization.
            let attributes = tag.attributes
            let reparsed = AttributeList(parsing: Substring(attributes.serialized))
            guard reparsed.serialized == attributes.serialized else { fatalError("attribute list round trip") }
            if let uri = attributes["URI"] { _ = URIResolver.fetchable(uri, against: base) }
        case .uri(let uri):
            _ = URIResolver.fetchable(uri, against: base)
            _ = URIResolver.redacted(URIResolver.resolve(uri, against: base) ?? base)
        case .comment:
            break
        }
    }

    // Variable substitution stays within its budget whatever the playlist defines.
    let (resolved, _) = PlaylistVariables.resolve(playlist, url: base, imported: ["cdn": "https://edge.example.com"])
    let grown = resolved.serialized().utf8.count - text.utf8.count
    guard grown <= PlaylistVariables.expansionBudget + 1024 else { fatalError("variables grew the playlist by \(grown) bytes") }
    return 0
}
