import BerthSystem
import CBerthLinux
#if canImport(Glibc)
import Glibc
#endif

/// An entry name cleaned lexically relative to the layer's root, in a buffer reused
/// from entry to entry (no allocation per entry once it has grown).
///
/// Cleaning is containerd's `filepath.Clean("/" + name)`: empty and `.` components go,
/// `..` drops the component before it and never climbs above the root, so `/etc/passwd`
/// and `../../etc/passwd` both name `etc/passwd`. The result has no leading or trailing
/// slash; the empty path is the root itself. Symlinks are not looked at here: they are
/// followed by the kernel (`openat2(RESOLVE_IN_ROOT)`) when the parent is opened.
struct CleanPath {
    /// The cleaned path, NUL-terminated, with a NUL in place of the slash before the last
    /// component so that parent and last component are each a C string.
    private(set) var bytes: [CChar] = []
    /// Where the last component starts in `bytes`.
    private(set) var baseStart = 0
    private var starts: [Int] = []

    init() {
        bytes.reserveCapacity(4096)
        starts.reserveCapacity(64)
    }

    /// The root itself (the name was empty, `/`, `.` or climbed back up to the root).
    var isRoot: Bool { bytes.count <= 1 }
    /// Whether the entry sits in a subdirectory rather than directly in the root.
    var hasParent: Bool { baseStart > 0 }
    /// Length of the cleaned path, without the NUL.
    var count: Int { bytes.count - 1 }

    mutating func clean(_ name: UnsafePointer<CChar>) {
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        var p = name
        while p.pointee != 0 {
            while p.pointee == 0x2F { p += 1 }
            let begin = p
            while p.pointee != 0 && p.pointee != 0x2F { p += 1 }
            let length = p - begin
            if length == 0 || (length == 1 && begin[0] == 0x2E) { continue }
            if length == 2 && begin[0] == 0x2E && begin[1] == 0x2E {
                if let start = starts.popLast() {
                    bytes.removeSubrange(max(start - 1, 0)...)
                }
                continue
            }
            if !bytes.isEmpty { bytes.append(0x2F) }
            starts.append(bytes.count)
            bytes.append(contentsOf: UnsafeBufferPointer(start: begin, count: length))
        }
        baseStart = starts.last ?? 0
        if baseStart > 0 { bytes[baseStart - 1] = 0 }
        bytes.append(0)
    }

    /// Whether the last component starts with `prefix`.
    func baseHasPrefix(_ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard count - baseStart >= n else { return false }
        let p = prefix.utf8Start
        for i in 0..<n where UInt8(bitPattern: bytes[baseStart + i]) != p[i] { return false }
        return true
    }

    /// The whole cleaned path as a String (for errors and the records kept per entry).
    var string: String {
        var copy = Array(bytes.dropLast())
        if baseStart > 0 { copy[baseStart - 1] = 0x2F }
        return String(decoding: copy.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with the parent path (nil when the entry is directly in the root) and
    /// the last component, as C strings. They are stored apart, the slash between them a NUL.
    func withNames<T>(_ body: (UnsafePointer<CChar>?, UnsafePointer<CChar>) throws -> T) rethrows -> T {
        try bytes.withUnsafeBufferPointer { b in
            try body(baseStart > 0 ? b.baseAddress! : nil, b.baseAddress! + baseStart)
        }
    }

    /// Cleans a String (slow paths: symlink targets met while creating parents).
    static func components(_ path: String) -> [String] {
        var out: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { _ = out.popLast(); continue }
            out.append(String(part))
        }
        return out
    }
}

/// The directory a layer is applied in, held as an `O_PATH` descriptor that every lookup
/// starts from with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: absolute symlinks
/// and `..` resolve as if this directory were `/`, exactly as containerd's `fs.RootPath`
/// interprets a layer, but enforced by the kernel at each lookup, so nothing the layer
/// created earlier (a symlink replacing a directory, CVE-2025-47290) can lead outside.
/// No resolved descriptor outlives the entry it was opened for.
final class RootDirectory {
    let fd: Int32

    init(path: String) throws {
        let fd = Glibc.open(path, BERTH_AR_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError.io(errno, "open layer root \(path)") }
        self.fd = fd
    }

    deinit { close(fd) }

    static let resolve = UInt64(BERTH_AR_RESOLVE_IN_ROOT | BERTH_AR_RESOLVE_NO_MAGICLINKS)

    /// openat2 of the cleaned relative `path` inside the root: a descriptor or -errno.
    func open(_ path: UnsafePointer<CChar>, _ flags: Int32) -> Int32 {
        berth_openat2(fd, path, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), 0, Self.resolve)
    }

    /// Opens the directory at `path` (cleaned, relative) as `O_PATH`, creating what is
    /// missing with mode 0755 as `mkdir -p` would, and as containerd does for entries whose
    /// parents the layer does not list. Symlinks on the way, dangling ones included, are
    /// followed to where they point inside the root (containerd's `RootPath`, then
    /// `MkdirAll`). The caller closes the result unless it is `fd`.
    func openDirectory(creating path: String) throws -> Int32 {
        let result = try walk(path, create: true)
        guard result >= 0 else { throw ArchiveError.io(-result, "mkdir \(path)") }
        return result
    }

    /// Opens the existing directory `path` as `O_PATH`, or returns -errno. Tries the kernel's
    /// resolution first; when that fails with ENOENT, resolves as containerd's `fs.RootPath`
    /// does: symlink targets are cleaned lexically, so `up/../../etc` names `etc` even
    /// though `up` does not exist, which the kernel would refuse.
    func openExistingDirectory(_ path: String) -> Int32 {
        let fd = open(path, BERTH_AR_O_PATH | O_DIRECTORY)
        guard -fd == ENOENT else { return fd }
        return (try? walk(path, create: false)) ?? fd
    }

    /// Walks `path` one component at a time from the root: each step an `openat2` of a
    /// single name below a directory already reached, refusing symlinks
    /// (`RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH`); a symlink met is read and its target
    /// spliced into the remaining path, cleaned lexically relative to where it sits (an
    /// absolute target restarts from the root), at most 40 times. Missing directories are
    /// made when `create`. Linear in the path's length, unlike opening each prefix from
    /// the root. Returns an `O_PATH` descriptor (`fd` itself for the root) or -errno.
    private func walk(_ path: String, create: Bool) throws -> Int32 {
        var components = CleanPath.components(path)
        var symlinks = 0
        var current = fd
        var index = 0
        defer { if current != fd { close(current) } }
        let step = UInt64(BERTH_AR_RESOLVE_NO_SYMLINKS | BERTH_AR_RESOLVE_BENEATH | BERTH_AR_RESOLVE_NO_MAGICLINKS)
        let flags = UInt64(UInt32(bitPattern: BERTH_AR_O_PATH | O_DIRECTORY | O_CLOEXEC))
        var attempts = 0
        while index < components.count {
            attempts += 1
            guard attempts < 1 << 16 else { return -ELOOP }
            let name = components[index]
            let next = berth_openat2(current, name, flags, 0, step)
            if next >= 0 {
                if current != fd { close(current) }
                current = next
                index += 1
                continue
            }
            switch -next {
            case ENOENT where create:
                if mkdirat(current, name, 0o755) != 0 && errno != EEXIST { return -errno }
            case ELOOP:
                guard let target = try? RootDirectory.readLink(at: current, name) else { return -ELOOP }
                symlinks += 1
                guard symlinks <= 40 else { return -ELOOP }
                let base = target.hasPrefix("/") ? "" : components[0..<index].joined(separator: "/")
                components = CleanPath.components(base + "/" + target) + components[(index + 1)...]
                if current != fd { close(current) }
                current = fd
                index = 0
            default:
                return next
            }
        }
        let result = current
        current = fd
        return result
    }

    static func readLink(at directory: Int32, _ name: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(directory, name, &buffer, buffer.count - 1)
        guard n >= 0 else { throw ArchiveError.io(errno, "readlink \(name)") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension ArchiveError {
    /// A file-system failure, keeping errno's name in the text (`mkdir etc: ENOTDIR (…)`).
    static func io(_ code: Int32, _ stage: String) -> ArchiveError {
        ArchiveError(.io, SystemError(errno: code, stage: stage).description)
    }
}
