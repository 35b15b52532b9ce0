import ArgumentParser
import Foundation
import PitlaneServer

/// `pitlane health`: exit 0 when the running server answers `/healthz`, 1 otherwise (a container's
/// HEALTHCHECK, a service monitor).
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Ask a running Pitlane whether it is healthy; exit 1 if it is not.")

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "The health URL (default: /healthz on the configured host and port).")
    var url: String?

    func run() async throws {
        let settings = try await Failure.reporting { try options.load() }
        var target = HealthProbe.url(for: settings)
        if let url {
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
                throw Failure.exit("--url must be an http(s) URL, not '\(url)'", code: 2)
            }
            target = parsed
        }
        guard let target else { throw Failure.exit("server.host '\(settings.server.host)' makes no URL: give --url", code: 2) }
        switch await HealthProbe.check(target) {
        case .success(let message): print(message)
        case .failure(let failure): throw Failure.exit(failure.message, code: 1)
        }
    }
}
