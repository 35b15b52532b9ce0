import Foundation
import NIOCore

/// A player's single `Range: bytes=…` request, for answering it as the 206 it asked for when the upstream
/// ignored it and sent the whole resource with 200 (RFC 9110 §14.1.2).
public struct ByteRange: Sendable, Equatable {
    public var first: Int
    public var last: Int

    public init(first: Int, last: Int) {
        self.first = first
        self.last = last
    }

    /// The range within a resource of `length` bytes; nil for multiple ranges, a malformed header or a
    /// range that cannot be satisfied, which are then answered with the whole resource.
    public static func parse(_ header: String, length: Int) -> ByteRange? {
        let text = header.trimmingCharacters(in: .whitespaces).lowercased()
        guard text.hasPrefix("bytes="), length > 0 else { return nil }
        let spec = text.dropFirst("bytes=".count)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let start = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let end = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if start.isEmpty {  // "-500": the last 500 bytes
            guard let suffix = Int(end), suffix > 0 else { return nil }
            return ByteRange(first: max(0, length - suffix), last: length - 1)
        }
        guard let first = Int(start), first >= 0, first < length else { return nil }
        guard !end.isEmpty else { return ByteRange(first: first, last: length - 1) }
        guard let last = Int(end), last >= first else { return nil }
        return ByteRange(first: first, last: min(last, length - 1))
    }

    public var count: Int { last - first + 1 }

    /// The player's range out of an answer that ignored it: a 200 with a length, for a single satisfiable
    /// range; nil otherwise. What the relay slices, and what the size cap is checked against.
    static func ignored(_ range: String?, by response: UpstreamResponse) -> (range: ByteRange, length: Int)? {
        guard response.status == 200, let range, let length = response.headers.value(for: "Content-Length").flatMap(Int.init),
            let wanted = parse(range, length: length)
        else { return nil }
        return (wanted, length)
    }

    /// `bytes=0-`: the whole resource, which a 200 answers as well as a 206 (ffmpeg asks this way).
    public static func isWholeBody(_ header: String) -> Bool {
        header.lowercased().filter { !$0.isWhitespace } == "bytes=0-"
    }
}

extension UpstreamBody {
    /// The bytes of `range` out of this body; reading stops once they are through, which lets the
    /// upstream connection go instead of downloading the rest.
    public func slice(_ range: ByteRange) -> UpstreamBody {
        let source = SlicingIterator(makeAsyncIterator(), range: range)
        return UpstreamBody(next: { try await source.next() })
    }
}

private final class SlicingIterator: @unchecked Sendable {
    private var base: UpstreamBody.AsyncIterator
    private var offset = 0
    private let range: ByteRange

    init(_ base: UpstreamBody.AsyncIterator, range: ByteRange) {
        self.base = base
        self.range = range
    }

    func next() async throws -> ByteBuffer? {
        while offset <= range.last {
            guard var chunk = try await base.next() else { return nil }
            let chunkStart = offset
            offset += chunk.readableBytes
            let from = max(range.first - chunkStart, 0)
            let to = min(range.last - chunkStart + 1, chunk.readableBytes)
            guard from < to else { continue }
            chunk.moveReaderIndex(forwardBy: from)
            return chunk.readSlice(length: to - from)
        }
        return nil
    }
}
