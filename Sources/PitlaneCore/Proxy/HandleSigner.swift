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
    /// An HMAC already keyed: copying it skips deriving the inner and outer pads for every handle (a
    /// media playlist signs one per segment).
    private let keyed: HMAC<SHA256>

    public init(secret: some DataProtocol) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data(secret)))
        self.keyed = HMAC<SHA256>(key: key)
    }

    public func sign(_ handle: ResourceHandle) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = (try? encoder.encode(handle)) ?? Data()
        var mac = keyed
        mac.update(data: payload)
        return Base64URL.encode(payload) + "." + Base64URL.encode(Data(mac.finalize()).prefix(16))
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
    /// Byte by byte: a media playlist signs one handle per segment, and Foundation's string replacing was
    /// most of the time a 200k-segment playlist took.
    public static func encode(_ data: Data) -> String {
        let standard = data.base64EncodedData()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(standard.count)
        for byte in standard {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func decode(_ text: some StringProtocol) -> Data? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "-"): bytes.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "/"))
            case UInt8(ascii: "="): return nil  // no padding in this form
            default: bytes.append(byte)
            }
        }
        while bytes.count % 4 != 0 { bytes.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(bytes))
    }
}
