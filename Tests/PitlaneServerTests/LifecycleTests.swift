import Foundation
import Logging
import PitlaneCore
import PitlaneServer
import Testing
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// Starting and stopping `pitlane serve`: a port another program holds is a clear error at once.
@Suite struct LifecycleTests {
    /// A listening loopback socket on a free port, as another program would hold it.
    static func occupyPort() throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 1) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard descriptor >= 0, bound else { throw HarnessError.timedOut("no free port") }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func aTakenPortIsAClearErrorNotAServerThatNeverListens() async throws {
        let (descriptor, port) = try Self.occupyPort()
        defer { close(descriptor) }
        var configuration = Configuration()
        configuration.server.port = port
        configuration.server.dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-test-\(UUID())").path
        configuration.schedule.refresh = false
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let pitlane = try PitlaneApplication(configuration: configuration, clock: ManualClock(ServerHarness.start), logger: logger)
        // Before the fix the loops waiting for the address kept the process alive after the bind failed.
        let outcome = try await withTimeout(.seconds(15)) { () async throws -> ListenError? in
            do {
                try await pitlane.run(gracefulShutdownSignals: [])
                return nil
            } catch let error as ListenError {
                return error
            }
        }
        #expect(outcome?.reason == .inUse)
        #expect(outcome?.description.contains("127.0.0.1:\(port)") == true)
        #expect(outcome?.description.contains("already in use") == true)
    }

    @Test func aWaitForTheAddressEndsWhenItsTaskIsCancelled() async throws {
        let address = ServerAddress()
        let waiter = Task { await address.wait() }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        let url = try await withTimeout(.seconds(5)) { await waiter.value }
        #expect(url == nil)
        address.set(URL(string: "http://127.0.0.1:1/")!)
        #expect(await address.wait() == URL(string: "http://127.0.0.1:1/"))
    }
}
