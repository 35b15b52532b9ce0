import Foundation

/// The data directory holds the catalogue (stream URLs with their tokens, Cookie headers) and the secret
/// that seals handles: only its owner may read them. Pitlane's files in it are made 0600, also when an
/// older version created them readable by everyone; the directory itself 0700 when it holds nothing but
/// Pitlane's files (a `data_dir` shared with other things is left as it is, as are those things, and
/// symbolic links are never followed). SQLite gives its -wal and -shm files the database file's mode.
public enum DataDirectory {
    /// Creates the directory (0700) if needed and restricts what is in it. Only the creation can fail:
    /// a directory Pitlane may write but not chmod (a volume owned by another user, CIFS) still works.
    public static func prepare(_ directory: URL) throws {
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        restrict(directory)
    }

    /// Pitlane's own files: only these are touched.
    static func isPitlanes(_ name: String) -> Bool {
        name.hasPrefix("catalogue.sqlite") || name.hasPrefix("accounts.sqlite") || name == "secret.key"
    }

    /// Makes each of Pitlane's regular files 0600, and the directory 0700 if nothing else is in it.
    public static func restrict(_ directory: URL) {
        let files = FileManager.default
        let names = (try? files.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where isPitlanes(name) {
            let path = directory.appendingPathComponent(name).path
            // attributesOfItem does not follow a symbolic link: a link is left alone, and so is its target.
            guard (try? files.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular else { continue }
            try? files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        }
        if names.allSatisfy(isPitlanes) {
            try? files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        }
    }
}
