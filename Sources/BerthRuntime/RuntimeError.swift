import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// A failure the runtime reports to its caller as one line on stderr (and in the
/// `--log` file), with a non-zero exit status, as runc does.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    /// A failure reported by the container's init or the spawn child: `(errno, stage)`.
    static func child(stage: String, errno: Int32) -> RuntimeError {
        RuntimeError(SystemError(errno: errno, stage: stage).description)
    }
}

/// Writes to standard error without stdio (no shared FILE state across threads).
public func writeStderr(_ text: String) {
    var line = text
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
