import CArchive
import CBerthLinux
#if canImport(Glibc)
import Glibc
#endif

/// Reads the tar stream and makes each entry inside the root, on the caller's thread.
///
/// Per entry: clean its name, open its parent directory from the root with
/// `openat2(RESOLVE_IN_ROOT)` (creating missing parents 0755), then make the last
/// component with `*at()` calls relative to that descriptor, which is closed before the
/// next entry. What already exists there is replaced (the later entry wins) unless both
/// are directories, in which case the directory stays and takes the entry's owner, mode
/// and xattrs. Per type:
/// - regular file: `O_CREAT|O_EXCL|O_NOFOLLOW`, data written from libarchive's blocks
///   (sparse holes kept), then `fchown`, `fchmod` (after chown, which clears set-id bits),
///   xattrs (after chown, which clears `security.capability`), `futimens`;
/// - directory: `mkdirat`, then the same through an `O_NOFOLLOW` descriptor; its times are
///   set after the whole layer, since creating its children changes them;
/// - symlink: `symlinkat`, then `fchownat` and `utimensat` with `AT_SYMLINK_NOFOLLOW`
///   (a symlink has no mode of its own; CVE-2021-32760 was a chmod that followed one);
/// - hard link: the target is cleaned and resolved inside the root like any name, and
///   `linkat` without `AT_SYMLINK_FOLLOW` links a symlink target itself. The entry sets no
///   owner, mode or times: those belong to the inode, which the entry that made it set;
/// - FIFO (and device nodes when allowed): `mknodat`, metadata with `AT_SYMLINK_NOFOLLOW`.
/// Entries naming the root itself (`./`) are ignored, as containerd does.
final class Extractor {
    let root: RootDirectory
    let options: ApplyOptions
    private(set) var entries = 0
    var skipped: [String] = []
    /// The current entry's cleaned name, and its hard-link target's.
    var path = CleanPath()
    var linkPath = CleanPath()
    /// Native whiteouts: every path this layer made, with its ancestors, so an opaque
    /// directory keeps them. Lexical names, as containerd's `unpackedPaths`.
    var created: Set<String> = []
    /// Directories' access and modification times, set once the layer is written.
    private var directoryTimes: [(path: String, times: (timespec, timespec))] = []
    /// The tar reader, while `run` runs.
    private var archive: OpaquePointer!

    init(root: RootDirectory, options: ApplyOptions) {
        self.root = root
        self.options = options
    }

    /// Extracts every entry of the tar stream `pipe` delivers.
    func run(reading pipe: DecompressPipe) throws {
        guard let archive = archive_read_new() else { throw ArchiveError(.io, "archive_read_new failed") }
        self.archive = archive
        defer {
            archive_read_free(archive)
            self.archive = nil
        }
        archive_read_support_format_tar(archive)
        let context = Unmanaged.passUnretained(pipe).toOpaque()
        let opened = archive_read_open(archive, context, nil, { _, context, buffer in
            Unmanaged<DecompressPipe>.fromOpaque(context!).takeUnretainedValue().read(into: buffer)
        }, nil)
        guard opened == ARCHIVE_OK else { throw ArchiveError.fromArchive(archive, "layer is not a tar archive") }
        var entry: OpaquePointer?
        while true {
            let rc = archive_read_next_header(archive, &entry)
            if rc == ARCHIVE_EOF { break }
            guard rc >= ARCHIVE_WARN, let entry else {
                // libarchive refuses a PAX or long-name body over 1 MiB with EINVAL, from
                // its header, before reading it.
                let errno = archive_errno(archive)
                let kind: ArchiveError.Kind = errno == EINVAL || errno == ENOMEM ? .limitExceeded : .corrupt
                throw ArchiveError.fromArchive(archive, "tar entry \(entries + 1)", kind: kind)
            }
            entries += 1
            guard entries <= options.limits.maxEntries else {
                throw ArchiveError(.limitExceeded, "layer has over \(options.limits.maxEntries) entries")
            }
            try apply(entry)
        }
        try setDirectoryTimes()
    }

    private func apply(_ entry: OpaquePointer) throws {
        guard let name = archive_entry_pathname(entry) ?? archive_entry_pathname_utf8(entry) else {
            throw ArchiveError(.corrupt, "tar entry \(entries) has no name")
        }
        try checkHeaderSize(entry, name)
        path.clean(name)
        if path.isRoot { return }
        if path.baseHasPrefix(".wh.") { return try whiteout() }
        let type = archive_entry_filetype(entry)
        let hardlink = archive_entry_hardlink(entry)
        if hardlink == nil {
            switch type {
            case S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO: break
            case S_IFCHR, S_IFBLK:
                guard options.allowDeviceNodes else { return skipped.append("\(path.string): device node") }
            default:
                return skipped.append("\(path.string): unsupported file type \(String(type, radix: 8))")
            }
        }
        let parent = try openParent()
        defer { if parent != root.fd { close(parent) } }
        try path.withNames { _, base in
            if let hardlink { return try link(base, in: parent, to: hardlink) }
            switch type {
            case S_IFREG: try writeFile(entry, base, in: parent)
            case S_IFDIR: try makeDirectory(entry, base, in: parent)
            case S_IFLNK: try makeSymlink(entry, base, in: parent)
            default: try makeNode(entry, type, base, in: parent)
            }
        }
        if options.whiteouts == .native { recordCreated() }
    }

    /// The current entry's parent directory as an `O_PATH` descriptor (the root's own
    /// when the entry is directly in it), created if missing.
    func openParent() throws -> Int32 {
        try path.withNames { parent, _ in
            guard let parent else { return root.fd }
            let fd = root.open(parent, BERTH_AR_O_PATH | O_DIRECTORY)
            if fd >= 0 { return fd }
            guard -fd == ENOENT else { throw failure(-fd, "open parent directory") }
            return try root.openDirectory(creating: String(cString: parent))
        }
    }

    // MARK: entry types

    private func writeFile(_ entry: OpaquePointer, _ base: UnsafePointer<CChar>, in parent: Int32) throws {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        var fd = openat(parent, base, flags, 0o600)
        if fd < 0 && errno == EEXIST {
            try remove(base, in: parent)
            fd = openat(parent, base, flags, 0o600)
        }
        guard fd >= 0 else { throw failure(errno, "create file") }
        defer { close(fd) }
        var block: UnsafeRawPointer?
        var length = 0
        var offset: la_int64_t = 0
        var end: Int64 = 0
        while true {
            let rc = archive_read_data_block(archive, &block, &length, &offset)
            if rc == ARCHIVE_EOF { break }
            guard rc >= ARCHIVE_WARN, let block else { throw ArchiveError.fromArchive(archive, "\(path.string): data") }
            var done = 0
            while done < length {
                let n = pwrite(fd, block + done, length - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure(errno, "write")
                }
                done += n
            }
            end = max(end, offset + Int64(length))
        }
        if archive_entry_size_is_set(entry) != 0, archive_entry_size(entry) > end {
            guard ftruncate(fd, off_t(archive_entry_size(entry))) == 0 else { throw failure(errno, "truncate") }
        }
        let (uid, gid) = try owner(entry)
        guard fchown(fd, uid, gid) == 0 else { throw failure(errno, "chown") }
        guard fchmod(fd, archive_entry_perm(entry)) == 0 else { throw failure(errno, "chmod") }
        try setXattrs(entry) { berth_fsetxattr(fd, $0, $1, $2) }
        var times = self.times(entry)
        let rc = withUnsafePointer(to: &times) { $0.withMemoryRebound(to: timespec.self, capacity: 2) { futimens(fd, $0) } }
        guard rc == 0 else { throw failure(errno, "set times") }
    }

    private func makeDirectory(_ entry: OpaquePointer, _ base: UnsafePointer<CChar>, in parent: Int32) throws {
        if mkdirat(parent, base, 0o700) != 0 {
            guard errno == EEXIST else { throw failure(errno, "mkdir") }
            var st = stat()
            guard fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure(errno, "stat") }
            if st.st_mode & S_IFMT != S_IFDIR {
                try remove(base, in: parent)
                guard mkdirat(parent, base, 0o700) == 0 else { throw failure(errno, "mkdir") }
            }
        }
        let fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno, "open directory") }
        defer { close(fd) }
        let (uid, gid) = try owner(entry)
        guard fchown(fd, uid, gid) == 0 else { throw failure(errno, "chown") }
        guard fchmod(fd, archive_entry_perm(entry)) == 0 else { throw failure(errno, "chmod") }
        try setXattrs(entry) { berth_fsetxattr(fd, $0, $1, $2) }
        directoryTimes.append((path.string, times(entry)))
    }

    private func makeSymlink(_ entry: OpaquePointer, _ base: UnsafePointer<CChar>, in parent: Int32) throws {
        guard let target = archive_entry_symlink(entry) ?? archive_entry_symlink_utf8(entry) else {
            throw ArchiveError(.corrupt, "\(path.string): symlink without a target")
        }
        if symlinkat(target, parent, base) != 0 {
            guard errno == EEXIST else { throw failure(errno, "symlink") }
            try remove(base, in: parent)
            guard symlinkat(target, parent, base) == 0 else { throw failure(errno, "symlink") }
        }
        try setMetadata(entry, base, in: parent, mode: nil)
    }

    /// A FIFO, or a device node when `allowDeviceNodes`.
    private func makeNode(_ entry: OpaquePointer, _ type: mode_t, _ base: UnsafePointer<CChar>, in parent: Int32) throws {
        let device = type == S_IFIFO ? 0 : berth_makedev(UInt32(archive_entry_rdevmajor(entry)), UInt32(archive_entry_rdevminor(entry)))
        var rc = berth_mknodat(parent, base, type, device)
        if rc == -EEXIST {
            try remove(base, in: parent)
            rc = berth_mknodat(parent, base, type, device)
        }
        guard rc == 0 else { throw failure(-rc, "mknod") }
        try setMetadata(entry, base, in: parent, mode: archive_entry_perm(entry))
    }

    private func link(_ base: UnsafePointer<CChar>, in parent: Int32, to target: UnsafePointer<CChar>) throws {
        linkPath.clean(target)
        guard !linkPath.isRoot else { throw ArchiveError(.unsafeEntry, "\(path.string): hard link to the root") }
        if linkPath.bytes == path.bytes { return }
        let targetParent = try linkPath.withNames { targetParent, _ in
            guard let targetParent else { return root.fd }
            let fd = root.openExistingDirectory(String(cString: targetParent))
            guard fd >= 0 else { throw linkFailure(-fd) }
            return fd
        }
        defer { if targetParent != root.fd { close(targetParent) } }
        try linkPath.withNames { _, targetBase in
            if linkat(targetParent, targetBase, parent, base, 0) == 0 { return }
            guard errno == EEXIST else { throw linkFailure(errno, targetParent, targetBase) }
            var a = stat(), b = stat()
            if fstatat(targetParent, targetBase, &a, AT_SYMLINK_NOFOLLOW) == 0,
               fstatat(parent, base, &b, AT_SYMLINK_NOFOLLOW) == 0,
               a.st_dev == b.st_dev, a.st_ino == b.st_ino {
                return
            }
            try remove(base, in: parent)
            guard linkat(targetParent, targetBase, parent, base, 0) == 0 else {
                throw linkFailure(errno, targetParent, targetBase)
            }
        }
    }

    private func linkFailure(_ code: Int32, _ directory: Int32 = -1, _ name: UnsafePointer<CChar>? = nil) -> ArchiveError {
        if code == ENOENT || code == ENOTDIR {
            return ArchiveError(.unsafeEntry, "\(path.string): hard link target \(linkPath.string) does not exist in the layer root")
        }
        var st = stat()
        if code == EPERM, let name, fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFDIR {
            return ArchiveError(.unsafeEntry, "\(path.string): hard link to the directory \(linkPath.string)")
        }
        return failure(code, "link to \(linkPath.string)")
    }

    // MARK: helpers

    /// Removes what is at `base` (recursively), to make room for the entry.
    func remove(_ base: UnsafePointer<CChar>, in parent: Int32) throws {
        do { try RemoveAll.remove(base, in: parent) } catch { throw failure(error.code, "remove") }
    }

    /// A file-system failure on the current entry.
    func failure(_ code: Int32, _ stage: String) -> ArchiveError {
        .io(code, "\(path.string): \(stage)")
    }

    private func recordCreated() {
        var p = path.string
        while created.insert(p).inserted, let slash = p.lastIndex(of: "/") {
            p = String(p[..<slash])
        }
    }

    private func setDirectoryTimes() throws {
        for (directory, entryTimes) in directoryTimes {
            path.clean(directory)
            var times = entryTimes
            try path.withNames { parent, base in
                let fd = parent.map { root.open($0, BERTH_AR_O_PATH | O_DIRECTORY) } ?? root.fd
                // Gone, or no longer a directory's parent: a later entry replaced it.
                if fd < 0 && (-fd == ENOENT || -fd == ENOTDIR) { return }
                guard fd >= 0 else { throw failure(-fd, "open parent directory") }
                defer { if fd != root.fd { close(fd) } }
                let rc = withUnsafePointer(to: &times) {
                    $0.withMemoryRebound(to: timespec.self, capacity: 2) { utimensat(fd, base, $0, AT_SYMLINK_NOFOLLOW) }
                }
                if rc != 0 && errno != ENOENT { throw failure(errno, "set times") }
            }
        }
    }
}
