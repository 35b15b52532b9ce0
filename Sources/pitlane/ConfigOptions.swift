import ArgumentParser
import Foundation
import Logging
import PitlaneCore

/// `--config` and `--log-level`, shared by every command; a bad file ends the command with exit code 2.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (also PITLANE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning or error (default info, or log_level in the config).")
    var logLevel: String?

    @Option(name: .long, help: ConfigOptions.nowHelp)
    var now: String?

    /// The clock the command runs on: the real one, or one shifted by `--now`.
    func clock() throws -> any WallClock { try Self.clock(now) }

    static let nowHelp: ArgumentHelp =
        "Run as if it were this instant (ISO 8601, e.g. 2026-12-06T13:00:00Z), the clock running on from there: to rehearse a race weekend (also PITLANE_NOW)."

    static func clock(_ now: String?) throws -> any WallClock {
        guard let text = now ?? ProcessInfo.processInfo.environment["PITLANE_NOW"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return SystemClock()
        }
        guard let start = try? Date(text, strategy: .iso8601) else {
            throw Failure.usage("--now must be an ISO 8601 time such as 2026-12-06T13:00:00Z, not '\(text)'")
        }
        return ShiftedClock(startingAt: start)
    }

    /// The file given by `--config`, else `PITLANE_CONFIG`.
    var configPath: String? {
        config ?? ProcessInfo.processInfo.environment["PITLANE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func load() throws -> Configuration {
        let path = configPath
        do {
            return try ConfigLoader.load(file: path, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw Failure.usage("configuration error: \(error)")
        }
    }

    /// Sets up logging to standard error at the chosen level, in `log_format` (text or json), redacted.
    func bootstrapLogging(_ configuration: Configuration, defaultLevel: Logger.Level? = nil) throws -> Logger {
        let name = logLevel ?? (defaultLevel?.rawValue ?? configuration.logLevel)
        guard let level = Logger.Level(rawValue: name) else { throw Failure.usage("unknown log level '\(name)'") }
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in
            var handler = PitlaneLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "pitlane")
    }
}

/// A failure said in one line on standard error, with the exit code that fits it.
enum Failure: Error {
    case usage(String)

    static func exit(_ message: String, code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("pitlane: \(message)\n".utf8))
        return ExitCode(code)
    }
}

extension Failure {
    /// Runs `body`, turning usage failures into their message and exit code 2.
    static func reporting<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch Failure.usage(let message) {
            throw exit(message, code: 2)
        }
    }
}
