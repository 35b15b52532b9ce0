import Foundation
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// Pitlane's log lines, on standard error: `text` (as swift-log's stream handler writes them, for people)
/// or `json` (one object per line: time, level, label, source, message, metadata, for log collectors).
/// Every message and metadata value goes through `LogRedaction` first.
public struct PitlaneLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: Configuration.LogFormat
    let clock: any WallClock
    let write: @Sendable (String) -> Void

    public init(
        label: String, format: Configuration.LogFormat, clock: any WallClock = SystemClock(),
        write: @escaping @Sendable (String) -> Void = PitlaneLogHandler.standardError
    ) {
        self.label = label
        self.format = format
        self.clock = clock
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes whole lines to standard error, one at a time (JSON lines must not interleave), ignoring
    /// failures: a closed or full standard error must not take the server down with it.
    public static let standardError: @Sendable (String) -> Void = { line in
        standardErrorLock.withLock {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }

    private static let standardErrorLock = NIOLock()

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let message = LogRedaction.scrub(event.message.description)
        let fields = merged.mapValues(Self.scrubbed)
        switch format {
        case .text: write(text(event, message: message, metadata: fields))
        case .json: write(json(event, message: message, metadata: fields))
        }
    }

    private func text(_ event: LogEvent, message: String, metadata: Logger.Metadata) -> String {
        let shown = metadata.isEmpty ? "" : metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " "
        return "\(Self.textTime(clock.now())) \(event.level) \(label): \(shown)[\(event.source)] \(message)\n"
    }

    private func json(_ event: LogEvent, message: String, metadata: Logger.Metadata) -> String {
        let object: [String: Any] = [
            "time": Self.jsonTime(clock.now()), "level": event.level.rawValue, "label": label, "source": event.source,
            "message": message, "metadata": metadata.mapValues(Self.plain),
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{\"level\":\"\(event.level.rawValue)\",\"message\":\"(a log line that could not be written as JSON)\"}\n"
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func scrubbed(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let text): .string(LogRedaction.scrub(text))
        case .stringConvertible(let convertible): .string(LogRedaction.scrub(convertible.description))
        case .array(let items): .array(items.map(scrubbed))
        case .dictionary(let entries): .dictionary(entries.mapValues(scrubbed))
        }
    }

    static func plain(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let items): items.map(plain)
        case .dictionary(let entries): entries.mapValues(plain)
        }
    }

    /// `2026-12-02T12:27:57+0000`, as swift-log's stream handler writes it (local time).
    static func textTime(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `2026-12-02T12:27:57.123Z`: UTC, with milliseconds.
    static func jsonTime(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }
}
