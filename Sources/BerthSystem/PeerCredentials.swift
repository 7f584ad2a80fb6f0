#if canImport(Glibc)
import Glibc
#endif
import CBerthLinux

/// Who is on the other end of a UNIX socket, as the kernel recorded it at connect.
public struct PeerCredentials: Sendable, Equatable {
    public let pid: Int32
    public let uid: UInt32
    public let gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// SO_PEERCRED of a connected socket.
    public static func of(socket fd: Int32) throws -> PeerCredentials {
        var pid: pid_t = 0, uid: uid_t = 0, gid: gid_t = 0
        try checkNegativeErrno(berth_peer_credentials(fd, &pid, &uid, &gid), "getsockopt SO_PEERCRED")
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }

    /// The peer's supplementary groups, read from /proc/<pid>/status (empty if the
    /// process is gone).
    public func supplementaryGroups() -> [UInt32] {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/status", limit: 1 << 16) else { return [] }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("Groups:") {
            return line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
        }
        return []
    }
}

/// Resolves a group given by name or number; nil if there is no such group.
public func lookupGroup(_ nameOrID: String) -> UInt32? {
    if let gid = UInt32(nameOrID) { return gid }
    var group = Glibc.group()
    var result: UnsafeMutablePointer<Glibc.group>?
    var buffer = [CChar](repeating: 0, count: 16384)
    let rc = getgrnam_r(nameOrID, &group, &buffer, buffer.count, &result)
    guard rc == 0, result != nil else { return nil }
    return group.gr_gid
}
