import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PitlaneCore

/// The only way out of a visit's browser context: a SOCKS5 proxy on loopback, alive for one visit, that
/// checks every connection the browser opens against the visit's destination policy and connects to the
/// address it checked. The DevTools interception sees requests; this sees connections, so what opens a
/// socket without a request (preconnects, WebSockets, a name that resolves elsewhere a second time)
/// cannot reach what the policy forbids either.
final class SOCKSGate: Sendable {
    /// Decides a destination: the addresses to try, or why not.
    typealias Decide = @Sendable (_ host: String, _ port: Int) async -> Result<[String], GateRefusal>

    struct GateRefusal: Error, Sendable {
        var reason: String
    }

    private let channel: any Channel
    private let refusals: NIOLockedValueBox<[String]>
    let port: Int

    private init(channel: any Channel, refusals: NIOLockedValueBox<[String]>) {
        self.channel = channel
        self.refusals = refusals
        self.port = channel.localAddress?.port ?? 0
    }

    /// Connections the gate refused, as "host:port (reason)".
    var refused: [String] { refusals.withLockedValue { $0 } }

    /// At most `maxConnections` at once; each connect gets `connectTimeout`.
    static func start(maxConnections: Int = 64, connectTimeout: TimeAmount = .seconds(10), decide: @escaping Decide) async throws
        -> SOCKSGate
    {
        let refusals = NIOLockedValueBox<[String]>([])
        let open = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .childChannelOption(.autoRead, value: true)
            .childChannelInitializer { child in
                let admitted = open.withLockedValue { count in
                    guard count < maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else { return child.close() }
                child.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        SOCKSHandshake(decide: decide, connectTimeout: connectTimeout) { line in
                            refusals.withLockedValue { if $0.count < 200 { $0.append(line) } }
                        })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return SOCKSGate(channel: channel, refusals: refusals)
    }

    func close() async {
        try? await channel.close()
    }
}

/// One SOCKS5 client: method negotiation (no authentication), one CONNECT, the policy's decision, then
/// the relay. Anything else (BIND, UDP, version 4, a malformed request) is refused and closed.
final class SOCKSHandshake: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Stage {
        case greeting
        case request
        case deciding
    }

    private let decide: SOCKSGate.Decide
    private let connectTimeout: TimeAmount
    private let refused: @Sendable (String) -> Void
    private var stage = Stage.greeting
    private var buffer = ByteBuffer()

    init(decide: @escaping SOCKSGate.Decide, connectTimeout: TimeAmount, refused: @escaping @Sendable (String) -> Void) {
        self.decide = decide
        self.connectTimeout = connectTimeout
        self.refused = refused
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        guard buffer.readableBytes <= 1024 else { return context.close(promise: nil) }
        switch stage {
        case .greeting:
            let bytes = Array(buffer.readableBytesView)
            guard bytes.count >= 2 else { return }
            guard bytes[0] == 5 else { return context.close(promise: nil) }
            let count = Int(bytes[1])
            guard bytes.count >= 2 + count else { return }
            buffer.moveReaderIndex(forwardBy: 2 + count)
            guard bytes[2..<(2 + count)].contains(0) else {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [5, 0xFF])), promise: nil)
                return context.close(promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [5, 0])), promise: nil)
            stage = .request
            if buffer.readableBytes > 0 { channelRead(context: context, data: NIOAny(ByteBuffer())) }
        case .request:
            guard let (command, host, port) = parseRequest() else { return }
            guard command == 1 else { return reply(context, 7) }
            stage = .deciding
            connect(context, host: host, port: port)
        case .deciding:
            return
        }
    }

    /// VER CMD RSV ATYP ADDR PORT; nil until it is all there (a malformed one closes the connection).
    private func parseRequest() -> (UInt8, String, Int)? {
        let bytes = Array(buffer.readableBytesView)
        guard bytes.count >= 5, bytes[0] == 5 else { return nil }
        let host: String
        var index: Int
        switch bytes[3] {
        case 1:
            guard bytes.count >= 10 else { return nil }
            host = bytes[4..<8].map(String.init).joined(separator: ".")
            index = 8
        case 3:
            let length = Int(bytes[4])
            guard bytes.count >= 5 + length + 2 else { return nil }
            host = String(decoding: bytes[5..<(5 + length)], as: UTF8.self)
            index = 5 + length
        case 4:
            guard bytes.count >= 22 else { return nil }
            host = stride(from: 4, to: 20, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(
                separator: ":")
            index = 20
        default:
            return (0, "", 0)
        }
        let port = Int(bytes[index]) << 8 | Int(bytes[index + 1])
        buffer.moveReaderIndex(forwardBy: index + 2)
        return (bytes[1], host, port)
    }

    private func connect(_ context: ChannelHandlerContext, host: String, port: Int) {
        let decide = self.decide
        let promise = context.eventLoop.makePromise(of: Result<[String], SOCKSGate.GateRefusal>.self)
        promise.completeWithTask { await decide(host, port) }
        let loop = context.eventLoop
        let timeout = connectTimeout
        promise.futureResult.assumeIsolated().whenSuccess { decision in
            switch decision {
            case .failure(let refusal):
                self.refused("\(host):\(port) (\(refusal.reason))")
                self.reply(context, 2)
            case .success(let addresses):
                Self.dial(addresses, port: port, on: loop, timeout: timeout).assumeIsolated().whenComplete { result in
                    switch result {
                    case .failure:
                        self.reply(context, 5)
                    case .success(let upstream):
                        self.relay(context, to: upstream)
                    }
                }
            }
        }
    }

    /// Connects to the first of `addresses` that answers.
    private static func dial(_ addresses: [String], port: Int, on loop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<any Channel>
    {
        guard let first = addresses.first else { return loop.makeFailedFuture(SOCKSGate.GateRefusal(reason: "no address")) }
        let attempt = ClientBootstrap(group: loop).connectTimeout(timeout).channelOption(.autoRead, value: true)
            .connect(host: first, port: port)
        return attempt.flatMapError { error in
            addresses.count > 1 ? dial(Array(addresses.dropFirst()), port: port, on: loop, timeout: timeout) : loop.makeFailedFuture(error)
        }
    }

    private func relay(_ context: ChannelHandlerContext, to upstream: any Channel) {
        let (local, remote) = GlueHandler.matchedPair()
        do {
            try upstream.pipeline.syncOperations.addHandler(remote)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [5, 0, 0, 1, 0, 0, 0, 0, 0, 0])), promise: nil)
            try context.pipeline.syncOperations.addHandler(local)
            if buffer.readableBytes > 0 { upstream.writeAndFlush(buffer, promise: nil) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
        }
    }

    /// A SOCKS5 reply with code `code` (2: not allowed, 5: refused, 7: command not supported), then close.
    private func reply(_ context: ChannelHandlerContext, _ code: UInt8) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [5, code, 0, 1, 0, 0, 0, 0, 0, 0]))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
