import CBerthRuntime
import CBerthShim

/// A process's stdio as the client asked for it (`ShimStdio`): paths, all optional.
struct Stdio {
    var stdin: String?
    var stdout: String?
    var stderr: String?
    var logPath: String?
    var terminal = false

    init(_ json: JSON?) throws(ShimError) {
        guard let json, json.isObject else { throw ShimError.invalidParams("stdio must be an object") }
        stdin = try json.optionalString("stdin", prefix: "stdio.")
        stdout = try json.optionalString("stdout", prefix: "stdio.")
        stderr = try json.optionalString("stderr", prefix: "stdio.")
        logPath = try json.optionalString("logPath", prefix: "stdio.")
        terminal = try json.optionalBool("terminal", prefix: "stdio.") ?? false
    }
}

/// The stdio of one container process, as the shim sets it up.
///
/// A FIFO or file named by the client is opened by the shim and handed to the process
/// directly (a FIFO `O_RDWR`, so opening never blocks on a missing reader, as
/// containerd's fifo package does). With a log path, stdout and stderr go through pipes
/// to copier threads that append JSON lines to the log — so the container never blocks
/// because berthd or a client is away.
final class ProcessIO {
    /// The descriptors to give the runtime as 0, 1, 2 (-1: /dev/null).
    private(set) var child: (stdin: Int32, stdout: Int32, stderr: Int32) = (-1, -1, -1)
    private var opened: [Int32] = []
    private let stdio: Stdio
    /// The write end of the pipe the stdin copier fills (closeIO closes it).
    private let stdinPipe = ClosableFD()
    /// With a terminal: the socket the runtime sends the pty master to, and the master.
    let consoleSocketPath: String?
    private var consoleListener: Int32 = -1
    private let master = ClosableFD()
    private let loop: EventLoop
    /// Output copiers still running, and who waits for them all to finish (loop only).
    private var outputCopiers = 0
    private var drainWaiters: [() -> Void] = []

    deinit {
        closeChildEnds()
        if consoleListener >= 0 { _ = close(consoleListener) }
    }

    init(_ stdio: Stdio, consoleSocketPath: String, loop: EventLoop) throws(ShimError) {
        self.stdio = stdio
        self.loop = loop
        self.consoleSocketPath = stdio.terminal ? consoleSocketPath : nil
        if stdio.terminal {
            let fd = berth_shim_listen(consoleSocketPath, 4)
            guard fd >= 0 else { throw ShimError.system("listen on " + consoleSocketPath, errno: -fd) }
            consoleListener = fd
            return // the pty carries all three streams; see attachConsole()
        }
        do throws(ShimError) {
            child.stdin = try stdio.stdin.map { (p: String) throws(ShimError) -> Int32 in try openStdin(p) } ?? -1
            if let log = stdio.logPath {
                let writer = try LogWriter(path: log)
                child.stdout = try pipeToLog(writer, stream: "stdout", tee: stdio.stdout)
                child.stderr = try pipeToLog(writer, stream: "stderr", tee: stdio.stderr)
            } else {
                child.stdout = try stdio.stdout.map { (p: String) throws(ShimError) -> Int32 in try openPath(p, write: true) } ?? -1
                child.stderr = try stdio.stderr.map { (p: String) throws(ShimError) -> Int32 in try openPath(p, write: true) } ?? -1
            }
        } catch {
            closeChildEnds()
            throw error
        }
    }

    /// With a terminal: takes the pty master the runtime sent (watched on the loop, 5 s at
    /// most), copies it to stdout (or the log) and stdin into it, then calls `done` on the
    /// loop. At once without a terminal. Call after the runtime's create/exec returned.
    func attachConsole(_ done: @escaping (ShimError?) -> Void) {
        guard consoleSocketPath != nil, consoleListener >= 0 else { return done(nil) }
        let listener = consoleListener
        let once = OnceFlag()
        let finish = { [self] (error: ShimError?) in
            if once.fired { return }
            once.fired = true
            loop.unwatch(listener)
            _ = close(listener)
            consoleListener = -1
            done(error)
        }
        loop.watch(listener) { [self] _ in
            do throws(ShimError) {
                try takeConsole(listener)
                finish(nil)
            } catch {
                finish(error)
            }
        }
        loop.after(milliseconds: 5000) { finish(ShimError(.internal, "the runtime sent no terminal within 5 s")) }
    }

    private func takeConsole(_ listener: Int32) throws(ShimError) {
        let connection = berth_shim_accept(listener, 0)
        guard connection >= 0 else { throw ShimError.system("accept console socket", errno: -connection) }
        defer { _ = close(connection) }
        // The runtime sends the pty as it connects; a peer that sends nothing does not
        // hold the loop for longer than this.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let fd = berth_recv_fd(connection)
        guard fd >= 0 else { throw ShimError.system("receive pty master", errno: -fd) }
        master.set(fd)
        let writer = try stdio.logPath.map { (p: String) throws(ShimError) -> LogWriter in try LogWriter(path: p) }
        let out = try stdio.stdout.map { (p: String) throws(ShimError) -> Int32 in try openPath(p, write: true) }
        if let out { opened.removeAll { $0 == out } }
        let master = master
        startOutputCopier {
            copyLoop(fd) { chunk in // ends with EIO once every slave fd is closed
                writer?.append(stream: "stdout", chunk)
                if let out { Sys.writeAll(out, Array(chunk)) }
                return true
            }
            if let out { _ = close(out) }
            master.close()
        }
        if let path = stdio.stdin {
            startThread {
                let fifo = berth_shim_open(path, O_RDONLY | O_CLOEXEC, 0)
                guard fifo >= 0 else { return }
                copyLoop(fifo, bufferSize: 4096) { master.write($0) }
                _ = close(fifo)
            }
        }
    }

    /// After a failed create or exec: lets go of what was made for the process (the
    /// console socket, a pty master, the stdin pipe; the copiers then see end of file).
    func abandon() {
        closeChildEnds()
        if consoleListener >= 0 {
            loop.unwatch(consoleListener)
            _ = close(consoleListener)
            consoleListener = -1
        }
        if let path = consoleSocketPath { unlink(path) }
        master.close()
        stdinPipe.close()
    }

    /// A thread copying the process's output; `whenOutputDrained` waits for it.
    private func startOutputCopier(_ body: @escaping () -> Void) {
        outputCopiers += 1
        let loop = loop
        startThread {
            body()
            loop.post { self.outputCopierFinished() }
        }
    }

    private func outputCopierFinished() {
        outputCopiers -= 1
        guard outputCopiers == 0 else { return }
        let waiters = drainWaiters
        drainWaiters = []
        for waiter in waiters { waiter() }
    }

    /// Calls `done` on the loop once every byte the process wrote is in the log and the
    /// stdout/stderr files (its copiers saw end of file), or after `timeoutMs` (a process
    /// that escaped the container may hold the pipe open).
    func whenOutputDrained(timeoutMs: Int64, _ done: @escaping () -> Void) {
        guard outputCopiers > 0 else { return done() }
        let once = OnceFlag()
        let fire = {
            if once.fired { return }
            once.fired = true
            done()
        }
        drainWaiters.append(fire)
        loop.after(milliseconds: timeoutMs, fire)
    }

    /// Resizes the terminal.
    func resize(width: Int, height: Int) throws(ShimError) {
        guard let fd = master.value else { throw ShimError(.failedPrecondition, "the process has no terminal") }
        let rc = berth_set_winsize(fd, UInt16(clamping: height), UInt16(clamping: width))
        guard rc >= 0 else { throw ShimError.system("resize terminal", errno: -rc) }
    }

    /// Closes the process's stdin: it reads end of file (with a terminal: EOT, written by
    /// a thread: a terminal nobody reads would block it).
    func closeStdin() {
        if master.value != nil {
            master.writeSoon([0x04])
        } else {
            stdinPipe.close()
        }
    }

    /// Closes the shim's copies of what the process holds (after the runtime has them).
    func closeChildEnds() {
        for fd in opened { _ = close(fd) }
        opened.removeAll()
    }

    /// A FIFO named as stdin is copied into a pipe by a thread: the process must not
    /// hold a write end of its own input (it would never see end of file), and the
    /// client may open its end later. End of file on the FIFO closes the pipe.
    private func openStdin(_ path: String) throws(ShimError) -> Int32 {
        guard Sys.isFIFO(path) else { return try openPath(path, write: false) }
        let (readEnd, writeEnd) = try makePipe()
        opened.append(readEnd)
        stdinPipe.set(writeEnd)
        let stdinPipe = stdinPipe
        startThread {
            let fifo = berth_shim_open(path, O_RDONLY | O_CLOEXEC, 0) // waits for the client's writer
            if fifo >= 0 {
                copyLoop(fifo) { stdinPipe.write($0) }
                _ = close(fifo)
            }
            stdinPipe.close()
        }
        return readEnd
    }

    private func openPath(_ path: String, write: Bool) throws(ShimError) -> Int32 {
        let flags = Sys.isFIFO(path) ? O_RDWR : (write ? O_WRONLY | O_CREAT | O_APPEND : O_RDONLY)
        let fd = berth_shim_open(path, flags | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ShimError(.invalidArgument, "cannot open stdio " + path + ": open: " + describeErrno(-fd)) }
        opened.append(fd)
        return fd
    }

    private func makePipe() throws(ShimError) -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        let rc = berth_shim_pipe(&fds)
        guard rc == 0 else { throw ShimError.system("pipe", errno: -rc) }
        return (fds[0], fds[1])
    }

    /// A pipe whose read end a thread copies into the log (and into `tee`, if given).
    private func pipeToLog(_ writer: LogWriter, stream: String, tee: String?) throws(ShimError) -> Int32 {
        let (readEnd, writeEnd) = try makePipe()
        opened.append(writeEnd)
        let teeFD: Int32?
        do throws(ShimError) {
            teeFD = try tee.map { (p: String) throws(ShimError) -> Int32 in try openPath(p, write: true) }
        } catch {
            _ = close(readEnd)
            throw error
        }
        if let teeFD { opened.removeAll { $0 == teeFD } } // the copier owns it
        startOutputCopier {
            copyLoop(readEnd) { chunk in
                writer.append(stream: stream, chunk)
                if let teeFD { Sys.writeAll(teeFD, Array(chunk)) }
                return true
            }
            _ = close(readEnd)
            if let teeFD { _ = close(teeFD) }
        }
        return writeEnd
    }
}

/// Appends `{"log":…,"stream":…,"time":…}` lines to a file, rotating it to `<path>.1`
/// when it passes `maxBytes`. Shared by a process's stdout and stderr copiers.
final class LogWriter {
    let path: String
    let maxBytes: Int
    private var fd: Int32
    private var size: Int
    private let lock = Lock()

    init(path: String, maxBytes: Int = 16 << 20) throws(ShimError) {
        self.path = path
        self.maxBytes = maxBytes
        // O_NONBLOCK: a FIFO named as the log, with no reader, fails (ENXIO) instead of
        // blocking the loop; writes block again once it is open.
        fd = berth_shim_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard fd >= 0 else { throw ShimError(.invalidArgument, "cannot open log " + path + ": open: " + describeErrno(-fd)) }
        _ = berth_shim_set_blocking(fd)
        var st = stat()
        fstat(fd, &st)
        size = Int(st.st_size)
    }

    deinit {
        if fd >= 0 { _ = close(fd) }
    }

    func append(stream: String, _ bytes: ArraySlice<UInt8>) {
        var line = JSON.object([("log", .string(String(decoding: bytes, as: UTF8.self))), ("stream", .string(stream)),
                                ("time", .string(timestampNow()))]).bytes
        line.append(0x0a)
        lock.locked {
            if size + line.count > maxBytes { rotate() }
            if Sys.writeAll(fd, line) { size += line.count }
        }
    }

    private func rotate() {
        let next = berth_shim_open(path + ".new", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600)
        guard next >= 0 else { return } // keep writing the current file
        rename(path, path + ".1")
        rename(path + ".new", path)
        _ = close(fd)
        fd = next
        size = 0
    }
}

/// Whether something happened already (a callback that must run once).
final class OnceFlag {
    var fired = false
}
