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

    @Test func refusesATamperedPayload() throws {
        let token = signer.sign(handle)
        var forged = handle
        forged.url = "http://169.254.169.254/latest/meta-data/"
        let otherPayload = signer.sign(forged).split(separator: ".")[0]
        let mac = token.split(separator: ".")[1]
        #expect(throws: HandleError.badSignature) { try signer.verify("\(otherPayload).\(mac)", stream: "s1") }
    }

    /// Every character of the MAC but the last carries six bits of it (the last one carries two and four
    /// bits of padding), so flipping one in the middle must fail the signature check itself.
    @Test(arguments: [0, 5, 10, 20])
    func refusesAFlippedSignatureCharacter(_ position: Int) throws {
        let token = signer.sign(handle)
        let parts = token.split(separator: ".")
        var mac = Array(parts[1])
        mac[position] = mac[position] == "A" ? "B" : "A"
        #expect(throws: HandleError.badSignature) { try signer.verify("\(parts[0]).\(String(mac))", stream: "s1") }
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
