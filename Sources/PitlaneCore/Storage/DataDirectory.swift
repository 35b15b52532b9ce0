import Foundation

/// The data directory holds the catalogue (stream URLs with their tokens, Cookie headers) and the secret
/// that seals handles: only its owner may read it. The directory is 0700 and Pitlane's files in it 0600,
/// also when an older version created them readable by everyone. SQLite gives its -wal and -shm files the
/// database file's mode, so they follow.
public enum DataDirectory {
    /// Creates the directory (0700) if needed and restricts what is already in it.
    public static func prepare(_ directory: URL) throws {
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try restrict(directory)
    }

    /// Pitlane's own files: only these are touched, should `data_dir` be shared with anything else.
    static func isPitlanes(_ name: String) -> Bool {
        name.hasPrefix("catalogue.sqlite") || name == "secret.key"
    }

    /// Sets the directory to 0700 and each of Pitlane's files in it to 0600.
    public static func restrict(_ directory: URL) throws {
        let files = FileManager.default
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        for name in (try? files.contentsOfDirectory(atPath: directory.path)) ?? [] where isPitlanes(name) {
            let path = directory.appendingPathComponent(name).path
            var isDirectory: ObjCBool = false
            guard files.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        }
    }
}
