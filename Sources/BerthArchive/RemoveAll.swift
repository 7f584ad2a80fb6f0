#if canImport(Glibc)
import Glibc
#endif

/// Removal relative to a directory descriptor, never following a symlink: a symlink is
/// removed, not what it points to, and a directory is emptied through descriptors opened
/// with `O_NOFOLLOW` from its parent's descriptor.
enum RemoveAll {
    /// Removes `name` in `directory` and, if it is a directory, everything below it.
    /// A missing `name` is not an error. Throws the errno of the first failure.
    static func remove(_ name: UnsafePointer<CChar>, in directory: Int32) throws(Errno) {
        if unlinkat(directory, name, 0) == 0 { return }
        let first = errno
        if first == ENOENT { return }
        guard first == EISDIR else { throw Errno(first) }
        if unlinkat(directory, name, AT_REMOVEDIR) == 0 { return }
        guard errno == ENOTEMPTY || errno == EEXIST else { throw Errno(errno) }
        let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard child >= 0 else { throw Errno(errno) }
        do {
            for entry in try children(of: child) { try remove(entry, in: child) }
        } catch {
            close(child)
            throw error
        }
        close(child)
        if unlinkat(directory, name, AT_REMOVEDIR) != 0 { throw Errno(errno) }
    }

    static func remove(_ name: [CChar], in directory: Int32) throws(Errno) {
        try name.withUnsafeBufferPointer { (p) throws(Errno) in try remove(p.baseAddress!, in: directory) }
    }

    /// The names in the directory open as `directory` (not `.` or `..`), NUL-terminated
    /// bytes as the file system has them, read through a duplicate descriptor so the
    /// caller keeps its own.
    static func children(of directory: Int32) throws(Errno) -> [[CChar]] {
        let copy = dup(directory)
        guard copy >= 0 else { throw Errno(errno) }
        guard let stream = fdopendir(copy) else {
            let e = errno
            close(copy)
            throw Errno(e)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [[CChar]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let p = raw.bindMemory(to: CChar.self).baseAddress!
                return Array(UnsafeBufferPointer(start: p, count: strlen(p) + 1))
            }
            if name == [0x2E, 0] || name == [0x2E, 0x2E, 0] { continue }
            names.append(name)
        }
        return names
    }
}

/// An errno from the removal helpers, given its stage by the caller.
struct Errno: Error {
    let code: Int32
    init(_ code: Int32) { self.code = code }
}
