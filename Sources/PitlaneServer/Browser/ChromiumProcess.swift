import Foundation
import PitlaneCore

#if canImport(Glibc)
    import Glibc
#endif

/// One Chromium process, started in a process group of its own with the DevTools pipe on fds 3 and 4, its
/// profile in a fresh temporary directory that is removed when it stops. Killing the group takes the
/// renderers and helpers with it.
struct ChromiumProcess: Sendable {
    let pid: pid_t
    /// Pitlane's ends of the pipe: read what Chromium writes, write what it reads.
    let input: Int32
    let output: Int32
    let directory: URL

    /// Where the browser's own messages go (the reason it did not start, when it does not).
    var errorLog: URL { Self.errorLog(in: directory) }

    static func errorLog(in directory: URL) -> URL { directory.appendingPathComponent("stderr.log") }

    /// The Chromium to run: the configured path, else the first of the usual names on PATH.
    static func executable(configured: String?) throws(BrowserError) -> String {
        let manager = FileManager.default
        if let configured {
            guard manager.isExecutableFile(atPath: configured) else {
                throw .notInstalled("browser.path \(configured) is not an executable file")
            }
            return configured
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for folder in path.split(separator: ":") where manager.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        throw .notInstalled("no Chromium found on PATH (chromium, chromium-browser, google-chrome)")
    }

    /// Starts `executable` with `arguments` plus `--remote-debugging-pipe` and `--user-data-dir`.
    static func launch(executable: String, arguments: [String]) throws(BrowserError) -> ChromiumProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitlane-browser-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .failed("could not start: cannot create its profile directory (\(error))")
        }
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard openPipe(&toChild) else { throw .failed("could not start: no pipe (errno \(errno))") }
        guard openPipe(&fromChild) else {
            close(toChild[0])
            close(toChild[1])
            throw .failed("could not start: no pipe (errno \(errno))")
        }
        // The child's ends above fd 4, so that moving them onto 3 and 4 cannot overwrite one with the other.
        let childRead = fcntl(toChild[0], F_DUPFD_CLOEXEC, 10)
        let childWrite = fcntl(fromChild[1], F_DUPFD_CLOEXEC, 10)
        close(toChild[0])
        close(fromChild[1])
        defer {
            close(childRead)
            close(childWrite)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let log = errorLog(in: directory).path
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, childRead, 3)
        posix_spawn_file_actions_adddup2(&actions, childWrite, 4)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        let argv =
            [executable] + arguments + ["--remote-debugging-pipe", "--user-data-dir=\(directory.appendingPathComponent("profile").path)"]
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, &cArguments, environ)
        guard status == 0 else {
            close(toChild[1])
            close(fromChild[0])
            try? FileManager.default.removeItem(at: directory)
            throw .failed("could not start \(executable) (error \(status))")
        }
        return ChromiumProcess(pid: pid, input: fromChild[0], output: toChild[1], directory: directory)
    }

    /// A pipe whose ends a child process does not inherit. Swift's Glibc does not export pipe2, so the
    /// flag is set just after (a process spawned by another thread in between could inherit them; Pitlane
    /// spawns nothing else).
    private static func openPipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Kills the whole process group, reaps the browser, removes the profile.
    func stop() {
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        try? FileManager.default.removeItem(at: directory)
    }

    /// The last lines the browser wrote to stderr (at most 600 characters), to say why it failed.
    func errorTail() -> String {
        guard let text = try? String(contentsOf: errorLog, encoding: .utf8) else { return "" }
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        return String(lines.suffix(4).joined(separator: " | ").suffix(600))
    }

    /// The memory of every process in the browser's group, from /proc: each one's proportional share
    /// (PSS), so the libraries and shared memory all renderers map are counted once, not once per process.
    func residentBytes() -> Int {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        var total = 0
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "pid (comm)": state ppid pgrp ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[2]) == pid,
                let rollup = try? String(contentsOfFile: "/proc/\(entry)/smaps_rollup", encoding: .utf8),
                let line = rollup.split(separator: "\n").first(where: { $0.hasPrefix("Pss:") }),
                let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
            else { continue }
            total += kilobytes * 1024
        }
        return total
    }
}
