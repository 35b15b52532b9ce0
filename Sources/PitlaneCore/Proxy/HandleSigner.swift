import Crypto
import Foundation

/// Why a handle was refused. Every case is answered 403 without touching the upstream.
public enum HandleError: Error, Sendable, Equatable {
    case malformed
    case badSignature
    case wrongStream
}

/// Signs and verifies resource handles with HMAC-SHA256, so Pitlane only ever fetches URLs it put into a
/// playlist itself and can never be used as an open proxy.
public struct HandleSigner: Sendable {
    private let key: SymmetricKey

    public init(secret: some DataProtocol) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data(secret)))
    }

    public func sign(_ handle: ResourceHandle) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = (try? encoder.encode(handle)) ?? Data()
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return Base64URL.encode(payload) + "." + Base64URL.encode(Data(mac).prefix(16))
    }

    public func verify(_ token: String, stream: String) throws(HandleError) -> ResourceHandle {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Base64URL.decode(parts[0]), let mac = Base64URL.decode(parts[1]), mac.count == 16
        else { throw .malformed }
        let expected = Data(HMAC<SHA256>.authenticationCode(for: payload, using: key)).prefix(16)
        guard constantTimeEqual(expected, mac) else { throw .badSignature }
        guard let handle = try? JSONDecoder().decode(ResourceHandle.self, from: payload) else { throw .malformed }
        guard handle.stream == stream else { throw .wrongStream }
        return handle
    }

    private func constantTimeEqual(_ lhs: Data, _ rhs: Data) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }
}

/// Base64 with the URL- and path-safe alphabet and no padding (RFC 4648 §5).
public enum Base64URL {
    public static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: some StringProtocol) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
