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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let key = Array(try encoder.encode(seccomp))
        let path = directory + "/" + Self.name(key)
        if let cached = Self.read(path, key: key) { return cached }
        let program = try SeccompCompiler.compile(seccomp)
        try? FileSystem.makeDirectory(directory, mode: 0o700)
        try? FileSystem.writeAtomically(path, Self.entry(key: key, program: program), mode: 0o600)
        return program
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
