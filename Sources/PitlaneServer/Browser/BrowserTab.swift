import Foundation
import PitlaneCore

/// One visit: a fresh browser context (its own cookies, storage and cache, gone afterwards), one tab in
/// it, every request of the page and of its iframes and workers paused until the destination policy has
/// passed it, and the playlist requests written down with the headers they went out with. Ends at the
/// visit's wait, shortly after the first playlist, or when the page cannot load at all.
struct BrowserTab {
    let connection: DevToolsConnection
    let visit: BrowserVisit
    let destinations: DestinationPolicy
    /// Pitlane's own port: the page may not reach it on any local address, `allow_private` or not.
    let protectedPort: Int?
    /// How long to go on after the first playlist request, for the others on the page.
    var settle: Duration = .seconds(1)

    enum Item: Sendable {
        case event(DevToolsConnection.Event)
        case closed
        case tick
        case navigated(String?)
    }

    func run() async throws -> BrowserReport {
        let tab = self
        let gate = try await SOCKSGate.start { host, port in await tab.judge(host: host, port: port) }
        let result: Result<BrowserReport, any Error>
        var context: String?
        do {
            // Every connection of the context goes through the gate, loopback too (Chromium's implicit
            // bypass of the proxy for loopback is removed with `<-loopback>`).
            context = try await connection.call(
                "Target.createBrowserContext",
                ["disposeOnDetach": true, "proxyServer": .string("socks5://127.0.0.1:\(gate.port)"), "proxyBypassList": "<-loopback>"])[
                    "browserContextId"]?.string
            guard let context else { throw DevToolsConnection.Failure.command("Target.createBrowserContext", "no context id") }
            var report = try await inside(context: context)
            report.refused += gate.refused.map { "connection to \($0)" }
            result = .success(report)
        } catch {
            result = .failure(error)
        }
        // Closes the tab and forgets everything the page stored; also when the visit was cancelled.
        let connection = self.connection
        await Task { [context] in
            if let context {
                _ = try? await connection.call("Target.disposeBrowserContext", ["browserContextId": .string(context)], timeout: .seconds(5))
            }
            await gate.close()
        }.value
        return try result.get()
    }

    private func inside(context: String) async throws -> BrowserReport {
        _ = try await connection.call("Browser.setDownloadBehavior", ["behavior": "deny", "browserContextId": .string(context)])
        guard
            let target = try await connection.call(
                "Target.createTarget", ["url": "about:blank", "browserContextId": .string(context)])["targetId"]?.string,
            let session = try await connection.call("Target.attachToTarget", ["targetId": .string(target), "flatten": true])["sessionId"]?
                .string
        else { throw DevToolsConnection.Failure.command("Target.createTarget", "no tab") }
        let (items, sink) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingNewest(20_000))
        connection.listen(session: session) { event in sink.yield(event.map(Item.event) ?? .closed) }
        defer { connection.stopListening(session: session) }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                sink.yield(.tick)
            }
        }
        defer { ticker.cancel() }
        try await prepare(session)
        let connection = self.connection
        let url = visit.url.absoluteString
        let wait = visit.wait
        let navigation = Task {
            do {
                let answer = try await connection.call("Page.navigate", ["url": .string(url)], session: session, timeout: wait)
                sink.yield(.navigated(answer["errorText"]?.string))
            } catch {
                sink.yield(.navigated("\(error)"))
            }
        }
        defer { navigation.cancel() }
        var log = VisitLog(visit: visit)
        let clock = ContinuousClock()
        let deadline = clock.now + visit.wait
        var firstPlaylist: ContinuousClock.Instant?
        for await item in items {
            switch item {
            case .closed:
                throw DevToolsConnection.Failure.closed
            case .tick:
                break
            case .navigated(let error):
                if let error, !error.isEmpty {
                    log.loadError = error
                }
            case .event(let event):
                try await handle(event, log: &log)
            }
            if firstPlaylist == nil, log.hasAnsweredPlaylist { firstPlaylist = clock.now }
            if clock.now >= deadline || log.loadError != nil && log.playlistOrder.isEmpty { break }
            if let firstPlaylist, clock.now >= firstPlaylist + settle { break }
        }
        let info = try? await connection.call("Target.getTargetInfo", ["targetId": .string(target)])
        let title = info?["targetInfo"]?["title"]?.string
        return log.report(title: title == url || title == "about:blank" || title?.isEmpty == true ? nil : title)
    }

    /// Network observed, every request paused for the policy, and the same for whatever the page starts
    /// (iframes in other processes, workers), which waits for this before it runs.
    private func prepare(_ session: String) async throws {
        // Chromium keeps bodies and post data for the protocol only up to these sizes: a page cannot make
        // one message big enough to close the pipe.
        let limit = JSONValue.number(Double(visit.documentLimit))
        _ = try await connection.call(
            "Network.enable",
            ["maxPostDataSize": 0, "maxResourceBufferSize": limit, "maxTotalBufferSize": .number(Double(visit.documentLimit * 4))],
            session: session)
        _ = try await connection.call("Fetch.enable", ["patterns": [["urlPattern": "*", "requestStage": "Request"]]], session: session)
        _ = try await connection.call(
            "Target.setAutoAttach", ["autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true], session: session)
    }

    private func handle(_ event: DevToolsConnection.Event, log: inout VisitLog) async throws {
        let params = event.params
        switch event.method {
        case "Fetch.requestPaused":
            guard let id = params["requestId"]?.string, let session = event.session else { return }
            let url = params["request"]?["url"]?.string ?? ""
            if let reason = await refusal(of: url, log: &log) {
                if log.refused.count < 200 { log.refused.append("\(VisitLog.redacted(url)) (\(reason))") }
                // `try?`: a request the page gave up on while it was judged is no failure of the visit.
                _ = try? await connection.call(
                    "Fetch.failRequest", ["requestId": .string(id), "errorReason": "BlockedByClient"], session: session)
            } else {
                _ = try? await connection.call("Fetch.continueRequest", ["requestId": .string(id)], session: session)
            }
        case "Target.attachedToTarget":
            guard let child = params["sessionId"]?.string else { return }
            // A child whose requests cannot be paused is left waiting for its debugger: it never runs.
            guard (try? await prepare(child)) != nil else { return }
            _ = try? await connection.call("Runtime.runIfWaitingForDebugger", [:], session: child)
        case "Inspector.targetCrashed":
            log.loadError = "the page crashed"
        case "Network.loadingFinished":
            guard let id = params["requestId"]?.string, let session = event.session, log.wantsBody(id) else { return }
            if let answer = try? await connection.call("Network.getResponseBody", ["requestId": .string(id)], session: session) {
                log.setBody(answer["body"]?.string, base64: answer["base64Encoded"]?.bool ?? false, for: id)
            }
        default:
            log.record(event)
        }
    }

    /// Why the page may not fetch `url`, or nil when it may. Each host and port is judged once per visit.
    private func refusal(of text: String, log: inout VisitLog) async -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            return "not a web address"
        }
        guard scheme == "http" || scheme == "https" else { return "scheme \(scheme)" }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let key = "\(host.lowercased()):\(port)"
        if let known = log.verdicts[key] { return known }
        let verdict: String?
        switch await judge(host: host, port: port) {
        case .success: verdict = nil
        case .failure(let refusal): verdict = refusal.reason
        }
        log.verdicts[key] = .some(verdict)
        return verdict
    }

    /// The destination policy for one host and port: the addresses a connection may go to, or why none.
    /// Pitlane's own port on a local address is refused even where private addresses are allowed.
    func judge(host: String, port: Int) async -> Result<[String], SOCKSGate.GateRefusal> {
        let bare = AddressPolicy.unbracketed(host)
        do {
            let verdict = try await withTimeout(.seconds(5)) { [destinations, visit] in
                try await destinations.check(host: host, allowPrivate: visit.allowPrivate, allowHosts: visit.allowHosts)
            }
            let addresses: [String]
            switch verdict {
            case .addresses(let checked): addresses = checked
            case .anyAddress:
                addresses =
                    AddressPolicy.isIPLiteral(bare)
                    ? [bare]
                    : try await withTimeout(.seconds(5)) { [destinations] in
                        try await destinations.resolver.addresses(of: bare)
                    }
            }
            if let protectedPort, port == protectedPort, addresses.contains(where: { !AddressPolicy.isPublic($0) }) {
                return .failure(.init(reason: "Pitlane's own address"))
            }
            return addresses.isEmpty ? .failure(.init(reason: "cannot resolve")) : .success(addresses)
        } catch let error as UpstreamError {
            switch error {
            case .hostNotAllowed: return .failure(.init(reason: "not in allow_hosts"))
            case .refusedAddress: return .failure(.init(reason: "loopback, private or link-local address"))
            default: return .failure(.init(reason: "cannot resolve"))
            }
        } catch {
            return .failure(.init(reason: "cannot resolve"))
        }
    }
}
