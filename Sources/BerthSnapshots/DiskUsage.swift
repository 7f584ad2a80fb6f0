import BerthAPI
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// Disk used by a directory tree: allocated blocks × 512 and inodes, each hard-linked
/// inode counted once (containerd's `fs.DiskUsage`).
enum DiskUsage {
    /// Everything under `path`, `path` itself included.
    static func of(_ path: String) throws -> SnapshotUsage {
        var seen = Set<TreeCopy.HardLinkKey>()
        var usage = SnapshotUsage()
        try walk(path, relative: "", parent: nil, seen: &seen, usage: &usage)
        return usage
    }

    /// What `path` holds beyond `parent`, a copy it was made from: entries that are new,
    /// or differ from the parent's entry at the same place in type, size, mode, owner or
    /// modification time (rsync's quick check). Unchanged copies count nothing.
    static func difference(_ path: String, from parent: String) throws -> SnapshotUsage {
        var seen = Set<TreeCopy.HardLinkKey>()
        var usage = SnapshotUsage()
        try walk(path, relative: "", parent: parent, seen: &seen, usage: &usage)
        return usage
    }

    private static func walk(_ root: String, relative: String, parent: String?, seen: inout Set<TreeCopy.HardLinkKey>, usage: inout SnapshotUsage) throws {
        let path = relative.isEmpty ? root : root + "/" + relative
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return }
            throw SystemError(errno: errno, stage: "lstat \(path)")
        }
        if !unchanged(st, parent.map { relative.isEmpty ? $0 : $0 + "/" + relative }) {
            let key = TreeCopy.HardLinkKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            if seen.insert(key).inserted {
                usage.size += Int64(st.st_blocks) * 512
                usage.inodes += 1
            }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return }
        for name in try Directories.entries(path) {
            try walk(root, relative: relative.isEmpty ? name : relative + "/" + name, parent: parent, seen: &seen, usage: &usage)
        }
    }

    private static func unchanged(_ st: stat, _ counterpart: String?) -> Bool {
        guard let counterpart else { return false }
        var other = stat()
        guard lstat(counterpart, &other) == 0 else { return false }
        return st.st_mode == other.st_mode && st.st_uid == other.st_uid && st.st_gid == other.st_gid
            && ((st.st_mode & S_IFMT) == S_IFDIR || st.st_size == other.st_size)
            && st.st_mtim.tv_sec == other.st_mtim.tv_sec && st.st_mtim.tv_nsec == other.st_mtim.tv_nsec
    }
}
