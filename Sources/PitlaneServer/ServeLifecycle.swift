import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

extension PitlaneApplication {
    /// Runs the server until SIGTERM or SIGINT. A stop first closes the listening socket, then lets
    /// responses in flight (a segment a player is downloading) finish for up to `server.shutdown_grace`,
    /// then cancels what is left; the catalogue is saved either way. A socket that cannot be bound is a
    /// `ListenError` at once, not a server that never listens.
    public func run(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let app = try await makeApplication()
        var group = ServiceGroupConfiguration(
            services: [app], gracefulShutdownSignals: gracefulShutdownSignals, logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(configuration.server.shutdownGrace)
        // Whatever ignores cancellation still gets no more than this before the process ends.
        group.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            throw ListenError(error, host: configuration.server.host, port: configuration.server.port) ?? error
        }
    }
}

/// Why the server could not listen, in words a person can act on.
public struct ListenError: Error, CustomStringConvertible, Equatable {
    public enum Reason: Sendable, Equatable {
        case inUse, denied, notLocal
    }

    public let host: String
    public let port: Int
    public let reason: Reason

    /// The listen error behind `error`, or nil when it is something else.
    init?(_ error: any Error, host: String, port: Int) {
        guard let io = error as? IOError, io.description.contains("bind") else { return nil }
        switch io.errnoCode {
        case EADDRINUSE: reason = .inUse
        case EACCES: reason = .denied
        case EADDRNOTAVAIL: reason = .notLocal
        default: return nil
        }
        self.host = host
        self.port = port
    }

    public var description: String {
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        switch reason {
        case .inUse:
            return
                "cannot listen on \(address): the port is already in use by another program; stop it, or choose another port with --port or server.port"
        case .denied:
            return "cannot listen on \(address): permission denied (ports below 1024 need privileges); choose a port above 1023"
        case .notLocal:
            return "cannot listen on \(address): no network interface of this machine has that address; check --host or server.host"
        }
    }
}
