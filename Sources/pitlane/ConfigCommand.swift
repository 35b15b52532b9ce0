import ArgumentParser
import Foundation
import PitlaneCore

/// `pitlane config check`: what `pitlane serve` would run with, from the file and the environment.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the configuration.", subcommands: [Check.self], defaultSubcommand: Check.self)

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print the configuration in effect (the file, then PITLANE_* variables over it, then the defaults), secrets masked; exit 2 on a problem."
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let settings = try await Failure.reporting { () throws -> Configuration in
                let settings = try options.load()
                if case .refuse(let message) = settings.exposure { throw Failure.usage(message) }
                return settings
            }
            let variables = ConfigLoader.configurationVariables(in: ProcessInfo.processInfo.environment)
            var origin = options.configPath.map { "# from \($0)" } ?? "# no configuration file"
            if !variables.isEmpty { origin += ", with the environment's \(variables.joined(separator: ", "))" }
            print(origin)
            if case .warn(let message) = settings.exposure { print("# warning: \(message)") }
            print(settings.effectiveYAML(), terminator: "")
        }
    }
}
