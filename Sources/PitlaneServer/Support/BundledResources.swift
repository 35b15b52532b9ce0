import Foundation

/// Where `.copy("Resources")` puts this module's folders: the bundle layout differs between platforms'
/// Bundle implementations, so both places are tried.
enum BundledResources {
    static func directory(_ name: String) -> URL? {
        let candidates = [
            Bundle.module.bundleURL.appendingPathComponent("Resources/\(name)"), Bundle.module.resourceURL?.appendingPathComponent(name),
        ]
        return candidates.compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0.path) }
    }
}
