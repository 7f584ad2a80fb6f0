#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthOCI
import BerthSystem
#if canImport(Glibc)
import Glibc
#endif

/// Compiled seccomp programs kept under the runtime's root, so the same profile (every
/// container berthd starts carries the default one) is compiled once, not on every
/// create — libseccomp takes 13–18 ms for the default profile here.
///
/// An entry holds the profile's canonical JSON beside the program, and is used only when
/// those bytes equal the profile's exactly: a hash names the file, it never decides a
/// match. Entries are written atomically; a damaged one is compiled again.
struct SeccompCache {
    let directory: String

    func program(for seccomp: Spec.Seccomp) throws -> SeccompProgram {
        let key = Self.key(seccomp)
        let path = directory + "/" + Self.name(key)
        if let cached = Self.read(path, key: key) { return cached }
        let program = try SeccompCompiler.compile(seccomp)
        try? FileSystem.makeDirectory(directory, mode: 0o700)
        try? FileSystem.writeAtomically(path, Self.entry(key: key, program: program), mode: 0o600)
        return program
    }

    /// The profile in a canonical form: every field in a fixed order, each string
    /// length-prefixed (so no two profiles share a key), absent values as `-`. Written
    /// by hand because the default profile's ~400 names made JSONEncoder's sorted
    /// output cost milliseconds on every create.
    static func key(_ seccomp: Spec.Seccomp) -> [UInt8] {
        var out: [UInt8] = Array("berth-seccomp-key 1\n".utf8)
        out.reserveCapacity(16 << 10)
        func string(_ s: String?) {
            guard let s else { return out.append(UInt8(ascii: "-")) }
            out += Array("\(s.utf8.count):".utf8)
            out += Array(s.utf8)
        }
        func number<N: BinaryInteger>(_ n: N?) {
            guard let n else { return out.append(UInt8(ascii: "-")) }
            out += Array("\(n);".utf8)
        }
        func list(_ items: [String]?) {
            guard let items else { return out.append(UInt8(ascii: "-")) }
            number(items.count)
            items.forEach { string($0) }
        }
        string(seccomp.defaultAction)
        number(seccomp.defaultErrnoRet)
        list(seccomp.architectures)
        list(seccomp.flags)
        string(seccomp.listenerPath)
        number(seccomp.syscalls?.count)
        for rule in seccomp.syscalls ?? [] {
            out.append(UInt8(ascii: "\n"))
            list(rule.names)
            string(rule.action)
            number(rule.errnoRet)
            number(rule.args?.count)
            for arg in rule.args ?? [] {
                number(arg.index)
                number(arg.value)
                number(arg.valueTwo)
                string(arg.op)
            }
        }
        return out
    }

    /// `<fnv64 of the profile>.bpf`.
    static func name(_ key: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16) + ".bpf"
    }

    // Layout: u32 key length, key, u32 flags, filter (little endian).
    static func entry(key: [UInt8], program: SeccompProgram) -> [UInt8] {
        func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        return u32(UInt32(key.count)) + key + u32(program.flags) + program.filter
    }

    static func read(_ path: String, key: [UInt8]) -> SeccompProgram? {
        guard let bytes = try? FileSystem.readFile(path, limit: 8 << 20), bytes.count >= 8 else { return nil }
        func u32(_ at: Int) -> UInt32 {
            bytes[at..<at + 4].enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        }
        let length = Int(u32(0))
        guard bytes.count >= 8 + length, Array(bytes[4..<4 + length]) == key else { return nil }
        let filter = Array(bytes[(8 + length)...])
        guard !filter.isEmpty, filter.count % 8 == 0 else { return nil }
        return SeccompProgram(filter: filter, flags: u32(4 + length), ignoredSyscalls: [])
    }
}
