#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// What the launcher prints, and a spare answers when it is adopted.
public struct ShimStarted: Codable, Sendable, Equatable {
    public var address: String
    public var pid: Int32
    public init(address: String, pid: Int32) {
        self.address = address
        self.pid = pid
    }
}

/// The one call a spare shim answers (proto-docs/shim.md, "Spare shims").
public enum SpareAPI {
    public static let adopt = APIMethod<ShimBootstrap, ShimStarted>("shim.adopt")
}

/// A spare shim: started by berthd before any task needs it, it waits on a socket of
/// its own for one `shim.adopt`, which names its task (the bootstrap `start` would have
/// read); it then becomes that task's shim exactly as a `start`ed one would be (socket,
/// `bootstrap.json`, `oom_score_adj`) and serves it. Starting a shim (two executions of
/// a static binary, ~4–5 ms here) is then off the task's create. A spare whose
/// berthd goes away (its connection closes) before adopting exits.
extension Shim {
    /// `berth-shim spare ADDRESS`: binds ADDRESS, starts `serve --spare ADDRESS` in a new
    /// session with the socket as descriptor 3, prints `{"address","pid"}` and exits.
    public static func startSpare(address: String) throws {
        // A spare's start is never waited for: it yields the CPU to the tasks being
        // created and started meanwhile (the serving spare inherits this, and takes the
        // normal priority back when it is adopted).
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, spareNice)
        try launchServer(address: address, ["serve", "--spare", address, commandLineRoom])
    }

    /// In the spare, before anything else: takes berthd's one connection, waits for the
    /// adoption, and returns the task's bootstrap once the task's socket is descriptor 3,
    /// `bootstrap.json` is written and berthd has its answer. Exits when berthd's
    /// connection closes first, or the adoption fails (berthd then starts a shim).
    static func awaitAdoption(spareAddress: String) -> ShimBootstrap {
        // berthd connects as soon as the launcher has answered; a spare that nobody
        // connects to (its berthd died in between) does not wait for ever.
        var ready = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
        while poll(&ready, 1, 10_000) < 0 && errno == EINTR {}
        guard ready.revents & Int16(POLLIN) != 0 else { unlink(spareAddress); exit(0) }
        let connection = accept(listenFD, nil, nil)
        guard connection >= 0 else { exit(1) }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        // The name is for that one connection: another spare may get it next.
        unlink(spareAddress)
        close(listenFD)
        defer { close(connection) }
        guard let request = readFrame(connection) else { exit(0) } // berthd is gone
        // The normal priority back, for every thread (on Linux a priority is a thread's).
        for task in (try? FileSystem.entries("/proc/self/task")) ?? [] {
            if let tid = UInt32(task) { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, 0) }
        }
        let head = try? WireJSON.decode(MessageHead.self, from: request)
        let id = head?.id
        do {
            guard head?.method == SpareAPI.adopt.name else {
                throw BerthError.invalidArgument("a spare shim answers \(SpareAPI.adopt.name) only")
            }
            var bootstrap = try RPCMessage.decodeParams(ShimBootstrap.self, from: request)
            guard chdir(bootstrap.bundle) == 0 else { throw SystemError(errno: errno, stage: "chdir \(bootstrap.bundle)") }
            try FileSystem.makeDirectory(FileSystem.parentDirectory(of: bootstrap.address), mode: 0o700)
            let listener = try bindListener(bootstrap.address)
            if listener != listenFD { // descriptor 3 was the spare's listener, closed above
                guard dup2(listener, listenFD) == listenFD else { throw SystemError(errno: errno, stage: "dup2") }
                close(listener)
            }
            setOOMScoreAdj(bootstrap.oomScoreAdj)
            bootstrap.shimPid = getpid()
            try bootstrap.write(to: bootstrap.bundle)
            setCommandLine(["berth-shim", "serve", bootstrap.bundle])
            writeFrame(connection, RPCMessage.response(id: id, resultJSON: try WireJSON.encode(ShimStarted(address: bootstrap.address, pid: getpid()))))
            return bootstrap
        } catch {
            let failure = error as? BerthError ?? BerthError.internal("\(error)")
            writeFrame(connection, RPCMessage.error(id: id, failure))
            exit(1)
        }
    }

    /// The spare's niceness until it is adopted.
    static let spareNice: Int32 = 19

    /// Room for the task's bundle in the spare's command line (Shim.startSpare).
    static let commandLineRoom = String(repeating: " ", count: 512)

    /// What ps shows from now on: the words written over the process's own argument
    /// area, which the spare was started with room in (no prctl: that needs
    /// CAP_SYS_RESOURCE). Left as it was when they do not fit.
    private static func setCommandLine(_ words: [String]) {
        let argc = Int(CommandLine.argc)
        guard argc > 0, let first = CommandLine.unsafeArgv[0], let last = CommandLine.unsafeArgv[argc - 1] else { return }
        let start = UnsafeMutableRawPointer(first)
        let capacity = UnsafeMutableRawPointer(last) + strlen(last) + 1 - start
        var text: [UInt8] = []
        for word in words { text += Array(word.utf8) + [0] }
        guard text.count <= capacity else { return }
        text.withUnsafeBytes { _ = memcpy(start, $0.baseAddress!, text.count) }
        memset(start + text.count, 0, capacity - text.count)
    }

    static func setOOMScoreAdj(_ adj: Int?) {
        guard let adj else { return }
        try? FileSystem.writeExisting("/proc/self/oom_score_adj", Array("\(adj)".utf8))
    }

    /// One frame (4-byte big-endian length, then the payload), read blocking; nil at
    /// end of file or on a malformed or oversized frame.
    private static func readFrame(_ fd: Int32) -> [UInt8]? {
        guard let header = try? FileSystem.read(fd, exactly: Frame.headerSize, what: "frame") else { return nil }
        let length = Frame.length(header)
        guard length > 0, length <= Frame.defaultMaxPayload else { return nil }
        return try? FileSystem.read(fd, exactly: length, what: "frame")
    }

    /// One frame, written blocking; a write that fails is berthd gone, and nothing to do.
    private static func writeFrame(_ fd: Int32, _ payload: [UInt8]) {
        try? FileSystem.writeAll(fd, Frame.header(payload.count) + payload, what: "frame")
    }
}
