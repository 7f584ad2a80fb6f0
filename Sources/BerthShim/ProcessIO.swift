#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthSystem
import CBerthLinux
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The stdio of one container process, as the shim sets it up.
///
/// A FIFO or file named by the client is opened by the shim and handed to the process
/// directly (a FIFO `O_RDWR`, so opening never blocks on a missing reader, as
/// containerd's fifo package does). With a log path, stdout and stderr go through pipes
/// to copier threads that append JSON lines to the log — so the container never blocks
/// because berthd or a client is away.
final class ProcessIO: @unchecked Sendable {
    /// The descriptors to give the runtime as 0, 1, 2 (-1: /dev/null).
    private(set) var child: (stdin: Int32, stdout: Int32, stderr: Int32) = (-1, -1, -1)
    private var opened: [Int32] = []
    private let stdio: ShimStdio
    /// The write end of the pipe the stdin copier fills (closeIO closes it).
    private let stdinPipe = ClosableFD()
    /// With a terminal: the socket the runtime sends the pty master to, and the master.
    let consoleSocketPath: String?
    private var consoleListener: Int32 = -1
    private let master = ClosableFD()

    init(_ stdio: ShimStdio, consoleSocketPath: String? = nil) throws {
        self.stdio = stdio
        self.consoleSocketPath = stdio.terminal == true ? consoleSocketPath : nil
        if let path = self.consoleSocketPath {
            consoleListener = try listenUnix(path)
            return // the pty carries all three streams; see attachConsole()
        }
        do {
            child.stdin = try stdio.stdin.map { try openStdin($0) } ?? -1
            if let log = stdio.logPath {
                let writer = try LogWriter(path: log)
                child.stdout = try pipeToLog(writer, stream: "stdout", tee: stdio.stdout)
                child.stderr = try pipeToLog(writer, stream: "stderr", tee: stdio.stderr)
            } else {
                child.stdout = try stdio.stdout.map { try openPath($0, write: true) } ?? -1
                child.stderr = try stdio.stderr.map { try openPath($0, write: true) } ?? -1
            }
        } catch {
            closeChildEnds()
            throw error
        }
    }

    /// With a terminal: takes the pty master the runtime sent, copies it to stdout (or
    /// the log) and stdin into it. Call after the runtime's create/exec returned.
    func attachConsole() throws {
        guard consoleSocketPath != nil else { return }
        defer { close(consoleListener); consoleListener = -1 }
        var pfd = pollfd(fd: consoleListener, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 5000) == 1 else { throw BerthError.internal("the runtime sent no terminal within 5 s") }
        let connection = accept(consoleListener, nil, nil)
        guard connection >= 0 else { throw BerthError.internal("accept console socket: errno \(errno)") }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        defer { close(connection) }
        let fd = berth_recv_fd(connection)
        guard fd >= 0 else { throw BerthError.internal("receive pty master: errno \(-fd)") }
        master.set(fd)
        // Output: the master to stdout (a FIFO or file) and/or the log.
        let writer = try stdio.logPath.map { try LogWriter(path: $0) }
        let out = try stdio.stdout.map { try openPath($0, write: true) }
        if let out { opened.removeAll { $0 == out } }
        let masterFD = fd
        startThread { [master] in
            var buffer = [UInt8](repeating: 0, count: 32768)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(masterFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break } // EIO once every slave fd is closed
                let chunk = Array(buffer[0..<n])
                writer?.append(stream: "stdout", chunk)
                if let out { _ = chunk.withUnsafeBytes { write(out, $0.baseAddress, $0.count) } }
            }
            if let out { close(out) }
            master.close()
        }
        // Input: the stdin FIFO into the master.
        if let path = stdio.stdin {
            startThread { [master] in
                let fifo = open(path, O_RDONLY | O_CLOEXEC)
                guard fifo >= 0 else { return }
                defer { close(fifo) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fifo, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    guard master.write(Array(buffer[0..<n])) else { return }
                }
            }
        }
    }

    /// Resizes the terminal (a no-op without one).
    func resize(width: UInt32, height: UInt32) throws {
        guard let fd = master.value else { throw BerthError.failedPrecondition("the process has no terminal") }
        try checkNegativeErrno(berth_set_winsize(fd, UInt16(clamping: height), UInt16(clamping: width)), "resize terminal")
    }

    /// Closes the process's stdin: it reads end of file (with a terminal: EOT).
    func closeStdin() {
        if master.value != nil {
            _ = master.write([0x04])
        } else {
            stdinPipe.close()
        }
    }

    /// Closes the shim's copies of what the process holds (after the runtime has them).
    func closeChildEnds() {
        opened.forEach { close($0) }
        opened.removeAll()
    }

    /// A FIFO named as stdin is copied into a pipe by a thread: the process must not
    /// hold a write end of its own input (it would never see end of file), and the
    /// client may open its end later. End of file on the FIFO closes the pipe.
    private func openStdin(_ path: String) throws -> Int32 {
        guard FileSystem.fileType(path) == S_IFIFO else { return try openPath(path, write: false) }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw BerthError.internal("pipe: errno \(errno)") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        opened.append(fds[0])
        stdinPipe.set(fds[1])
        startThread { [stdinPipe] in
            defer { stdinPipe.close() }
            let fifo = open(path, O_RDONLY | O_CLOEXEC) // waits for the client's writer
            guard fifo >= 0 else { return }
            defer { close(fifo) }
            var buffer = [UInt8](repeating: 0, count: 32768)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fifo, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                guard stdinPipe.write(Array(buffer[0..<n])) else { return }
            }
        }
        return fds[0]
    }

    private func openPath(_ path: String, write: Bool) throws -> Int32 {
        let isFIFO = FileSystem.fileType(path) == S_IFIFO
        let flags = isFIFO ? O_RDWR : (write ? O_WRONLY | O_CREAT | O_APPEND : O_RDONLY)
        let fd = open(path, flags | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BerthError.invalidArgument("cannot open stdio \(path): \(SystemError(errno: errno, stage: "open"))") }
        opened.append(fd)
        return fd
    }

    /// A pipe whose read end a thread copies into the log (and into `tee`, if given).
    private func pipeToLog(_ writer: LogWriter, stream: String, tee: String?) throws -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw BerthError.internal("pipe: errno \(errno)") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        opened.append(fds[1])
        let teeFD = try tee.map { try openPath($0, write: true) }
        if let teeFD { opened.removeAll { $0 == teeFD } } // the copier owns it
        let readEnd = fds[0]
        startThread {
            var buffer = [UInt8](repeating: 0, count: 32768)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                let chunk = Array(buffer[0..<n])
                writer.append(stream: stream, chunk)
                if let teeFD { _ = chunk.withUnsafeBytes { write(teeFD, $0.baseAddress, $0.count) } }
            }
            close(readEnd)
            if let teeFD { close(teeFD) }
        }
        return fds[1]
    }
}

/// Appends `{"log":…,"stream":…,"time":…}` lines to a file, rotating it to `<path>.1`
/// when it passes `maxBytes`. Shared by a process's stdout and stderr copiers.
final class LogWriter: @unchecked Sendable {
    let path: String
    let maxBytes: Int
    private var fd: Int32
    private var size: Int
    private let lock = NSLockLite()

    init(path: String, maxBytes: Int = 16 << 20) throws {
        self.path = path
        self.maxBytes = maxBytes
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BerthError.invalidArgument("cannot open log \(path): \(SystemError(errno: errno, stage: "open"))") }
        var st = stat()
        fstat(fd, &st)
        size = Int(st.st_size)
    }

    struct Line: Encodable {
        let log: String
        let stream: String
        let time: String
    }

    func append(stream: String, _ bytes: [UInt8]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let encoded = try? encoder.encode(Line(log: String(decoding: bytes, as: UTF8.self), stream: stream, time: Timestamp.now())) else { return }
        lock.locked {
            if size + encoded.count + 1 > maxBytes { rotate() }
            var line = Array(encoded)
            line.append(0x0a)
            let n = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { size += n }
        }
    }

    private func rotate() {
        rename(path, path + ".1")
        close(fd)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        size = 0
    }
}

/// A pthread mutex (the shim avoids Foundation's NSLock to stay small).
final class NSLockLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// A descriptor that several threads use and one may close: writes after the close
/// fail instead of hitting a reused number.
final class ClosableFD: @unchecked Sendable {
    private let lock = NSLockLite()
    private var fd: Int32 = -1

    var value: Int32? { lock.locked { fd >= 0 ? fd : nil } }

    func set(_ new: Int32) { lock.locked { fd = new } }

    /// Writes all of `bytes`; false once closed or on error.
    func write(_ bytes: [UInt8]) -> Bool {
        lock.locked {
            guard fd >= 0 else { return false }
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    func close() {
        lock.locked {
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }
}

/// A listening UNIX socket at `path` (replacing a stale one), mode 0600.
func listenUnix(_ path: String) throws -> Int32 {
    unlink(path)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw BerthError.internal("socket: errno \(errno)") }
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { close(fd); throw BerthError.invalidArgument("socket path \(path) is too long") }
    withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard rc == 0, chmod(path, 0o600) == 0, listen(fd, 4) == 0 else {
        let err = errno
        close(fd)
        throw BerthError.internal("listen on \(path): errno \(err)")
    }
    return fd
}
