// A stand-in for swift-crypto in the fuzz build only, with the names the rewriters' files use and NO
// cryptography (an FNV-1a mix): it lets scripts/fuzz compile the handle signer and the master index with
// swiftc alone, without building BoringSSL with the fuzzer's instrumentation. Never part of Pitlane.
import Foundation

public protocol HashFunction {}

public struct SHA256: HashFunction, Sendable {
    public struct Digest: Sequence, Sendable {
        let bytes: [UInt8]
        public func makeIterator() -> IndexingIterator<[UInt8]> { bytes.makeIterator() }
    }

    public static func hash<D: DataProtocol>(data: D) -> Digest {
        var bytes: [UInt8] = []
        for seed in 0..<4 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325 &+ UInt64(seed)
            for byte in data {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            withUnsafeBytes(of: hash) { bytes.append(contentsOf: $0) }
        }
        return Digest(bytes: bytes)
    }
}

public struct SymmetricKey: Sendable {
    let bytes: [UInt8]
    public init<D: Sequence>(data: D) where D.Element == UInt8 { bytes = Array(data) }
}

public struct HMAC<H: HashFunction>: Sendable {
    private var input: [UInt8]

    public init(key: SymmetricKey) { input = key.bytes }

    public mutating func update<D: DataProtocol>(data: D) { input.append(contentsOf: data) }

    public func finalize() -> SHA256.Digest { SHA256.hash(data: input) }

    public static func authenticationCode<D: DataProtocol>(for data: D, using key: SymmetricKey) -> SHA256.Digest {
        var mac = HMAC(key: key)
        mac.update(data: data)
        return mac.finalize()
    }
}

public struct HKDF<H: HashFunction> {
    public static func deriveKey<Info: DataProtocol>(inputKeyMaterial: SymmetricKey, info: Info, outputByteCount: Int) -> SymmetricKey {
        SymmetricKey(data: Array(SHA256.hash(data: inputKeyMaterial.bytes + Array(info))).prefix(outputByteCount))
    }
}

/// Not encryption: the "sealed" box is the plaintext between a zero nonce and a tag of the key's hash.
public enum ChaChaPoly {
    public struct SealedBox: Sendable {
        public let combined: Data
        public init<D: DataProtocol>(combined: D) throws { self.combined = Data(combined) }
    }

    struct OpenError: Error {}

    public static func seal<D: DataProtocol>(_ message: D, using key: SymmetricKey) throws -> SealedBox {
        try SealedBox(combined: [UInt8](repeating: 0, count: 12) + Array(message) + Array(SHA256.hash(data: key.bytes)).prefix(16))
    }

    public static func open(_ box: SealedBox, using key: SymmetricKey) throws -> Data {
        let bytes = Array(box.combined)
        guard bytes.count >= 28, Array(bytes.suffix(16)) == Array(Array(SHA256.hash(data: key.bytes)).prefix(16)) else { throw OpenError() }
        return Data(bytes[12..<(bytes.count - 16)])
    }
}
