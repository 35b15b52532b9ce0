import Foundation
import Logging
import NIOConcurrencyHelpers
import PitlaneCore
import ServiceLifecycle

/// The refresh loop as a ServiceLifecycle service: once the server is listening, asks the refresher every
/// second which watched streams are due for fresh tokens. A tick only starts runs (each source on its own),
/// so the loop never waits for a slow source.
struct RefreshService: Service {
    let refresher: TokenRefresher
    let address: ServerAddress
    let tick: Duration
    let logger: Logger

    func run() async throws {
        guard await address.wait() != nil else { return }
        logger.info("refresh loop started")
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            } catch {
                return
            }
            await refresher.tick()
        }
    }
}

/// The extraction cadence as a ServiceLifecycle service: a cycle once the server is listening (the demo
/// source needs its address), then again after an interval the calendar decides (short while a session
/// is live or about to start); the catalogue is saved again on shutdown.
struct ExtractionLoop: Service {
    let extraction: ExtractionService
    let address: ServerAddress
    let interval: @Sendable () async -> Duration
    let logger: Logger

    func run() async throws {
        guard await address.wait() != nil else { return }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await extraction.runCycle()
            do {
                let wait = await interval()
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                break
            }
        }
        if await extraction.persist() { logger.info("catalogue saved for the next start") }
    }
}

/// Refreshes the current season from Jolpica once a day (at start-up only when the stored copy is older
/// than a day), politely below its published limits.
struct ScheduleRefreshLoop: Service {
    let schedule: ScheduleService
    let enabled: Bool
    let clock: any WallClock

    func run() async throws {
        guard enabled else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let year = await schedule.currentYear()
            let last = await schedule.refreshInfo(year).lastSuccess
            if last.map({ clock.now().timeIntervalSince($0) > 86_400 }) ?? true {
                await schedule.refresh(year)
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) }
            } catch {
                return
            }
        }
    }
}

/// The base URL the server listens on, known only once it is bound (port 0 picks a free port). A wait
/// ends with nil when its task is cancelled: when the server cannot bind, the service group cancels the
/// loops that wait here, and a wait that ignored that would keep the process alive, deaf to SIGTERM.
public final class ServerAddress: Sendable {
    private struct State {
        var url: URL?
        var waiters: [UInt64: CheckedContinuation<URL?, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    public func set(_ url: URL) {
        let waiters = state.withLockedValue { state in
            state.url = url
            defer { state.waiters.removeAll() }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: url) }
    }

    public func wait() async -> URL? {
        let id = state.withLockedValue { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let known: URL?? = state.withLockedValue { state in
                    if let url = state.url { return .some(url) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let known { continuation.resume(returning: known) }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }

    public var current: URL? { state.withLockedValue { $0.url } }

    /// Where a server listening on `host` is reached from this machine: a wildcard host on loopback, an
    /// IPv6 literal in brackets.
    public static func local(host: String, port: Int, path: String = "/") -> URL? {
        let reachable = ["0.0.0.0", "::", ""].contains(host) ? "127.0.0.1" : host
        let shown = reachable.contains(":") ? "[\(reachable)]" : reachable
        return URL(string: "http://\(shown):\(port)\(path)")
    }
}
