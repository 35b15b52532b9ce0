import Foundation
import PitlaneCore
import Testing

struct HandleSignerTests {
    let signer = TestSupport.signer
    let handle = ResourceHandle(stream: "s1", kind: .segment, url: "https://cdn.example.com/a.ts?t=1", variant: "v1", msn: 42, part: nil)

    @Test func roundTrips() throws {
        let token = signer.sign(handle)
        #expect(try signer.verify(token, stream: "s1") == handle)
        #expect(!token.contains("/") && !token.contains("+") && !token.contains("="))
    }

    /// Handles used to be base64 JSON: every segment URL carried the upstream URL with its CDN token. A
    /// sealed handle shows neither the host nor the token, in any encoding, and stays in the same size
    /// class (the old form of this handle was 168 characters).
    @Test func aHandleRevealsNothingOfTheUpstream() throws {
        let token = signer.sign(handle)
        let decoded = String(decoding: Base64URL.decode(token.dropFirst(2)) ?? Data(), as: UTF8.self)
        for secret in ["cdn.example.com", "t=1", "a.ts"] {
            #expect(!token.contains(secret) && !decoded.contains(secret), "\(secret)")
        }
        #expect(token.count < 240, "\(token.count) characters")
        #expect(signer.sign(handle) != token, "a fresh nonce every time")
    }

    /// A handle is honoured for its lifetime on the injected clock, then refused as expired (410).
    @Test func aHandleExpires() throws {
        let clock = ManualClock(TestSupport.start)
        let expiring = HandleSigner(secret: Data("test-secret-0123456789".utf8), clock: clock, lifetime: 3600)
        let token = expiring.sign(handle)
        clock.advance(by: 3599)
        #expect(try expiring.verify(token, stream: "s1") == handle)
        clock.advance(by: 1)
        #expect(throws: HandleError.expired) { try expiring.verify(token, stream: "s1") }
    }

    /// A recording's playlist is read once: its handles outlive the whole recording (6000 s here) besides
    /// the lifetime, or a long replay would meet 410s halfway through.
    @Test func aRecordingsHandlesOutliveIt() throws {
        let clock = ManualClock(TestSupport.start)
        let expiring = HandleSigner(secret: Data("test-secret-0123456789".utf8), clock: clock, lifetime: 3600)
        let vod = try PlaylistParser.parse(
            "#EXTM3U\n#EXT-X-TARGETDURATION:600\n" + String(repeating: "#EXTINF:600,\ns.ts\n", count: 10) + "#EXT-X-ENDLIST\n")
        let text = MediaRewriter(stream: "s1", variant: "v", signer: expiring)
            .rewrite(vod, baseURL: URL(string: "https://cdn.example.com/vod/index.m3u8")!).serialized()
        let token = try #require(text.split(separator: "\n").first { $0.hasPrefix("../s/") }).dropFirst(5).dropLast(3)
        clock.advance(by: 9500)
        #expect(throws: Never.self) { try expiring.verify(String(token), stream: "s1") }
        clock.advance(by: 200)
        #expect(throws: HandleError.expired) { try expiring.verify(String(token), stream: "s1") }
    }

    /// Any character changed anywhere in the sealed box fails its authentication.
    @Test(arguments: [2, 10, 40, 80, -3])
    func refusesAFlippedCharacter(_ position: Int) throws {
        var characters = Array(signer.sign(handle))
        let index = position < 0 ? characters.count + position : position
        characters[index] = characters[index] == "A" ? "B" : "A"
        #expect(throws: HandleError.badSignature) { try signer.verify(String(characters), stream: "s1") }
    }

    @Test func refusesAnotherSecretsHandle() {
        let other = HandleSigner(secret: Data("another-secret-value".utf8))
        #expect(throws: HandleError.badSignature) { try signer.verify(other.sign(handle), stream: "s1") }
    }

    @Test func refusesAHandleUnderAnotherStream() {
        #expect(throws: HandleError.wrongStream) { try signer.verify(signer.sign(handle), stream: "s2") }
    }

    @Test(arguments: ["", "abc", "a.b.c", "....", "eyJ9.AAAA", "!!!.###"])
    func refusesMalformedTokens(_ token: String) {
        #expect(throws: HandleError.self) { try signer.verify(token, stream: "s1") }
    }
}
