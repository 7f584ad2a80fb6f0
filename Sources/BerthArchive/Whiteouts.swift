import CBerthLinux
#if canImport(Glibc)
import Glibc
#endif

/// Whiteout entries (OCI image-spec `layer.md`): `.wh.<name>` deletes `<name>` from the
/// layers below, `.wh..wh..opq` hides everything the layers below had in its directory.
/// The whiteout files themselves never appear in the result. Only the last component
/// counts: `.wh.etc/file` is a file in a directory named `.wh.etc`.
///
/// The parent is resolved inside the root like any entry's, so `localetc/.wh.passwd` with
/// `localetc -> /etc` whites out `etc/passwd` of the root, and `.wh.localetc` removes the
/// symlink, never its target. A whiteout naming nothing (`.wh.`), `.` or `..` is refused
/// (`.unsafeEntry`), as containerd refuses it: it would remove its own directory or parent.
extension Extractor {
    func whiteout() throws {
        let opaque = path.withNames { _, base in strcmp(base, ".wh..wh..opq") == 0 }
        if opaque { return try opaqueDirectory() }
        let valid = path.withNames { _, base in
            let name = base + 4
            return !(name[0] == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        }
        guard valid else { throw ArchiveError(.unsafeEntry, "\(path.string): invalid whiteout name") }
        switch options.whiteouts {
        case .overlay:
            // A 0/0 character device named <name> is overlayfs's whiteout; its parent
            // must exist in the upper directory even when only a lower layer has it.
            let parent = try openParent()
            defer { if parent != root.fd { close(parent) } }
            try path.withNames { _, base in
                var rc = berth_mknodat(parent, base + 4, S_IFCHR, 0)
                if rc == -EEXIST {
                    try remove(base + 4, in: parent)
                    rc = berth_mknodat(parent, base + 4, S_IFCHR, 0)
                }
                guard rc == 0 else { throw failure(-rc, "mknod whiteout") }
            }
        case .native:
            // Nothing to delete below a parent that does not exist (or is a dangling
            // symlink, or not a directory).
            guard let parent = try openParentIfPresent() else { return }
            defer { if parent != root.fd { close(parent) } }
            try path.withNames { _, base in try remove(base + 4, in: parent) }
        }
    }

    /// `.wh..wh..opq` in directory D. Overlay: `trusted.overlay.opaque=y` on D (created if
    /// missing), so the kernel shows none of the lower layers' D; this layer's entries in D
    /// stay, whether they come before or after the marker. Native: removes everything below
    /// D that this layer did not make (`created`), recursively, keeping what it made.
    private func opaqueDirectory() throws {
        let directory: Int32
        switch options.whiteouts {
        case .overlay:
            directory = try path.withNames { parent, _ in
                try parent.map { try root.openDirectory(creating: String(cString: $0)) } ?? root.fd
            }
        case .native:
            guard let present = try openParentIfPresent() else { return }
            directory = present
        }
        defer { if directory != root.fd { close(directory) } }
        // The O_PATH descriptor cannot carry xattrs or be listed: open the directory itself.
        let fd = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno, "open opaque directory") }
        defer { close(fd) }
        switch options.whiteouts {
        case .overlay:
            let rc = berth_fsetxattr(fd, "trusted.overlay.opaque", "y", 1)
            guard rc == 0 else { throw failure(-rc, "set trusted.overlay.opaque") }
        case .native:
            let directoryPath = path.withNames { parent, _ in parent.map { String(cString: $0) } ?? "" }
            try clearOpaque(fd, directoryPath)
        }
    }

    /// Removes the children of `directory` (at `directoryPath` in the root) that this layer
    /// did not make, and recurses into the directories it made.
    private func clearOpaque(_ directory: Int32, _ directoryPath: String) throws {
        let names: [[CChar]]
        do { names = try RemoveAll.children(of: directory) } catch { throw failure(error.code, "list opaque directory") }
        for name in names {
            let text = String(decoding: name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let childPath = directoryPath.isEmpty ? text : directoryPath + "/" + text
            guard created.contains(childPath) else {
                do { try RemoveAll.remove(name, in: directory) } catch { throw failure(error.code, "remove \(childPath)") }
                continue
            }
            let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child < 0 {
                // Not a directory (or a symlink): this layer's own file, kept.
                if errno == ENOTDIR || errno == ELOOP { continue }
                throw failure(errno, "open \(childPath)")
            }
            defer { close(child) }
            try clearOpaque(child, childPath)
        }
    }

    /// The current entry's parent as an `O_PATH` descriptor, or nil if it does not exist
    /// as a directory. Nothing is created.
    func openParentIfPresent() throws -> Int32? {
        try path.withNames { parent, _ in
            guard let parent else { return root.fd }
            let fd = root.openExistingDirectory(String(cString: parent))
            if fd >= 0 { return fd }
            if -fd == ENOENT || -fd == ENOTDIR { return nil }
            throw failure(-fd, "open parent directory")
        }
    }
}
