#if canImport(Glibc)
import Glibc
#endif
import CBerthLinux

/// An exclusive lock on a daemon's root directory, held for the life of the process
/// (flock on `<root>/berthd.lock`, which also records the holder's pid).
///
/// The kernel drops the lock when the holder dies, so a crashed daemon never leaves a
/// stale lock behind.
public final class RootLock: Sendable {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// Another process holds the lock; its pid when the lock file names one.
        case held(path: String, pid: Int32?)

        public var description: String {
            switch self {
            case let .held(path, pid?): "another berthd (pid \(pid)) holds \(path)"
            case let .held(path, nil): "another berthd holds \(path)"
            }
        }
    }

    public let path: String
    private let fd: Int32

    public init(directory: String) throws {
        let path = directory + "/berthd.lock"
        self.path = path
        let fd = try retryingEINTR("open \(path)") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        let rc = berth_try_lock_exclusive(fd)
        if rc == -EWOULDBLOCK {
            let holder = (try? FileSystem.readFile(path, limit: 64)).flatMap { Int32(String(decoding: $0, as: UTF8.self).trimmingSpaces) }
            close(fd)
            throw Failure.held(path: path, pid: holder)
        }
        if rc < 0 {
            close(fd)
            throw SystemError(errno: -rc, stage: "flock \(path)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    /// Releases the lock early (it is released at exit anyway).
    public func release() {
        close(fd)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" { s.removeLast() }
        return String(s)
    }
}
