import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PitlaneCore

/// The real `UpstreamClient`: one shared, pooled AsyncHTTPClient. Redirects are followed here, not by the
/// client, so that every hop's address is checked against `AddressPolicy` before it is fetched.
public final class HTTPUpstreamClient: UpstreamClient {
    public static let maxRedirects = 5
    static let userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

    let client: HTTPClient
    let pinned: PinnedClients
    let destinations: DestinationPolicy
    let logger: Logger
    /// The encodings AsyncHTTPClient decodes; others (br, zstd) are relayed with their header.
    static let decodedEncodings: Set<String> = ["gzip", "deflate", "x-gzip"]

    /// - Parameters:
    ///   - resolver: turns names into addresses; the connection goes to an address it answered.
    ///   - isPublic: which addresses a request without `allowPrivate` may reach (tests widen it to a loopback
    ///     address that plays a public server).
    public init(
        readTimeout: Duration = .seconds(20), logger: Logger = Logger(label: "pitlane.upstream"),
        resolver: any HostResolver = SystemResolver(), isPublic: @escaping @Sendable (String) -> Bool = AddressPolicy.isPublic
    ) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: TimeAmount(readTimeout)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        )
        // An upstream that gzips although nobody asked it to: decode (at most 64 MiB a body, so no zip
        // bomb), since a playlist must be parsed and a player must not get compressed bytes without their
        // Content-Encoding.
        configuration.decompression = .enabled(limit: .size(64 * 1024 * 1024))
        configuration.httpVersion = .automatic
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        pinned = PinnedClients(configuration: configuration)
        self.destinations = DestinationPolicy(resolver: resolver, isPublic: isPublic)
        self.logger = logger
    }

    /// How many pinned clients are open (tests: the count stays bounded).
    var pinnedClients: Int { pinned.openClients }

    public func shutdown() async throws {
        await pinned.shutdown()
        try await client.shutdown()
    }

    public func send(_ request: UpstreamRequest) async throws -> UpstreamResponse {
        var url = request.url
        var method = request.method
        var body = request.body
        var headers = request.headers
        let origin = Origin(request.url)
        for _ in 0...Self.maxRedirects {
            let hop = try await route(url, of: request)
            var outgoing = HTTPClientRequest(url: url.absoluteString)
            outgoing.method = HTTPMethod(rawValue: method)
            if let body {
                outgoing.body = .bytes(ByteBuffer(bytes: body))
                if headers.value(for: "Content-Type") == nil {
                    outgoing.headers.add(name: "Content-Type", value: "application/json")
                }
            }
            if headers.value(for: "User-Agent") == nil { outgoing.headers.add(name: "User-Agent", value: Self.userAgent) }
            for header in headers.headers { outgoing.headers.add(name: header.name, value: header.value) }
            if let range = request.range { outgoing.headers.replaceOrAdd(name: "Range", value: range) }
            let (response, lease): (HTTPClientResponse, PinnedClients.Lease?)
            do {
                (response, lease) = try await execute(outgoing, hop, timeout: request.timeout)
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                throw UpstreamError.timeout
            } catch {
                throw UpstreamError.connection("\(error)")
            }
            if (300..<400).contains(response.status.code), response.status.code != 304,
                let location = response.headers.first(name: "Location"), let next = URL(string: location, relativeTo: url)?.absoluteURL
            {
                logger.debug(
                    "following redirect", metadata: ["from": "\(URIResolver.redacted(url))", "to": "\(URIResolver.redacted(next))"])
                url = next
                if Origin(next) != origin {
                    headers = headers.withoutCredentials()  // as browsers and curl do: no Cookie for another host
                }
                if response.status.code != 307 && response.status.code != 308 {
                    method = "GET"  // as browsers do: a redirected POST becomes a GET without a body
                    body = nil
                }
                continue
            }
            var received = HeaderProfile()
            let decoded = response.headers[canonicalForm: "Content-Encoding"].contains { Self.decodedEncodings.contains($0.lowercased()) }
            for header in response.headers {
                // A body the client decoded no longer has its encoding or its (compressed) length.
                if decoded, ["content-encoding", "content-length"].contains(header.name.lowercased()) { continue }
                received.headers.append(.init(name: header.name, value: header.value))
            }
            return UpstreamResponse(
                status: Int(response.status.code), url: url, headers: received, body: UpstreamBody(response.body, retaining: lease))
        }
        throw UpstreamError.tooManyRedirects
    }

    /// Where a hop goes: through the shared client (an IP literal, or a source that may reach private
    /// addresses), or pinned to one of the addresses its name resolved to, all of them checked.
    enum Hop {
        case direct(HTTPClient)
        case pinned(host: String, addresses: [String])
    }

    /// Checks a hop: refuses hosts outside the request's allow-list, and loopback, private and link-local
    /// destinations unless allowed. A name is resolved once, here, and every address it answers must be
    /// public; the connection goes to one of them, not to whatever a second lookup would answer.
    func route(_ url: URL, of request: UpstreamRequest) async throws -> Hop {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw UpstreamError.connection("unsupported URL \(URIResolver.redacted(url))")
        }
        switch try await destinations.check(host: host, allowPrivate: request.allowPrivate, allowHosts: request.allowHosts) {
        case .anyAddress: return .direct(client)
        case .addresses(let addresses): return .pinned(host: host, addresses: addresses)
        }
    }

    /// Sends one hop. A pinned hop whose address cannot be connected to (refused, unreachable, no answer
    /// to the connect) tries the name's next checked address, as a client resolving it itself would; the
    /// dead address's client is let go, so the next request does not start with it again.
    func execute(_ outgoing: HTTPClientRequest, _ hop: Hop, timeout: Duration) async throws -> (HTTPClientResponse, PinnedClients.Lease?) {
        switch hop {
        case .direct(let client):
            return (try await client.execute(outgoing, timeout: TimeAmount(timeout)), nil)
        case .pinned(let host, let addresses):
            var remaining = addresses
            // One deadline for every address tried: N dead addresses do not cost N timeouts.
            let deadline = NIODeadline.now() + TimeAmount(timeout)
            while true {
                let lease = try pinned.lease(host: host, addresses: remaining)
                do {
                    // The lease keeps its client open for the whole request (it is used after the await, on
                    // both paths) and, through the body it is handed to, after it.
                    let response = try await lease.client.execute(outgoing, deadline: deadline)
                    return (response, lease)
                } catch  where Self.isConnectFailure(error) && remaining.count > 1 {
                    remaining.removeAll { $0 == lease.address }
                    pinned.retire(host: host, address: lease.address, client: lease.client)
                    if remaining.isEmpty { throw error }
                    logger.debug("address unreachable, trying the next", metadata: ["host": "\(host)", "left": "\(remaining.count)"])
                }
            }
        }
    }

    /// Failing to connect, as opposed to failing after the request went out (a reset or a broken pipe:
    /// never retried, the request may have reached the server).
    static func isConnectFailure(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError { return error == .connectTimeout }
        if let error = error as? IOError { return Self.connectErrnos.contains(error.errnoCode) }
        return error is NIOConnectionError
    }

    /// The errors only a connect gives: refused, no route, network down or unreachable.
    static let connectErrnos: Set<Int32> = [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ENETDOWN, EADDRNOTAVAIL]
}

/// Scheme, host and port: what decides whether a redirect stays with the server the credentials were for.
struct Origin: Equatable {
    var scheme: String
    var host: String
    var port: Int

    init(_ url: URL) {
        scheme = url.scheme?.lowercased() ?? ""
        host = url.host?.lowercased() ?? ""
        port = url.port ?? (scheme == "https" ? 443 : 80)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(Int64(duration / .nanoseconds(1)))
    }
}
