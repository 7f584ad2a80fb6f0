import CBerthShim

/// A spare shim: started by berthd before any task needs it, it waits on a socket of its
/// own for one `shim.adopt`, which names its task (the bootstrap `start` would have
/// read); it then becomes that task's shim exactly as a `start`ed one would be (socket,
/// `bootstrap.json`, `oom_score_adj`) and serves it. A spare whose berthd goes away (its
/// connection closes) before adopting exits.
extension Shim {
    /// The spare's niceness until it is adopted.
    static let spareNice: Int32 = 19

    /// Room for the task's bundle in the spare's command line.
    static let commandLineRoom = String(repeating: " ", count: 512)

    /// `berth-shim spare ADDRESS`: binds ADDRESS, starts `serve --spare ADDRESS` in a new
    /// session with the socket as descriptor 3, prints `{"address","pid"}` and exits.
    static func startSpare(address: String) throws(ShimError) {
        // A spare's start is never waited for: it yields the CPU to the tasks being
        // created and started meanwhile (the serving spare inherits this, and takes the
        // normal priority back when it is adopted).
        _ = berth_shim_set_nice(spareNice)
        try launchServer(address: address, ["serve", "--spare", address, commandLineRoom])
    }

    /// In the spare, before anything else: takes berthd's one connection, waits for the
    /// adoption, and returns the task's bootstrap once the task's socket is descriptor 3,
    /// `bootstrap.json` is written and berthd has its answer. Exits when berthd's
    /// connection closes first, or the adoption fails (berthd then starts a shim).
    static func awaitAdoption(spareAddress: String) -> Bootstrap {
        // berthd connects as soon as the launcher has answered; a spare that nobody
        // connects to (its berthd died in between) does not wait for ever.
        var ready = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
        while poll(&ready, 1, 10_000) < 0 && lastErrno == EINTR {}
        guard ready.revents & Int16(POLLIN) != 0 else { unlink(spareAddress); exit(0) }
        let connection = berth_shim_accept(listenFD, 0)
        guard connection >= 0 else { exit(1) }
        // The name is for that one connection: another spare may get it next.
        unlink(spareAddress)
        _ = close(listenFD)
        defer { _ = close(connection) }
        guard let request = readFrame(connection) else { exit(0) } // berthd is gone
        // The normal priority back, for every thread.
        _ = berth_shim_set_nice_all_threads(0)
        let message = try? JSON.parse(request)
        let id = message?["id"] ?? .null
        do throws(ShimError) {
            guard message?["method"]?.string == "shim.adopt" else {
                throw ShimError(.invalidArgument, "a spare shim answers shim.adopt only")
            }
            var bootstrap = try Bootstrap(message?["params"] ?? .null)
            guard chdir(bootstrap.bundle) == 0 else { throw ShimError.system("chdir " + bootstrap.bundle, errno: lastErrno) }
            try Sys.makeDirectories(Sys.parentDirectory(bootstrap.address), mode: 0o700)
            let listener = try bindListener(bootstrap.address)
            if listener != listenFD { // descriptor 3 was the spare's listener, closed above
                guard dup2(listener, listenFD) == listenFD else { throw ShimError.system("dup2", errno: lastErrno) }
                _ = close(listener)
            }
            Sys.setOOMScoreAdj(bootstrap.oomScoreAdj)
            bootstrap.shimPid = getpid()
            try bootstrap.write(to: bootstrap.bundle)
            setCommandLine(["berth-shim", "serve", bootstrap.bundle])
            writeFrame(connection, .object([("id", id), ("jsonrpc", .string("2.0")),
                                            ("result", started(address: bootstrap.address, pid: getpid()))]))
            return bootstrap
        } catch {
            writeFrame(connection, Connection.errorMessage(id: id, error))
            exit(1)
        }
    }

    /// What ps shows from now on: the words written over the process's own argument
    /// area, which the spare was started with room in (no prctl: that needs
    /// CAP_SYS_RESOURCE). Left as it was when they do not fit.
    private static func setCommandLine(_ words: [String]) {
        var capacity = 0
        guard let start = berth_shim_args_area(&capacity) else { return }
        var text: [UInt8] = []
        for word in words { text += Array(word.utf8) + [0] }
        guard text.count <= capacity else { return }
        text.withUnsafeBytes { _ = memcpy(start, $0.baseAddress!, text.count) }
        memset(start + text.count, 0, capacity - text.count)
    }

    /// One frame (4-byte big-endian length, then the payload), read blocking; nil at
    /// end of file or on a malformed or oversized frame.
    private static func readFrame(_ fd: Int32) -> [UInt8]? {
        guard let header = readExactly(fd, 4) else { return nil }
        let length = Connection.frameLength(header)
        guard length > 0, length <= Connection.maxPayload else { return nil }
        return readExactly(fd, length)
    }

    private static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
            if n < 0 && lastErrno == EINTR { continue }
            if n <= 0 { return nil }
            got += n
        }
        return out
    }

    /// One frame, written blocking; a write that fails is berthd gone, and nothing to do.
    private static func writeFrame(_ fd: Int32, _ message: JSON) {
        Sys.writeAll(fd, Connection.frame(message))
    }
}
