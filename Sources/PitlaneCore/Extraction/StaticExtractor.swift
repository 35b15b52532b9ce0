import Foundation

/// A `static` source: the streams are written in the configuration.
public struct StaticExtractor: Extractor {
    public var candidates: [Candidate]

    public init(candidates: [Candidate]) {
        self.candidates = candidates
    }

    public func extract(_ context: ExtractionContext) async throws -> [Candidate] {
        candidates
    }
}
