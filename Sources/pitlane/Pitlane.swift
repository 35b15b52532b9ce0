import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PitlaneCore
import PitlaneServer

@main
struct Pitlane: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pitlane",
        abstract: "A self-hosted live-stream hub for Formula 1 weekends.",
        version: PitlaneVersion.string,
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Pitlane server (proxy, API, demo source).")

    @Option(name: .long, help: "YAML configuration file (also PITLANE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(name: .long, help: "Port to listen on (default 8080; 0 picks a free port).")
    var port: Int?

    @Option(name: .long, help: "Where Pitlane keeps its data (default ~/.local/share/pitlane).")
    var dataDir: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning or error (default info, or log_level in the config).")
    var logLevel: String?

    func run() async throws {
        var settings: Configuration
        let path = config ?? ProcessInfo.processInfo.environment["PITLANE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            settings = try path.map { try ConfigLoader.load(file: $0) } ?? Configuration()
        } catch {
            FileHandle.standardError.write(Data("pitlane: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let host { settings.server.host = host }
        if let port {
            guard (0...65535).contains(port) else {
                FileHandle.standardError.write(Data("pitlane: --port must be between 0 and 65535\n".utf8))
                throw ExitCode(2)
            }
            settings.server.port = port
        }
        if let dataDir { settings.server.dataDir = dataDir }
        let levelName = logLevel ?? settings.logLevel
        guard let level = Logger.Level(rawValue: levelName) else {
            FileHandle.standardError.write(Data("pitlane: unknown log level '\(levelName)'\n".utf8))
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "pitlane")
        do {
            let app = try await PitlaneApplication(configuration: settings, logger: logger).makeApplication()
            try await app.runService()
        } catch {
            logger.critical("Pitlane stopped: \(error)")
            throw ExitCode(1)
        }
    }
}
