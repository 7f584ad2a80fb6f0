import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private temporary directory for one test, with a short path (`/tmp/bct.XXXXXX`) so
/// socket paths inside it stay far below the 108-byte limit of `sun_path`.
///
/// Create it first and `defer { scratch.remove() }`, so it goes even when the test fails.
final class Scratch: Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/bct.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestFailure("mkdtemp: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    /// `<scratch>/<name>`.
    func callAsFunction(_ name: String) -> String { path + "/" + name }

    /// The conventional layout of one daemon: `<name>r` root, `<name>s` state and the
    /// socket at `<name>s/b.sock`.
    func daemonPaths(_ name: String = "") -> (root: String, state: String, address: String) {
        (self(name + "r"), self(name + "s"), self(name + "s/b.sock"))
    }

    /// Writes a text file (a config, a decoy) and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = self(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// What `lstat` says about a path: type and permission bits, owner group.
struct FileInfo: Equatable {
    let type: mode_t
    let permissions: mode_t
    let gid: gid_t
    let inode: ino_t

    init?(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        type = st.st_mode & S_IFMT
        permissions = st.st_mode & 0o7777
        gid = st.st_gid
        inode = st.st_ino
    }

    var isSocket: Bool { type == S_IFSOCK }
    var isDirectory: Bool { type == S_IFDIR }
    var isRegularFile: Bool { type == S_IFREG }
}

/// Octal text of permission bits, for readable failure messages (`0711`).
func octal(_ mode: mode_t?) -> String {
    mode.map { "0" + String($0, radix: 8) } ?? "missing"
}
