import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// Directory operations the snapshotters need, fd-relative and never following symlinks.
enum Directories {
    /// mkdtemp(3) in `directory` with `prefix`; returns the new directory's path.
    static func makeTemporary(in directory: String, prefix: String) throws -> String {
        var template = Array("\(directory)/\(prefix)XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw SystemError(errno: errno, stage: "mkdtemp in \(directory)") }
        return String(cString: template)
    }

    /// The names in a directory, without `.` and `..`.
    static func entries(_ path: String) throws -> [String] {
        let fd = try retryingEINTR("open \(path)") { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) }
        return try FileSystem.entries(descriptor: fd, path: path)
    }

    /// Removes `path` and everything under it, like `rm -rf`, never following a
    /// symlink. A missing path is not an error.
    static func removeTree(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return }
            throw SystemError(errno: errno, stage: "lstat \(path)")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let parent = FileSystem.parentDirectory(of: path)
            let name = String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...])
            let pfd = try retryingEINTR("open \(parent)") { open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            defer { close(pfd) }
            try removeChildren(of: pfd, name, path: path)
            if unlinkat(pfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT {
                throw SystemError(errno: errno, stage: "rmdir \(path)")
            }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw SystemError(errno: errno, stage: "unlink \(path)")
        }
    }

    /// Empties directory `name` under `parentFD`.
    private static func removeChildren(of parentFD: Int32, _ name: String, path: String) throws {
        let fd = openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return }
            throw SystemError(errno: errno, stage: "open \(path)")
        }
        defer { close(fd) }
        let dupFD = dup(fd)
        guard dupFD >= 0 else { throw SystemError(errno: errno, stage: "dup \(path)") }
        for child in try FileSystem.entries(descriptor: dupFD, path: path) {
            var st = stat()
            guard fstatat(fd, child, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { continue }
                throw SystemError(errno: errno, stage: "lstat \(path)/\(child)")
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                try removeChildren(of: fd, child, path: path + "/" + child)
                if unlinkat(fd, child, AT_REMOVEDIR) != 0 && errno != ENOENT {
                    throw SystemError(errno: errno, stage: "rmdir \(path)/\(child)")
                }
            } else if unlinkat(fd, child, 0) != 0 && errno != ENOENT {
                throw SystemError(errno: errno, stage: "unlink \(path)/\(child)")
            }
        }
    }

    /// mkdir(2) with an exact mode (umask does not apply).
    static func makeDirectory(_ path: String, mode: mode_t) throws {
        try retryingEINTR("mkdir \(path)") { mkdir(path, mode) }
        try retryingEINTR("chmod \(path)") { chmod(path, mode) }
    }

    /// rename(2).
    static func rename(_ from: String, _ to: String) throws {
        try retryingEINTR("rename \(from) to \(to)") { Glibc.rename(from, to) }
    }
}
