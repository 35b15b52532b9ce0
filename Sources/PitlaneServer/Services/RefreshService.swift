import Foundation
import Logging
import NIOConcurrencyHelpers
import PitlaneCore
import ServiceLifecycle

/// The refresh loop as a ServiceLifecycle service: once the server is listening, discovers every source's
/// streams, then asks the refresher every second which sources are due.
struct RefreshService: Service {
    let refresher: TokenRefresher
    let address: ServerAddress
    let tick: Duration
    let logger: Logger

    func run() async throws {
        guard await address.wait() != nil else { return }
        await refresher.discoverAll()
        logger.info("refresh loop started")
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: tick)
            } catch {
                return
            }
            await refresher.tick()
        }
    }
}

/// The base URL the server listens on, known only once it is bound (port 0 picks a free port).
public final class ServerAddress: Sendable {
    private struct State {
        var url: URL?
        var waiters: [CheckedContinuation<URL?, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    public func set(_ url: URL) {
        let waiters = state.withLockedValue { state in
            state.url = url
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: url) }
    }

    public func wait() async -> URL? {
        await withCheckedContinuation { continuation in
            let known: URL? = state.withLockedValue { state in
                if let url = state.url { return url }
                state.waiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    public var current: URL? { state.withLockedValue { $0.url } }
}
