import Crypto
import Foundation

/// Why a handle was refused: 403 without touching the upstream, except an expired one (410: the player
/// reloads the playlist and gets fresh handles).
public enum HandleError: Error, Sendable, Equatable {
    case malformed
    case badSignature
    case wrongStream
    case expired
}

/// Seals resource handles with an AEAD (ChaChaPoly from swift-crypto): a segment URL reveals nothing of the
/// upstream (neither its host nor its CDN token), Pitlane only ever fetches URLs it put into a playlist
/// itself (it can never be used as an open proxy), and a handle is honoured for `lifetime` after it was
/// issued. The type keeps its name from when handles were only signed.
public struct HandleSigner: Sendable {
    /// The token's form: a version, then the sealed box (nonce, ciphertext, tag) in base64url.
    static let version = "1."

    private let key: SymmetricKey
    private let clock: any WallClock
    /// How long a handle is honoured after it was issued (`server.handle_lifetime`).
    public let lifetime: TimeInterval

    /// What is sealed: the handle and when it stops being honoured (Unix seconds).
    private struct Sealed: Codable {
        var h: ResourceHandle
        var x: Int
    }

    public init(secret: some DataProtocol, clock: any WallClock = SystemClock(), lifetime: TimeInterval = 6 * 3600) {
        self.key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret)), info: Data("pitlane resource handles v1".utf8), outputByteCount: 32)
        self.clock = clock
        self.lifetime = lifetime.isFinite ? min(max(lifetime, 1), 365 * 86_400) : 6 * 3600
    }

    /// - Parameter extra: added to the lifetime: a recording's playlist is read once, so its handles
    ///   must outlive its whole duration (the media rewriter passes it).
    public func sign(_ handle: ResourceHandle, extra: TimeInterval = 0) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expires = clock.now().timeIntervalSince1970 + lifetime + (extra.isFinite ? min(max(extra, 0), 30 * 86_400) : 0)
        let payload = (try? encoder.encode(Sealed(h: handle, x: expires.isFinite ? Int(min(expires, 1e15)) : 0))) ?? Data()
        guard let box = try? ChaChaPoly.seal(payload, using: key) else { return Self.version }
        return Self.version + Base64URL.encode(box.combined)
    }

    public func verify(_ token: String, stream: String) throws(HandleError) -> ResourceHandle {
        let handle = try open(token)
        guard handle.stream == stream else { throw .wrongStream }
        return handle
    }

    /// The handle, if this key sealed it and it has not expired, whatever stream it was issued for.
    public func open(_ token: String) throws(HandleError) -> ResourceHandle {
        guard token.hasPrefix(Self.version), let combined = Base64URL.decode(token.dropFirst(Self.version.count)), combined.count > 28
        else { throw .malformed }
        guard let box = try? ChaChaPoly.SealedBox(combined: combined), let payload = try? ChaChaPoly.open(box, using: key) else {
            throw .badSignature
        }
        guard let sealed = try? JSONDecoder().decode(Sealed.self, from: payload) else { throw .malformed }
        guard Double(sealed.x) > clock.now().timeIntervalSince1970 else { throw .expired }
        return sealed.h
    }
}
