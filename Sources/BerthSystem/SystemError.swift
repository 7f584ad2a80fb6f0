#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the errno it returned and what Berth was doing at the time.
///
/// Classify by `errno`, never by `description`: the text is for people
/// (`mount /proc: EPERM (Operation not permitted)`).
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let errno: Int32
    public let stage: String

    public init(errno: Int32, stage: String) {
        self.errno = errno
        self.stage = stage
    }

    /// The symbolic name of the errno (`ENOENT`), or its number when unnamed here.
    public var name: String { SystemError.names[errno] ?? "errno \(errno)" }

    public var description: String {
        "\(stage): \(name) (\(String(cString: strerror(errno))))"
    }

    static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
        ENXIO: "ENXIO", E2BIG: "E2BIG", EBADF: "EBADF", ECHILD: "ECHILD", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
        EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR",
        EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ENOSPC: "ENOSPC",
        EROFS: "EROFS", EMLINK: "EMLINK", EPIPE: "EPIPE", ERANGE: "ERANGE",
        ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS", ENOTEMPTY: "ENOTEMPTY",
        ELOOP: "ELOOP", ENOTSUP: "ENOTSUP", EADDRINUSE: "EADDRINUSE",
        ECONNREFUSED: "ECONNREFUSED", ECONNRESET: "ECONNRESET", ETIMEDOUT: "ETIMEDOUT",
        ENOTSOCK: "ENOTSOCK", EOVERFLOW: "EOVERFLOW",
    ]
}

/// Runs a call that returns -1 and sets errno, retrying EINTR, and throws with `stage`.
@discardableResult
public func retryingEINTR<T: BinaryInteger>(_ stage: @autoclosure () -> String, _ body: () -> T) throws -> T {
    while true {
        let rc = body()
        if rc != -1 { return rc }
        let err = Glibc.errno
        if err == EINTR { continue }
        throw SystemError(errno: err, stage: stage())
    }
}

/// Throws for the C target's convention: a negative return is -errno.
@discardableResult
public func checkNegativeErrno<T: SignedInteger>(_ rc: T, _ stage: @autoclosure () -> String) throws -> T {
    if rc < 0 { throw SystemError(errno: Int32(-rc), stage: stage()) }
    return rc
}
