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
                try? await Task.sleep(for: limit)
                race.finish(.failure(TimeoutError.timedOut))
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
