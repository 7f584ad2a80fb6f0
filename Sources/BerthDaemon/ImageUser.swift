import BerthAPI
import BerthOCI
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// Resolves an image config's `User` (`name`, `uid`, `name:group`, `uid:gid`, …)
/// against the container's own `/etc/passwd` and `/etc/group`, as containerd's
/// `WithUser` does, without trusting the image: both files are opened below the root
/// file system one component at a time with `O_NOFOLLOW` (a symlinked `/etc` or
/// `/etc/passwd` counts as absent, so nothing outside the image is ever read), must be
/// regular files (a FIFO cannot block berthd), and are read up to 1 MiB.
enum ImageUser {
    static let label = Container.userLabel
    static let maxFileBytes = 1 << 20

    struct Entry {
        var name: String
        var id: UInt32
        var gid: UInt32
        var members: [String]
    }

    static func resolve(_ text: String, rootfs: String) throws -> Spec.User {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0]
        let groupPart = parts.count > 1 ? parts[1] : nil
        guard !userPart.isEmpty else { throw BerthError.invalidArgument("image user \"\(text)\": empty user") }
        let passwd = try read(rootfs, "passwd").map { parse($0, passwd: true) } ?? []
        let uid: UInt32
        var gid: UInt32 = 0
        var userName: String?
        if let n = UInt32(userPart) {
            uid = n
            if let e = passwd.first(where: { $0.id == n }) {
                gid = e.gid
                userName = e.name
            }
        } else {
            guard let e = passwd.first(where: { $0.name == userPart }) else {
                throw BerthError.failedPrecondition("image user \"\(userPart)\" is not in the image's /etc/passwd")
            }
            uid = e.id
            gid = e.gid
            userName = e.name
        }
        let groups = try read(rootfs, "group").map { parse($0, passwd: false) } ?? []
        if let groupPart {
            if let n = UInt32(groupPart) {
                gid = n
            } else {
                guard let g = groups.first(where: { $0.name == groupPart }) else {
                    throw BerthError.failedPrecondition("image group \"\(groupPart)\" is not in the image's /etc/group")
                }
                gid = g.id
            }
        }
        var additional: [UInt32] = []
        if let userName {
            for g in groups where g.members.contains(userName) && g.id != gid && !additional.contains(g.id) { additional.append(g.id) }
        }
        return Spec.User(uid: uid, gid: gid, additionalGids: additional.isEmpty ? nil : additional.sorted())
    }

    /// `<rootfs>/etc/<name>` if it is a regular file reached without a symlink; nil when
    /// absent (or a symlink, a directory, a device…).
    static func read(_ rootfs: String, _ name: String) throws -> String? {
        let root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw SystemError(errno: errno, stage: "open \(rootfs)") }
        defer { close(root) }
        let etc = openat(root, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard etc >= 0 else { return nil }
        defer { close(etc) }
        let fd = openat(etc, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        guard st.st_size <= maxFileBytes else {
            throw BerthError.failedPrecondition("the image's /etc/\(name) is \(st.st_size) bytes, more than \(maxFileBytes)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        return String(decoding: bytes.prefix(got), as: UTF8.self)
    }

    /// `name:x:uid:gid:…` lines (passwd) or `name:x:gid:members` lines (group).
    static func parse(_ text: String, passwd: Bool) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= (passwd ? 4 : 3), let id = UInt32(f[2]) else { return nil }
            if passwd {
                guard let gid = UInt32(f[3]) else { return nil }
                return Entry(name: String(f[0]), id: id, gid: gid, members: [])
            }
            let members = f.count > 3 ? f[3].split(separator: ",").map(String.init) : []
            return Entry(name: String(f[0]), id: id, gid: id, members: members)
        }
    }
}
