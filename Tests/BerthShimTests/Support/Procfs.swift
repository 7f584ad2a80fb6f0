import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What /proc says about processes the test did not start itself (the serving shim, a
/// container's init): they are reaped by init, so "gone" includes "zombie".
enum Procfs {
    /// Whether `pid` is a live (not zombie) process.
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// `/proc/<pid>/cmdline` with its arguments joined by spaces ("" if gone).
    static func commandLine(_ pid: Int32) -> String {
        let fd = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// Rss and Pss of `pid` in KiB, from /proc/<pid>/smaps_rollup.
    static func memory(_ pid: Int32) throws -> (rss: Int, pss: Int) {
        let text = try String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8)
        func field(_ name: String) -> Int? {
            for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
                return Int(line.dropFirst(name.count + 1).split(separator: " ").first ?? "")
            }
            return nil
        }
        guard let rss = field("Rss"), let pss = field("Pss") else { throw TestFailure("no Rss/Pss in smaps_rollup of \(pid):\n\(text)") }
        return (rss, pss)
    }
}
