import CBerthLinux

/// Thin wrappers of the mount system calls, throwing `SystemError` with a stage that
/// names the target (`mount overlay on /x: EINVAL`).
public enum Mounting {
    /// mount(2).
    public static func mount(source: String, target: String, type: String?, flags: UInt, data: String?) throws {
        let rc = berth_mount(source, target, type, flags, data)
        try checkNegativeErrno(rc, "mount \(type ?? "bind") \(source) on \(target)")
    }

    /// mount(2) from a child process whose working directory is `directory`, so that
    /// relative paths in `data` resolve there.
    public static func mount(inDirectory directory: String, source: String, target: String, type: String, flags: UInt, data: String) throws {
        let rc = berth_mount_in_directory(directory, source, target, type, flags, data)
        try checkNegativeErrno(rc, "mount \(type) on \(target) (from \(directory))")
    }

    /// An overlay through fsopen/fsconfig/fsmount/move_mount, one `lowerdir+` per layer.
    /// - Parameters:
    ///   - lowers: lower directories, topmost first.
    ///   - parameters: further `key=value` or flag words (`upperdir=…`, `index=off`).
    ///   - flags: mount(2) flags (read-only, nosuid…), applied as mount attributes.
    public static func mountOverlay(target: String, lowers: [String], parameters: [String], flags: UInt) throws {
        var message = [CChar](repeating: 0, count: 512)
        let rc = withCStrings(lowers) { lowerPointers in
            withCStrings(parameters) { paramPointers in
                berth_overlay_fsmount(target, lowerPointers, Int32(lowers.count), paramPointers, Int32(parameters.count),
                                      flags, &message, Int32(message.count))
            }
        }
        if rc < 0 {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw SystemError(errno: -rc, stage: "fsmount overlay of \(lowers.count) layers on \(target)" + (text.isEmpty ? "" : " (\(text))"))
        }
    }

    /// umount2(2); `detach` is MNT_DETACH (lazy).
    public static func unmount(_ target: String, detach: Bool = false) throws {
        try checkNegativeErrno(berth_umount2(target, detach ? BERTH_MNT_DETACH : 0), "umount \(target)")
    }

    /// Whether `path` is a mount point listed in /proc/self/mountinfo.
    public static func isMountPoint(_ path: String) -> Bool {
        guard let bytes = try? FileSystem.readFile("/proc/self/mountinfo", limit: 64 << 20) else { return false }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5)
            if fields.count > 4, unescapeMountField(fields[4]) == path { return true }
        }
        return false
    }

    /// Mount points at or below `prefix`, deepest first.
    public static func mountPoints(under prefix: String) -> [String] {
        guard let bytes = try? FileSystem.readFile("/proc/self/mountinfo", limit: 64 << 20) else { return [] }
        var out: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5)
            guard fields.count > 4 else { continue }
            let point = unescapeMountField(fields[4])
            if point == prefix || point.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/") { out.append(point) }
        }
        return out.sorted { $0.count > $1.count }
    }

    static func unescapeMountField(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let b = utf8.first {
            utf8.removeFirst()
            if b == UInt8(ascii: "\\"), utf8.count >= 3, let n = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(n)
                utf8.removeFirst(3)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Runs `body` with a NULL-free array of C string pointers valid for its duration.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

#if canImport(Glibc)
import Glibc
#endif
