import Foundation
import NIOCore
import NIOPosix

/// A listener on 127.0.0.1 and ::1 that counts the connections reaching it and closes each at once: the
/// SSRF tests' proof that nothing got through, whatever the error said.
final class CountingListener: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var channels: [any Channel] = []
    private(set) var port = 0

    var connections: Int { lock.withLock { count } }

    /// Listens on `port` (0: any free one, then ::1 on the same port where IPv6 works).
    static func start(port: Int = 0) async throws -> CountingListener {
        let listener = CountingListener()
        let first = try await listener.bind(host: "127.0.0.1", port: port)
        listener.port = first.localAddress?.port ?? port
        listener.channels.append(first)
        if let second = try? await listener.bind(host: "::1", port: listener.port) { listener.channels.append(second) }
        return listener
    }

    private func bind(host: String, port: Int) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                self.lock.withLock { self.count += 1 }
                return channel.close()
            }
            .bind(host: host, port: port).get()
    }

    func stop() async {
        for channel in channels { try? await channel.close() }
    }
}
