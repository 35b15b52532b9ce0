import Foundation
import PitlaneCore
import Testing

/// The fixture corpus: every playlist under Fixtures/playlists is parsed and rewritten, and the result
/// (handles decoded to show what they carry) must equal its `.expected` file exactly.
/// `PITLANE_UPDATE_FIXTURES=1 swift test --filter PlaylistCorpus` rewrites the expected files; review the diff.
struct PlaylistCorpusTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var base: URL
        var variant: String?
        var subtitles: Bool
        var testDescription: String { name }
    }

    static let folder = TestSupport.fixtures.appendingPathComponent("playlists")

    static let cases: [Case] = {
        let text = (try? String(contentsOf: folder.appendingPathComponent("cases.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: " ").map(String.init)
            let variant = fields.first { $0.hasPrefix("variant=") }.map { String($0.dropFirst("variant=".count)) }
            return Case(name: fields[0], base: URL(string: fields[1])!, variant: variant, subtitles: fields.contains("subtitles"))
        }
    }()

    @Test func corpusIsLargeEnough() {
        #expect(Self.cases.count >= 30)
    }

    @Test(arguments: cases)
    func rewritesExactly(_ testCase: Case) throws {
        let input = try Data(contentsOf: Self.folder.appendingPathComponent(testCase.name + ".m3u8"))
        let playlist = try PlaylistParser.parse(input)
        let output = Self.render(playlist, testCase)
        let expectedURL = Self.folder.appendingPathComponent(testCase.name + ".expected")
        if ProcessInfo.processInfo.environment["PITLANE_UPDATE_FIXTURES"] == "1" {
            try output.write(to: expectedURL, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(output == expected)
    }

    static func render(_ playlist: Playlist, _ testCase: Case) -> String {
        let stream = "s1"
        switch playlist.kind {
        case .master:
            let (rewritten, index) = MasterRewriter(stream: stream, signer: TestSupport.signer).rewrite(playlist, baseURL: testCase.base)
            var text = TestSupport.decodeHandles(rewritten.serialized(), stream: stream)
            text += "# --- index ---\n"
            for entry in index.entries { text += "# \(entry.key) \(entry.kind) \(entry.upstream.absoluteString)\n" }
            return text
        case .media:
            let rewriter = MediaRewriter(
                stream: stream, variant: testCase.variant ?? "v1", isSubtitles: testCase.subtitles, signer: TestSupport.signer)
            let rewritten = rewriter.rewrite(playlist, baseURL: testCase.base) { url in
                url.path.contains("unknown") ? nil : "key-" + url.deletingLastPathComponent().lastPathComponent
            }
            return TestSupport.decodeHandles(rewritten.serialized(), stream: stream)
        }
    }
}
