import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PitlaneCore

/// The Chrome DevTools protocol over the pipe Chromium opens with `--remote-debugging-pipe` (it reads
/// fd 3, writes fd 4, each message JSON ending in a NUL byte). A pipe rather than a WebSocket port: no
/// other process on the machine, and no page in the browser, can reach it to drive the browser.
/// Commands are answered by id, each bounded by a timeout; events go to whoever listens to their session.
final class DevToolsConnection: Sendable {
    struct Event: Sendable {
        var method: String
        var params: JSONValue
        var session: String?
    }

    /// Receives a session's events, and nil once when the connection is gone.
    typealias Listener = @Sendable (Event?) -> Void

    enum Failure: Error, Sendable, CustomStringConvertible {
        case closed
        case timeout(String)
        case command(String, String)

        var description: String {
            switch self {
            case .closed: "exited or closed its DevTools pipe"
            case .timeout(let method): "did not answer \(method) in time"
            case .command(let method, let message): "refused \(method): \(message)"
            }
        }
    }

    private struct State {
        var nextID = 1
        var pending: [Int: (method: String, continuation: CheckedContinuation<JSONValue, any Error>)] = [:]
        /// Session id → the session that started listening, and its listener; the browser's own session is "".
        var listeners: [String: (root: String, listener: Listener)] = [:]
        var closed = false
    }

    private let state = NIOLockedValueBox(State())
    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Wraps Chromium's end of the pipe: `input` is what it writes (its fd 4), `output` what it reads.
    /// Messages over `maxMessage` bytes close the connection (the browser is then restarted).
    static func open(input: Int32, output: Int32, maxMessage: Int = 32 * 1024 * 1024) async throws -> DevToolsConnection {
        let box = NIOLockedValueBox<DevToolsConnection?>(nil)
        let channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NULFrameDecoder(maxMessage: maxMessage)))
                    try channel.pipeline.syncOperations.addHandler(
                        FrameHandler(
                            onFrame: { frame in box.withLockedValue { $0 }?.received(frame) },
                            onClose: { box.withLockedValue { $0 }?.closedByPeer() }))
                }
            }
            .takingOwnershipOfDescriptors(input: input, output: output).get()
        let connection = DevToolsConnection(channel: channel)
        box.withLockedValue { $0 = connection }
        if !channel.isActive { connection.closedByPeer() }
        return connection
    }

    var isOpen: Bool { !state.withLockedValue(\.closed) }

    /// Sends a command (to a page's `session`, or to the browser) and waits at most `timeout` for its answer.
    func call(_ method: String, _ params: JSONValue = [:], session: String? = nil, timeout: Duration = .seconds(10)) async throws
        -> JSONValue
    {
        let id = state.withLockedValue { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        var message: [String: JSONValue] = ["id": .number(Double(id)), "method": .string(method), "params": params]
        if let session { message["sessionId"] = .string(session) }
        var buffer = channel.allocator.buffer(bytes: try JSONEncoder().encode(JSONValue.object(message)))
        buffer.writeInteger(UInt8(0))
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [self] in
            finish(id, with: .failure(Failure.timeout(method)))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let accepted = state.withLockedValue { state in
                    guard !state.closed else { return false }
                    state.pending[id] = (method, continuation)
                    return true
                }
                guard accepted else { return continuation.resume(throwing: Failure.closed) }
                channel.writeAndFlush(buffer, promise: nil)
            }
        } onCancel: {
            finish(id, with: .failure(CancellationError()))
        }
    }

    /// Delivers `session`'s events (and those of the sessions attached under it: iframes, workers) to
    /// `listener` until `stopListening`.
    func listen(session: String, _ listener: @escaping Listener) {
        let closed = state.withLockedValue { state in
            state.listeners[session] = (session, listener)
            return state.closed
        }
        if closed { listener(nil) }
    }

    func stopListening(session: String) {
        state.withLockedValue { state in state.listeners = state.listeners.filter { $0.value.root != session } }
    }

    func close() {
        channel.close(promise: nil)
    }

    private func finish(_ id: Int, with result: Result<JSONValue, any Error>) {
        let waiting = state.withLockedValue { $0.pending.removeValue(forKey: id) }
        waiting?.continuation.resume(with: result)
    }

    private func received(_ frame: ByteBuffer) {
        guard let message = try? JSONDecoder().decode(JSONValue.self, from: Data(frame.readableBytesView)) else { return }
        if let id = message["id"]?.int {
            if let error = message["error"] {
                let text = error["message"]?.string ?? "error"
                let method = state.withLockedValue { $0.pending[id]?.method } ?? "a command"
                finish(id, with: .failure(Failure.command(method, text)))
            } else {
                finish(id, with: .success(message["result"] ?? [:]))
            }
            return
        }
        guard let method = message["method"]?.string else { return }
        let session = message["sessionId"]?.string
        let params = message["params"] ?? [:]
        let listener = state.withLockedValue { state -> Listener? in
            let entry = state.listeners[session ?? ""]
            // A session attached under a listened one (an iframe, a worker) belongs to the same listener,
            // registered before any of its own events can arrive.
            if method == "Target.attachedToTarget", let child = params["sessionId"]?.string, let entry {
                state.listeners[child] = entry
            }
            return entry?.listener
        }
        listener?(Event(method: method, params: params, session: session))
    }

    private func closedByPeer() {
        let (pending, listeners) = state.withLockedValue { state in
            state.closed = true
            defer {
                state.pending = [:]
                state.listeners = [:]
            }
            return (state.pending.values.map(\.continuation), state.listeners.filter { $0.key == $0.value.root }.map(\.value.listener))
        }
        for continuation in pending { continuation.resume(throwing: Failure.closed) }
        for listener in listeners { listener(nil) }
    }
}

/// Splits the pipe's bytes at NUL bytes; a message longer than `maxMessage` is an error that closes it.
struct NULFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxMessage: Int
    private var scanned = 0

    init(maxMessage: Int) {
        self.maxMessage = maxMessage
    }

    struct TooLong: Error {}

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let end = view.dropFirst(scanned).firstIndex(of: 0) else {
            scanned = view.count
            if scanned > maxMessage { throw TooLong() }
            return .needMoreData
        }
        let frame = buffer.readSlice(length: end - view.startIndex)!
        buffer.moveReaderIndex(forwardBy: 1)
        scanned = 0
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Hands each message to the connection and tells it when the pipe closes.
final class FrameHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let onFrame: @Sendable (ByteBuffer) -> Void
    let onClose: @Sendable () -> Void

    init(onFrame: @escaping @Sendable (ByteBuffer) -> Void, onClose: @escaping @Sendable () -> Void) {
        self.onFrame = onFrame
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onFrame(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
