import Foundation
import Logging
import PitlaneCore

/// The secret that signs handles and demo tokens: from the configuration, else generated once and kept in
/// the data directory (mode 0600) so handles stay valid across restarts.
enum SecretStore {
    static func load(configured: String?, dataDir: URL, logger: Logger) -> Data {
        if let configured { return Data(configured.utf8) }
        let file = dataDir.appendingPathComponent("secret.key")
        if let existing = try? Data(contentsOf: file), existing.count >= 32 { return existing }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let secret = Data(bytes.map { String(format: "%02x", $0) }.joined().utf8)
        do {
            try DataDirectory.prepare(dataDir)
            try secret.write(to: file, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        } catch {
            logger.warning(
                "cannot store the generated secret; handles will not survive a restart",
                metadata: ["path": "\(file.path)", "error": "\(error.localizedDescription)"])
        }
        return secret
    }
}
