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
        var context: MediaContext
        /// Variables the master defined, for `IMPORT` (`import=name=value`).
        var imported: [String: String]
        var testDescription: String { name }
    }

    static let folder = TestSupport.fixtures.appendingPathComponent("playlists")

    static let cases: [Case] = {
        let text = (try? String(contentsOf: folder.appendingPathComponent("cases.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: " ").map(String.init)
            func value(_ name: String) -> String? { fields.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) } }
            let context: MediaContext =
                if fields.contains("subtitles") { .subtitles } else if fields.contains("images") {
                    .images
                } else if let codecs = value("audio") {
                    .audio(codecs: codecs)
                } else { .video }
            var imported: [String: String] = [:]
            for field in fields where field.hasPrefix("import=") {
                let pair = field.dropFirst("import=".count).split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { imported[pair[0]] = pair[1] }
            }
            return Case(name: fields[0], base: URL(string: fields[1])!, variant: value("variant"), context: context, imported: imported)
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

    /// Serializing is the identity on what the parser keeps: a second parse gives the same playlist.
    @Test(arguments: cases)
    func serializingIsStable(_ testCase: Case) throws {
        let playlist = try PlaylistParser.parse(try Data(contentsOf: Self.folder.appendingPathComponent(testCase.name + ".m3u8")))
        #expect(try PlaylistParser.parse(playlist.serialized()) == playlist)
    }

    /// Whatever the input, the rewritten playlist names no upstream: every http(s) URI became a handle or
    /// was dropped (only `data:` and `skd:` pass through).
    @Test(arguments: cases)
    func rewritingLeavesNoUpstreamURI(_ testCase: Case) throws {
        let fetched = try PlaylistParser.parse(try Data(contentsOf: Self.folder.appendingPathComponent(testCase.name + ".m3u8")))
        let (playlist, _) = PlaylistVariables.resolve(fetched, url: testCase.base, imported: testCase.imported)
        let output: String
        switch playlist.kind {
        case .master:
            output = MasterRewriter(stream: "s1", signer: TestSupport.signer).rewrite(playlist, baseURL: testCase.base).playlist
                .serialized()
        case .media:
            output = MediaRewriter(stream: "s1", variant: "v1", context: testCase.context, signer: TestSupport.signer)
                .rewrite(playlist, baseURL: testCase.base).serialized()
        }
        let host = testCase.base.host ?? "-"
        #expect(!output.lowercased().contains("http://") && !output.lowercased().contains("https://"), "\(output)")
        #expect(!output.contains(host))
    }

    /// What the proxy does with a fetched playlist: variables substituted, then rewritten.
    static func render(_ fetched: Playlist, _ testCase: Case) -> String {
        let stream = "s1"
        let (playlist, variables) = PlaylistVariables.resolve(fetched, url: testCase.base, imported: testCase.imported)
        switch playlist.kind {
        case .master:
            let (rewritten, index) = MasterRewriter(stream: stream, signer: TestSupport.signer).rewrite(playlist, baseURL: testCase.base)
            var text = TestSupport.decodeHandles(rewritten.serialized(), stream: stream)
            text += "# --- index ---\n"
            for entry in index.entries {
                text +=
                    "# \(entry.key) \(entry.kind) \(entry.upstream.absoluteString)" + (entry.codecs.map { " codecs=\($0)" } ?? "") + "\n"
            }
            for (name, value) in variables.sorted(by: { $0.key < $1.key }) { text += "# variable \(name)=\(value)\n" }
            return text
        case .media:
            let rewriter = MediaRewriter(
                stream: stream, variant: testCase.variant ?? "v1", context: testCase.context, signer: TestSupport.signer)
            let rewritten = rewriter.rewrite(playlist, baseURL: testCase.base) { url in
                url.path.contains("unknown") ? nil : "key-" + url.deletingLastPathComponent().lastPathComponent
            }
            return TestSupport.decodeHandles(rewritten.serialized(), stream: stream)
        }
    }
}
