import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Gives freed heap memory back to the system every few seconds. glibc keeps what a burst of small
/// allocations freed (a 200k-segment playlist rewritten once: 109 MB resident long after every cache let
/// it go, 53 MB after a trim), so without this, memory measured from outside never comes back to idle.
/// A trim walks the heap under malloc's locks: about 7 ms for a fragmented 150 MB heap on this machine,
/// far less at idle; every 5 s that is a pause no player notices.
struct MemoryTrimService: Service {
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            Self.trim()
        }
    }

    /// glibc's `malloc_trim`, looked up at run time: the Glibc module does not import `malloc.h`, and a
    /// C library without it (musl) simply gets no trimming.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
            return nil
        #endif
    }()

    static func trim() {
        _ = mallocTrim?(0)
    }
}
