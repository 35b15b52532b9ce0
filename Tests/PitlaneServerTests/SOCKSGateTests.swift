import Foundation
import NIOCore
import NIOPosix
import PitlaneCore
import Testing

@testable import PitlaneServer

/// The browser's SOCKS gate on its own, with a raw client: it relays what the policy passes, refuses the
/// rest with a SOCKS reply, and shrugs off whatever a hostile client sends.
@Suite struct SOCKSGateTests {
    /// Sends `bytes` to the gate and reads until it closes the connection (at most 10 s).
    static func exchange(_ port: Int, _ bytes: [UInt8]) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) {
            channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        return try await withTimeout(.seconds(10)) {
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: bytes))
                var received: [UInt8] = []
                // A close with unread bytes is a reset: the end all the same.
                do {
                    for try await chunk in inbound { received += Array(buffer: chunk) }
                } catch let error as IOError where error.errnoCode == ECONNRESET {}
                return received
            }
        }
    }

    static func connectRequest(_ host: String, _ port: Int) -> [UInt8] {
        [5, 1, 0, 5, 1, 0, 3, UInt8(host.utf8.count)] + Array(host.utf8) + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    @Test func relaysWhatThePolicyPassesAndRefusesTheRest() async throws {
        let origin = FixtureOrigin(host: "127.0.0.2")
        try await FixtureOrigin.serving([origin]) { urls in
            let port = urls[0].port!
            let gate = try await SOCKSGate.start { host, _ in
                host == "fixture.test" ? .success(["127.0.0.2"]) : .failure(.init(reason: "not for you"))
            }
            let request = Array("GET /js/plain.m3u8 HTTP/1.1\r\nHost: fixture.test\r\nConnection: close\r\n\r\n".utf8)
            let relayed = try await Self.exchange(gate.port, Self.connectRequest("fixture.test", port) + request)
            #expect(Array(relayed.prefix(12)) == [5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0])
            #expect(String(decoding: relayed.dropFirst(12), as: UTF8.self).contains("#EXTM3U"))

            let refused = try await Self.exchange(gate.port, Self.connectRequest("127.0.0.1", port))
            #expect(refused == [5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0], "not allowed, then closed")
            #expect(gate.refused == ["127.0.0.1:\(port) (not for you)"])
            #expect(origin.requests.count == 1)
            await gate.close()
        }
    }

    @Test func hostileClientsAreClosedWithoutACrash() async throws {
        let gate = try await SOCKSGate.start { _, _ in .success(["127.0.0.1"]) }
        // SOCKS4; no acceptable method; BIND; UDP ASSOCIATE; an unknown address type; a flood; nothing at all.
        #expect(try await Self.exchange(gate.port, [4, 1, 0, 80, 127, 0, 0, 1, 0]) == [])
        #expect(try await Self.exchange(gate.port, [5, 1, 2]) == [5, 0xFF])
        #expect(try await Self.exchange(gate.port, [5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80]) == [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(try await Self.exchange(gate.port, [5, 1, 0, 5, 3, 0, 1, 127, 0, 0, 1, 0, 80]) == [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(try await Self.exchange(gate.port, [5, 1, 0, 5, 1, 0, 9, 1, 2]) == [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(try await Self.exchange(gate.port, [5, 1, 0] + [UInt8](repeating: 5, count: 4096)).count <= 2)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let noise = (0..<Int.random(in: 1...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? await Self.exchange(gate.port, noise)
        }
        // Still serving.
        #expect(try await Self.exchange(gate.port, [5, 1, 2]) == [5, 0xFF])
        await gate.close()
    }
}
