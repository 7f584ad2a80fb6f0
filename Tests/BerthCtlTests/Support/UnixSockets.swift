import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Raw UNIX sockets a test needs around berthd: probes, decoys, systemd's side of
/// socket activation and sd_notify. Every descriptor is close-on-exec, so parallel
/// tests never leak one into another test's children.
enum UnixSocket {
    /// Creates a socket of `type` (SOCK_STREAM, SOCK_DGRAM), close-on-exec.
    static func make(_ type: __socket_type, nonBlocking: Bool = false) throws -> Int32 {
        var flags = Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { flags |= Int32(SOCK_NONBLOCK.rawValue) }
        let fd = socket(AF_UNIX, flags, 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Runs `body` with `path` as a sockaddr_un.
    static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) throws -> T {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { throw TestFailure("socket path \(path) is \(bytes.count) bytes; the limit is \(capacity - 1)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Whether a stream connect to `path` succeeds right now (something listens).
    static func canConnect(_ path: String) -> Bool {
        guard let fd = try? make(SOCK_STREAM) else { return false }
        defer { close(fd) }
        return (try? withAddress(path) { connect(fd, $0, $1) }) == 0
    }

    /// Binds `fd` to `path` or throws.
    static func bind(_ fd: Int32, _ path: String) throws {
        let rc = try withAddress(path) { Glibc.bind(fd, $0, $1) }
        guard rc == 0 else { throw TestFailure("bind \(path): \(String(cString: strerror(errno)))") }
    }

    /// A listening stream socket at `path`, as systemd's berthd.socket would hold it.
    static func listen(at path: String) throws -> Int32 {
        let fd = try make(SOCK_STREAM)
        do {
            try bind(fd, path)
            guard Glibc.listen(fd, 64) == 0 else { throw TestFailure("listen \(path): \(String(cString: strerror(errno)))") }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Leaves a socket file at `path` that nobody listens on: what a berthd killed with
    /// SIGKILL leaves behind.
    static func makeStale(at path: String) throws {
        let fd = try make(SOCK_STREAM)
        defer { close(fd) }
        try bind(fd, path)
    }

    /// A bound, non-blocking datagram socket: the receiving end of NOTIFY_SOCKET.
    static func datagram(at path: String) throws -> Int32 {
        let fd = try make(SOCK_DGRAM, nonBlocking: true)
        do { try bind(fd, path) } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// The next datagram on non-blocking `fd`, or nil if none arrives within `timeout`.
    /// Polls every millisecond, so the caller reacts about as fast as systemd would.
    static func receive(_ fd: Int32, timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return String(decoding: buffer[0..<n], as: UTF8.self) }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return nil }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return nil
    }

    /// Waits on a thread of its own (not the cooperative pool) for the next datagram and
    /// runs `action` on that thread the instant it arrives, as systemd reacts to a
    /// notification; then returns the datagram (nil after `timeout`).
    static func receive(_ fd: Int32, timeout: Duration, then action: @escaping @Sendable (String) -> Void) async -> String? {
        await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            let thread = Thread {
                var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
                guard poll(&pollfd, 1, milliseconds) == 1 else { return continuation.resume(returning: nil) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n >= 0 else { return continuation.resume(returning: nil) }
                let message = String(decoding: buffer[0..<n], as: UTF8.self)
                action(message)
                continuation.resume(returning: message)
            }
            thread.start()
        }
    }
}
