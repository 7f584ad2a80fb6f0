import BerthAPI
import Foundation

/// A blocking UNIX socket client that can send anything, for feeding the daemon bytes
/// no well-behaved client would. Reads time out after `timeout` seconds.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(path: String, timeout: Int = 5) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    func sendFrame(_ payload: [UInt8]) {
        var header = [UInt8](repeating: 0, count: 4)
        let n = UInt32(payload.count)
        header[0] = UInt8(n >> 24); header[1] = UInt8((n >> 16) & 0xff); header[2] = UInt8((n >> 8) & 0xff); header[3] = UInt8(n & 0xff)
        send(header + payload)
    }

    func sendFrame(_ json: String) { sendFrame(Array(json.utf8)) }

    func sendHeader(_ length: UInt32) {
        send([UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)])
    }

    /// Reads exactly n bytes; nil on EOF or timeout.
    func read(_ n: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return nil }
            got += r
        }
        return out
    }

    /// The next frame's payload; nil on EOF or timeout. Blocks a thread of its own, never
    /// one of Swift's cooperative threads, which the in-process daemon needs.
    func readFrame() async -> [UInt8]? {
        await offload { self.readFrameBlocking() }
    }

    private func readFrameBlocking() -> [UInt8]? {
        guard let header = read(4) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        return read(length)
    }

    /// The next message, decoded as a response head.
    func readResponse() async throws -> MessageHead {
        guard let frame = await readFrame() else { throw POSIXError(.ECONNRESET) }
        return try WireJSON.decode(MessageHead.self, from: frame)
    }

    /// True when the server has closed the connection (EOF, not a timeout).
    /// (A server that closes with our unread bytes queued makes recv fail with
    /// ECONNRESET instead of returning 0; both mean closed.)
    /// A signal to the test process (SIGCHLD of another suite's child) interrupts the
    /// wait, which is then resumed.
    func isClosedByPeer() async -> Bool {
        await offload {
            var byte: UInt8 = 0
            var n = recv(self.fd, &byte, 1, 0)
            while n < 0 && errno == EINTR { n = recv(self.fd, &byte, 1, 0) }
            return n == 0 || (n < 0 && errno == ECONNRESET)
        }
    }

    func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }
}

/// Runs blocking work on a thread of its own and awaits its result. (Not Dispatch:
/// on Linux Swift's executor shares Dispatch's pool, which blocked reads can starve.)
func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.start()
    }
}
