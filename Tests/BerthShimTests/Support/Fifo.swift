import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A named pipe the test reads (a container's stdout/stderr) or writes (its stdin),
/// as berthd's clients do. The descriptor is non-blocking; reads poll with a deadline.
final class Fifo: Sendable {
    let path: String
    private let descriptor: Mutex<Int32>
    var fd: Int32 { descriptor.withLock { $0 } }

    enum Side { case reader, writer }

    /// Makes the FIFO at `path` and opens the test's end. A writer opens O_RDWR
    /// (opening write-only fails while there is no reader yet); it is the only writer
    /// the test holds, so `close()` leaves the FIFO with no writer from the test.
    init(_ path: String, side: Side) throws {
        guard mkfifo(path, 0o600) == 0 else { throw TestFailure("mkfifo \(path): \(String(cString: strerror(errno)))") }
        let flags = side == .reader ? O_RDONLY : O_RDWR
        let fd = open(path, flags | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw TestFailure("open \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        descriptor = Mutex(fd)
    }

    /// Closes the test's end (once).
    func close() {
        descriptor.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }

    /// Reads until EOF (every writer closed) or `timeout`; `eof` says which ended it.
    /// Only meaningful once a writer has opened: before that, a FIFO reads as EOF.
    func readToEnd(timeout: Duration) async -> (text: String, eof: Bool) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { bytes += chunk[0..<n]; continue }
            if n == 0 { return (String(decoding: bytes, as: UTF8.self), true) }
            if errno != EAGAIN && errno != EINTR { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return (String(decoding: bytes, as: UTF8.self), false)
    }

    func write(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    deinit { close() }
}

/// One line of a shim log file: `{"log","stream","time"}`.
struct LogLine: Decodable, Equatable {
    let log: String
    let stream: String
    let time: String
}

/// The lines of a shim log file (throws if one is not such a JSON object).
func readLog(_ path: String) throws -> [LogLine] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map { try JSONDecoder().decode(LogLine.self, from: Data($0.utf8)) }
}

/// The concatenated `log` fields of a shim log file ("" while it does not exist).
func logText(_ path: String, stream: String? = nil) -> String {
    ((try? readLog(path)) ?? []).filter { stream == nil || $0.stream == stream }.map(\.log).joined()
}
