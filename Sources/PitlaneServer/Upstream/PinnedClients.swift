import AsyncHTTPClient
import Foundation
import NIOCore
import PitlaneCore

/// AsyncHTTPClients that each connect one host name to one checked address.
///
/// AsyncHTTPClient resolves a name itself when it connects, so checking the address first and letting it
/// connect would check one lookup and connect to another (DNS rebinding: a short TTL answers a public address
/// to the check and 127.0.0.1 to the connection). Its `dnsOverride` connects to a given address while
/// sending the name as Host and SNI and verifying the certificate for the name, but it is set per client.
/// So each (name, address) pair gets a client of its own, kept while in use so that its connections are
/// reused, and shut down once evicted and no body it delivered is still being read.
final class PinnedClients: @unchecked Sendable {
    /// Keeps a client alive while a response it delivered is still being read.
    final class Lease: @unchecked Sendable {
        let client: HTTPClient
        /// The checked address the client connects to.
        let address: String
        private let release: @Sendable () -> Void

        init(client: HTTPClient, address: String, release: @escaping @Sendable () -> Void) {
            self.client = client
            self.address = address
            self.release = release
        }

        deinit { release() }
    }

    private struct Entry {
        let client: HTTPClient
        var leases = 0
        var lastUsed: UInt64
    }

    private let configuration: HTTPClient.Configuration
    private let capacity: Int
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    /// Evicted clients whose last response is still being read, by key.
    private var retired: [Int: Entry] = [:]
    private var tick: UInt64 = 0
    private var nextRetiredID = 0
    private var isShutDown = false

    init(configuration: HTTPClient.Configuration, capacity: Int = 64) {
        self.configuration = configuration
        self.capacity = max(1, capacity)
    }

    /// How many clients are open (pinned and retired): bounded by `capacity` plus those still being read.
    var openClients: Int { lock.withLock { entries.count + retired.count } }

    /// A client for `host` pinned to one of `addresses` (all already checked), preferring an address that
    /// already has a client so that a round-robin DNS answer does not open a pool per lookup.
    func lease(host: String, addresses: [String]) throws -> Lease {
        precondition(!addresses.isEmpty)
        var closing: [HTTPClient] = []
        defer { for client in closing { Self.close(client) } }
        return try lock.withLock {
            guard !isShutDown else { throw UpstreamError.connection("the upstream client is shut down") }
            tick += 1
            let address = addresses.first { entries[Self.key(host, $0)] != nil } ?? addresses[0]
            let key = Self.key(host, address)
            if entries[key] == nil {
                while entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                    if let client = retireLocked(oldest.key) { closing.append(client) }
                }
                var pinned = configuration
                pinned.dnsOverride = [host: address]
                // A refused address is reported at once (the caller tries the next one), not retried until
                // the deadline.
                pinned.connectionPool.retryConnectionEstablishment = false
                entries[key] = Entry(client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: pinned), lastUsed: tick)
            }
            entries[key]!.leases += 1
            entries[key]!.lastUsed = tick
            let client = entries[key]!.client
            return Lease(client: client, address: address) { [weak self] in self?.release(key: key, client: client) }
        }
    }

    /// Lets the client of (host, address) go (its address could not be connected to): shut down once no
    /// body of it is read any more.
    func retire(host: String, address: String, client: HTTPClient) {
        let closing = lock.withLock { () -> HTTPClient? in
            // Only that client: another request may have opened a new one for the address since.
            guard entries[Self.key(host, address)]?.client === client else { return nil }
            return retireLocked(Self.key(host, address))
        }
        if let closing { Self.close(closing) }
    }

    /// Removes an entry; returns its client if it can be shut down now (nothing of it is being read).
    private func retireLocked(_ key: String) -> HTTPClient? {
        guard let entry = entries.removeValue(forKey: key) else { return nil }
        if entry.leases == 0 { return entry.client }
        nextRetiredID += 1
        retired[nextRetiredID] = entry
        return nil
    }

    private func release(key: String, client: HTTPClient) {
        let closing: HTTPClient? = lock.withLock {
            if entries[key]?.client === client {
                entries[key]!.leases -= 1
                return nil
            }
            guard let id = retired.first(where: { $0.value.client === client })?.key else { return nil }
            retired[id]!.leases -= 1
            guard retired[id]!.leases == 0 else { return nil }
            retired[id] = nil
            return client
        }
        if let closing { Self.close(closing) }
    }

    /// Shuts every client down (the server is stopping): in-flight requests fail.
    func shutdown() async {
        let all: [HTTPClient] = lock.withLock {
            isShutDown = true
            defer {
                entries = [:]
                retired = [:]
            }
            return entries.values.map(\.client) + retired.values.map(\.client)
        }
        for client in all { try? await client.shutdown() }
    }

    private static func key(_ host: String, _ address: String) -> String { host + "\u{0}" + address }

    private static func close(_ client: HTTPClient) {
        Task { try? await client.shutdown() }
    }
}
