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
        subcommands: [
            Serve.self, Sources.self, Streams.self, ScheduleCommand.self, UsersCommand.self, TokensCommand.self, ConfigCommand.self,
            HealthCommand.self,
        ],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Pitlane server (proxy, API, demo source).")

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(name: .long, help: "Port to listen on (default 8080; 0 picks a free port).")
    var port: Int?

    @Option(name: .long, help: "Where Pitlane keeps its data (default ~/.local/share/pitlane).")
    var dataDir: String?

    func run() async throws {
        let (settings, logger, clock) = try await Failure.reporting {
            var settings = try options.load()
            let clock = try options.clock()
            if let host { settings.server.host = host }
            if let port {
                guard (0...65535).contains(port) else { throw Failure.usage("--port must be between 0 and 65535") }
                settings.server.port = port
            }
            if let dataDir { settings.server.dataDir = dataDir }
            if case .refuse(let message) = settings.exposure { throw Failure.usage(message) }
            return (settings, try options.bootstrapLogging(settings), clock)
        }
        if case .warn(let message) = settings.exposure { logger.warning("\(message)") }
        // Whatever Pitlane writes (the catalogue with its tokens, the secret, SQLite's journals) is the
        // owner's alone, whatever umask the shell had.
        umask(0o077)
        do {
            let pitlane = try PitlaneApplication(configuration: settings, clock: clock, logger: logger)
            if let accounts = pitlane.accounts, (try? accounts.users().isEmpty) == true {
                logger.warning("auth.mode is password but there are no users yet: add one with `pitlane users add NAME`")
            }
            try await pitlane.run()
        } catch let error as ListenError {
            throw Failure.exit(error.description, code: 1)
        } catch {
            logger.critical("Pitlane stopped: \(error)")
            throw ExitCode(1)
        }
    }
}

struct Sources: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the configured sources.", subcommands: [Check.self], defaultSubcommand: Check.self)

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run each configured source once and validate its streams; exits 1 when an enabled source fails.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let (settings, logger) = try await Failure.reporting {
                let settings = try options.load()
                return (settings, try options.bootstrapLogging(settings, defaultLevel: .error))
            }
            guard !settings.sources.isEmpty else {
                print("No sources configured. (The demo source runs only inside `pitlane serve`.)")
                return
            }
            let outcome = try await OneShotExtraction.run(settings, logger: logger)
            var rows = [["SOURCE", "KIND", "FOUND", "PLAYABLE", "TIME", "ERROR"]]
            for status in outcome.sources {
                rows.append([
                    status.id, status.kind, status.enabled ? status.streamsFound.map(String.init) ?? "-" : "off",
                    status.enabled ? String(outcome.playable[status.id] ?? 0) : "-",
                    status.duration.map { String(format: "%.1fs", $0) } ?? "-", status.enabled ? status.lastError ?? "" : "disabled",
                ])
            }
            print(Table.render(rows))
            for status in outcome.sources where status.enabled {
                for note in status.notes ?? [] { print("\(status.id): \(note)") }
            }
            let failed = outcome.sources.filter { $0.enabled && $0.lastError != nil }
            if !failed.isEmpty {
                throw Failure.exit("\(failed.count) source(s) failed: \(failed.map(\.id).joined(separator: ", "))", code: 1)
            }
        }
    }
}

struct Streams: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the configured sources once and print the ranked streams.")

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Print JSON (the shape of GET /api/streams) instead of a table.")
    var json = false

    func run() async throws {
        let (settings, logger) = try await Failure.reporting {
            let settings = try options.load()
            return (settings, try options.bootstrapLogging(settings, defaultLevel: .error))
        }
        let outcome = try await OneShotExtraction.run(settings, logger: logger)
        if json {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(["streams": StreamJSON.ranked(outcome.streams, now: Date())])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        var rows = [["RANK", "TITLE", "SOURCE", "QUALITY", "PLAYS", "LATENCY", "BANDWIDTH", "NOTE"]]
        for (position, record) in outcome.streams.enumerated() {
            let health = record.health
            rows.append([
                String(position + 1), record.descriptor.title, record.descriptor.source, record.descriptor.quality ?? "-",
                health.map { $0.playable ? "yes" : "no" } ?? "?", health?.latencyMs.map { "\($0) ms" } ?? "-",
                health?.bandwidth.map { String(format: "%.1f Mb/s", Double($0) / 1_000_000) } ?? "-", health?.error ?? "",
            ])
        }
        print(outcome.streams.isEmpty ? "No streams found." : Table.render(rows))
    }
}

/// Plain-text tables for the terminal.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (column, cell) in row.enumerated() {
                if column >= widths.count { widths.append(0) }
                widths[column] = max(widths[column], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
