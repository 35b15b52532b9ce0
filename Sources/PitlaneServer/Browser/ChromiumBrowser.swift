import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import PitlaneCore

/// The `BrowserEngine` of `browser` sources: one headless Chromium, started at the first visit, a tab
/// per visit and at most `browser.concurrency` at once. A browser that dies, stops answering or uses more
/// than `browser.memory_mb` is killed (its whole process group) and the next visit starts a new one; one
/// left idle for two minutes is stopped, so it costs nothing between refreshes.
public actor ChromiumBrowser: BrowserEngine {
    final class Running: Sendable {
        let process: ChromiumProcess
        let connection: DevToolsConnection
        /// Why Pitlane killed it, to tell the visits it cut short.
        let killedBecause = NIOLockedValueBox<String?>(nil)

        init(process: ChromiumProcess, connection: DevToolsConnection) {
            self.process = process
            self.connection = connection
        }
    }

    let settings: Configuration.Browser
    let destinations: DestinationPolicy
    let protectedPort: @Sendable () -> Int?
    let logger: Logger
    let idleLimit: Duration
    private let slots: AsyncSlots
    private var running: Running?
    private var launching: Task<Running, any Error>?
    private var watchdog: Task<Void, Never>?
    private var visits = 0
    private var lastUse = ContinuousClock.now
    private var stopped = false
    /// Browsers started so far (tests: a crash makes the next visit start another).
    public private(set) var launches = 0

    public init(
        settings: Configuration.Browser, destinations: DestinationPolicy = DestinationPolicy(),
        protectedPort: @escaping @Sendable () -> Int? = { nil }, idleLimit: Duration = .seconds(120),
        logger: Logger = Logger(label: "pitlane.browser")
    ) {
        self.settings = settings
        self.destinations = destinations
        self.protectedPort = protectedPort
        self.idleLimit = idleLimit
        self.logger = logger
        self.slots = AsyncSlots(settings.concurrency)
    }

    public nonisolated func visit(_ visit: BrowserVisit) async throws -> BrowserReport {
        try await slots.withSlot {
            let browser = try await self.begin()
            do {
                let report = try await BrowserTab(
                    connection: browser.connection, visit: visit, destinations: destinations, protectedPort: protectedPort()
                ).run()
                await self.end()
                return report
            } catch {
                await self.end()
                if let reason = browser.killedBecause.withLockedValue({ $0 }) { throw BrowserError.failed("was restarted: \(reason)") }
                if let failure = error as? DevToolsConnection.Failure {
                    if case .command = failure {} else { await self.discard(browser, because: "\(failure)") }
                    throw BrowserError.failed("\(failure)")
                }
                throw error
            }
        }
    }

    /// The Chromium executable visits would run (`browser.path`, else found on PATH), or why there is none.
    public static func executable(configured: String?) throws -> String {
        try ChromiumProcess.executable(configured: configured)
    }

    /// The process ids of the running browser (tests kill it to play a crash).
    public var processID: Int32? { running?.process.pid }

    /// Stops the browser for good (at shutdown).
    public func shutdown() async {
        stopped = true
        watchdog?.cancel()
        if let running { await discard(running, because: "Pitlane is stopping") }
    }

    private func begin() async throws -> Running {
        visits += 1
        lastUse = .now
        do {
            return try await ready()
        } catch {
            visits -= 1
            throw error
        }
    }

    private func end() {
        visits -= 1
        lastUse = .now
    }

    private func ready() async throws -> Running {
        guard !stopped else { throw BrowserError.failed("is stopped") }
        if let running {
            if running.connection.isOpen { return running }
            await discard(running, because: "it exited")
        }
        if let launching { return try await launching.value }
        let settings = self.settings
        let task = Task { try await Self.launch(settings) }
        launching = task
        defer { launching = nil }
        let started = try await task.value
        guard !stopped else {
            running = started
            await discard(started, because: "Pitlane is stopping")
            throw BrowserError.failed("is stopped")
        }
        launches += 1
        running = started
        logger.info("browser started", metadata: ["pid": "\(started.process.pid)"])
        if watchdog == nil { watchdog = Task { await self.watch() } }
        return started
    }

    /// Kills `browser` unless it was replaced already; the visits it was serving fail, the next starts anew.
    private func discard(_ browser: Running, because reason: String) async {
        guard running === browser else { return }
        running = nil
        browser.killedBecause.withLockedValue { $0 = $0 ?? reason }
        logger.warning("browser stopped", metadata: ["pid": "\(browser.process.pid)", "reason": "\(reason)"])
        browser.connection.close()
        let process = browser.process
        try? await NIOThreadPool.singleton.runIfActive { process.stop() }
    }

    /// Once a second: the memory bound, the idle limit.
    private func watch() async {
        while !Task.isCancelled && !stopped {
            try? await Task.sleep(for: .seconds(1))
            guard let running else { continue }
            guard running.connection.isOpen else {
                await discard(running, because: "it exited")
                continue
            }
            let process = running.process
            let bytes = (try? await NIOThreadPool.singleton.runIfActive { process.residentBytes() }) ?? 0
            if bytes > settings.memoryBytes {
                await discard(
                    running,
                    because: "it used \(bytes / 1_048_576) MB, more than browser.memory_mb (\(settings.memoryBytes / 1_048_576) MB)")
            } else if visits == 0, ContinuousClock.now - lastUse > idleLimit {
                await discard(running, because: "idle")
            }
        }
    }

    static func launch(_ settings: Configuration.Browser) async throws -> Running {
        let executable = try ChromiumProcess.executable(configured: settings.path)
        let process = try ChromiumProcess.launch(executable: executable, arguments: arguments(settings))
        do {
            let connection = try await DevToolsConnection.open(input: process.input, output: process.output)
            do {
                _ = try await connection.call("Browser.getVersion", timeout: .seconds(20))
            } catch {
                connection.close()
                throw error
            }
            return Running(process: process, connection: connection)
        } catch {
            let tail = process.errorTail()
            try? await NIOThreadPool.singleton.runIfActive { process.stop() }
            var message = "did not start (\(executable))"
            if !tail.isEmpty { message += ": \(tail)" }
            if tail.lowercased().contains("sandbox") {
                message += "; where this machine cannot give Chromium its sandbox, set browser.sandbox: off"
            }
            throw BrowserError.failed(message)
        }
    }

    /// Headless, quiet (no sync, updates, extensions, first-run or crash reports), audio muted but allowed
    /// to start without a gesture (players load their playlist when they start), no WebRTC outside a proxy,
    /// V8's heap bounded, and the sandbox on unless configured off or impossible (as root).
    static func arguments(_ settings: Configuration.Browser) -> [String] {
        var arguments = [
            "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-default-apps", "--disable-extensions", "--disable-sync", "--disable-breakpad",
            "--metrics-recording-only", "--mute-audio", "--password-store=basic", "--use-mock-keychain", "--disable-dev-shm-usage",
            "--autoplay-policy=no-user-gesture-required", "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            "--deny-permission-prompts", "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
            "--js-flags=--max-old-space-size=\(max(64, settings.memoryBytes / 1_048_576 / 4))",
        ]
        if !sandboxed(settings.sandbox) { arguments.append("--no-sandbox") }
        return arguments
    }

    static func sandboxed(_ sandbox: Configuration.Browser.Sandbox) -> Bool {
        switch sandbox {
        case .on: true
        case .off: false
        case .auto: geteuid() != 0
        }
    }
}
