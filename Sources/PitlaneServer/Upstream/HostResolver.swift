import Foundation
import NIOPosix
import PitlaneCore

/// Turns a host name into the addresses to check and connect to. Behind a protocol so that tests can answer
/// as a rebinding DNS server would: one address to the first lookup, another to the next.
public protocol HostResolver: Sendable {
    func addresses(of host: String) async throws -> [String]
}

/// The system's resolver (getaddrinfo, which also reads the decimal, octal and hex IPv4 forms), run on
/// NIO's blocking thread pool since getaddrinfo blocks.
public struct SystemResolver: HostResolver {
    public init() {}

    public func addresses(of host: String) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
                throw UpstreamError.connection("cannot resolve \(host)")
            }
            defer { freeaddrinfo(first) }
            var addresses: [String] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let info = cursor {
                var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0
                {
                    let address = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if !addresses.contains(address) { addresses.append(address) }
                }
                cursor = info.pointee.ai_next
            }
            return addresses
        }
    }
}
