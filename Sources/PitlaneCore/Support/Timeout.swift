import Foundation

public enum TimeoutError: Error, Sendable, Equatable {
    case timedOut
}

/// Runs `operation`, giving up after `limit` with `TimeoutError.timedOut`.
///
/// The caller gets its answer at the deadline even when the operation ignores cancellation (a blocking
/// library call, or an unstructured task it awaits): the operation is cancelled and left to finish on its
/// own, and its result is dropped. A task group would instead wait for its child, which is how a hold of
/// 8 s once lasted as long as the source's 20 s run.
public func withTimeout<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await racing(operation) {
        try? await Task.sleep(for: limit)
        return TimeoutError.timedOut
    }
}

/// Runs `operation` until `giveUp` returns, and then throws the error `giveUp` returned, with the same
/// guarantee as `withTimeout` (which is this with a timer): the caller is answered at once, whatever the
/// operation does with its cancellation. `giveUp` is cancelled when the operation ends first.
public func racing<T: Sendable>(
    _ operation: @escaping @Sendable () async throws -> T, against giveUp: @escaping @Sendable () async -> any Error
) async throws -> T {
    let race = FirstResult<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            let work = Task {
                do {
                    race.finish(.success(try await operation()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            let timer = Task {
                let error = await giveUp()
                race.finish(.failure(error))
            }
            race.onFinish {
                work.cancel()
                timer.cancel()
            }
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first of several results, handed to one continuation exactly once; later ones are dropped.
private final class FirstResult<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var result: Result<T, any Error>?
    private var cleanup: (@Sendable () -> Void)?
    private var finished = false

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = lock.withLock {
            if let result { return result }
            self.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func finish(_ outcome: Result<T, any Error>) {
        let (waiting, cleanup): (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) = lock.withLock {
            guard !finished else { return (nil, nil) }
            finished = true
            result = outcome
            defer {
                continuation = nil
                self.cleanup = nil
            }
            return (continuation, self.cleanup)
        }
        waiting?.resume(with: outcome)
        cleanup?()
    }

    func onFinish(_ action: @escaping @Sendable () -> Void) {
        let runNow = lock.withLock {
            if finished { return true }
            cleanup = action
            return false
        }
        if runNow { action() }
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number (for metrics and logs).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
