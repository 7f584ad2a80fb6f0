import CArchive
import CBerthLinux
#if canImport(Glibc)
import Glibc
#endif

/// Owner, mode, times and xattrs of an entry, and the per-entry header limit.
extension Extractor {
    /// The entry's uid and gid. -1 would mean "leave unchanged" to chown, and anything
    /// above 32 bits is not an id, so both are refused as corrupt.
    func owner(_ entry: OpaquePointer) throws -> (uid_t, gid_t) {
        let uid = archive_entry_uid(entry), gid = archive_entry_gid(entry)
        guard (0..<0xFFFF_FFFF).contains(uid), (0..<0xFFFF_FFFF).contains(gid) else {
            throw ArchiveError(.corrupt, "\(path.string): uid \(uid) or gid \(gid) out of range")
        }
        return (uid_t(uid), gid_t(gid))
    }

    /// (atime, mtime) for utimensat: the entry's mtime, and its atime when the tar has one
    /// (PAX), else the mtime again.
    func times(_ entry: OpaquePointer) -> (timespec, timespec) {
        let mtime = timespec(tv_sec: Int(archive_entry_mtime(entry)), tv_nsec: Int(archive_entry_mtime_nsec(entry)))
        guard archive_entry_atime_is_set(entry) != 0 else { return (mtime, mtime) }
        return (timespec(tv_sec: Int(archive_entry_atime(entry)), tv_nsec: Int(archive_entry_atime_nsec(entry))), mtime)
    }

    /// Owner, mode (`nil` for a symlink, which has none), xattrs and times of `base` in
    /// `parent`, none of them following a symlink. xattrs go through
    /// `/proc/self/fd/<parent>/<base>` with `lsetxattr`: the magic link is our own
    /// descriptor, and the last component is not followed.
    func setMetadata(_ entry: OpaquePointer, _ base: UnsafePointer<CChar>, in parent: Int32, mode: mode_t?) throws {
        let (uid, gid) = try owner(entry)
        guard fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure(errno, "chown") }
        if let mode {
            // glibc does this through an O_PATH descriptor and refuses a symlink.
            guard fchmodat(parent, base, mode, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure(errno, "chmod") }
        }
        if archive_entry_xattr_count(entry) > 0 {
            let procPath = "/proc/self/fd/\(parent)/" + String(cString: base)
            try setXattrs(entry) { berth_lsetxattr(procPath, $0, $1, UInt($2)) }
        }
        var times = self.times(entry)
        let rc = withUnsafePointer(to: &times) {
            $0.withMemoryRebound(to: timespec.self, capacity: 2) { utimensat(parent, base, $0, AT_SYMLINK_NOFOLLOW) }
        }
        guard rc == 0 else { throw failure(errno, "set times") }
    }

    /// Sets the entry's xattrs with `set` (0 or -errno), as libarchive parsed them from
    /// `SCHILY.xattr.*` / `LIBARCHIVE.xattr.*` PAX records.
    ///
    /// `trusted.overlay.*` from the tar is never set, in either mode: overlayfs reads
    /// those as its own whiteout, opaque, redirect and metacopy markers, so a layer could
    /// forge whiteouts or redirect lookups into other layers by shipping them (a native
    /// root may later serve as a lower directory too). They are listed in `skipped`.
    /// An xattr the file system does not support (`ENOTSUP`), and a `security.*` one it
    /// refuses (`EPERM`, e.g. an LSM that manages labels itself), is skipped and listed,
    /// as containerd does; any other failure is an error.
    func setXattrs(_ entry: OpaquePointer, _ set: (UnsafePointer<CChar>, UnsafeRawPointer?, Int) -> Int32) throws {
        guard archive_entry_xattr_reset(entry) > 0 else { return }
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK, let name {
            if strncmp(name, "trusted.overlay.", 16) == 0 {
                // libarchive lists an xattr twice when the tar has both its SCHILY and
                // LIBARCHIVE records: note it once.
                let note = "\(path.string): xattr \(String(cString: name)) (overlayfs's own)"
                if skipped.last != note { skipped.append(note) }
                continue
            }
            let rc = set(name, value, size)
            if rc == 0 { continue }
            if -rc == EOPNOTSUPP || (-rc == EPERM && strncmp(name, "security.", 9) == 0) {
                let note = "\(path.string): xattr \(String(cString: name)) (\(String(cString: strerror(-rc))))"
                if skipped.last != note { skipped.append(note) }
                continue
            }
            throw failure(-rc, "set xattr \(String(cString: name))")
        }
    }

    /// Refuses an entry whose metadata — name, link target, xattrs: what PAX and GNU
    /// long-name headers carry — is over `maxHeaderBytes`.
    func checkHeaderSize(_ entry: OpaquePointer, _ name: UnsafePointer<CChar>) throws {
        var total = strlen(name)
        if let link = archive_entry_hardlink(entry) { total += strlen(link) }
        if let link = archive_entry_symlink(entry) { total += strlen(link) }
        if archive_entry_xattr_reset(entry) > 0 {
            var key: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK, let key {
                total += strlen(key) + size
            }
        }
        guard total <= options.limits.maxHeaderBytes else {
            throw ArchiveError(.limitExceeded, "tar entry \(entries): \(total) bytes of name, link and xattrs, over \(options.limits.maxHeaderBytes)")
        }
    }
}
