import BerthOCI
import BerthSystem
import CSeccomp
import Foundation
import Testing

@testable import BerthRuntime

#if canImport(Glibc)
import Glibc
#endif

// Helpers of SeccompCompilerTests: a classic-BPF evaluator for the exported programs,
// and a C probe that loads a program in a process of its own and reports what the
// kernel answers to chosen syscalls.

enum SeccompErrorKind { case invalidArgument, unsupported }

/// Expects `body` to throw a `SeccompError` of `kind` whose message contains `name`.
func expectSeccompError(_ kind: SeccompErrorKind, naming name: String, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> Any) {
    do {
        _ = try body()
        Issue.record("expected an error naming \(name)", sourceLocation: sourceLocation)
    } catch let error as SeccompError {
        switch (kind, error) {
        case let (.invalidArgument, .invalidArgument(message)), let (.unsupported, .unsupported(message)):
            #expect(message.contains(name), "\(error)", sourceLocation: sourceLocation)
        default:
            Issue.record("expected \(kind), got \(error)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a SeccompError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// The kernel's number for `name` on `arch` (negative when it has none there).
func seccompSyscallNumber(_ name: String, arch: SeccompBPF.Arch) -> Int32 {
    // libseccomp answers with a pseudo-number for the x86 calls also reachable through
    // socketcall(2); the direct syscall has had its own number since Linux 4.3.
    if arch.name == "x86" && name == "socket" { return 359 }
    return seccomp_syscall_resolve_name_arch(arch.token, name)
}

/// Reading the exported program: `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }`.
enum SeccompBPF {
    struct Instruction { var code: UInt16; var jt: UInt8; var jf: UInt8; var k: UInt32 }

    /// An architecture as libseccomp names it and as the kernel reports it in
    /// `seccomp_data.arch` (x32 calls report x86_64 and set bit 30 of the number).
    struct Arch: CustomStringConvertible {
        var name: String
        var token: UInt32 { seccomp_arch_resolve_name(name) }
        var audit: UInt32 { seccomp_arch_resolve_name(name == "x32" ? "x86_64" : name) }
        var description: String { name }
    }

    #if arch(x86_64)
    static let nativeArchName = "SCMP_ARCH_X86_64"
    static let compatArchNames = ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    static let foreignArchNames = ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    static let nativeFamily = ["x86_64", "x86", "x32"].map(Arch.init)
    static let foreignFamily = ["aarch64", "arm"].map(Arch.init)
    #elseif arch(arm64)
    static let nativeArchName = "SCMP_ARCH_AARCH64"
    static let compatArchNames = ["SCMP_ARCH_ARM"]
    static let foreignArchNames = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    static let nativeFamily = ["aarch64", "arm"].map(Arch.init)
    static let foreignFamily = ["x86_64", "x86"].map(Arch.init)
    #endif

    static func decode(_ bytes: [UInt8]) -> [Instruction] {
        stride(from: 0, to: bytes.count - 7, by: 8).map { i in
            func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
            let k = UInt32(u16(i + 4)) | UInt32(u16(i + 6)) << 16
            return Instruction(code: u16(i), jt: bytes[i + 2], jf: bytes[i + 3], k: k)
        }
    }

    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the program on one `struct seccomp_data` as the kernel would and returns the
    /// action word. Classic BPF, the subset a seccomp filter may use.
    static func evaluate(_ program: SeccompProgram, arch: UInt32, nr: Int32, args: [UInt64] = []) throws -> UInt32 {
        // seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] (host order).
        func word(_ offset: UInt32) throws -> UInt32 {
            switch offset {
            case 0: return UInt32(bitPattern: nr)
            case 4: return arch
            case 8, 12: return 0
            case 16..<64 where offset % 4 == 0:
                let arg = Int(offset - 16) / 8
                let value = arg < args.count ? args[arg] : 0
                return offset % 8 == 0 ? UInt32(truncatingIfNeeded: value) : UInt32(truncatingIfNeeded: value >> 32)
            default: throw Unsupported(description: "load of seccomp_data offset \(offset)")
            }
        }
        let insns = decode(program.filter)
        var a: UInt32 = 0, x: UInt32 = 0
        var memory = [UInt32](repeating: 0, count: 16)
        var pc = 0
        while pc < insns.count {
            let i = insns[pc]
            pc += 1
            let code = i.code
            switch code & 0x07 {
            case 0x00, 0x01: // LD, LDX (word size only)
                let value: UInt32
                switch code & 0xe0 {
                case 0x00: value = i.k
                case 0x20: value = try word(i.k)
                case 0x60: value = memory[Int(i.k & 15)]
                case 0x80: value = 64 // sizeof(struct seccomp_data)
                default: throw Unsupported(description: "load mode \(code)")
                }
                if code & 0x07 == 0x00 { a = value } else { x = value }
            case 0x02: memory[Int(i.k & 15)] = a
            case 0x03: memory[Int(i.k & 15)] = x
            case 0x04: // ALU
                let operand = code & 0x08 != 0 ? x : i.k
                switch code & 0xf0 {
                case 0x00: a = a &+ operand
                case 0x10: a = a &- operand
                case 0x20: a = a &* operand
                case 0x40: a |= operand
                case 0x50: a &= operand
                case 0x60: a = operand < 32 ? a << operand : 0
                case 0x70: a = operand < 32 ? a >> operand : 0
                case 0x80: a = 0 &- a
                case 0xa0: a ^= operand
                default: throw Unsupported(description: "alu op \(code)")
                }
            case 0x05: // JMP
                if code & 0xf0 == 0x00 { pc += Int(i.k); continue }
                let operand = code & 0x08 != 0 ? x : i.k
                let taken: Bool
                switch code & 0xf0 {
                case 0x10: taken = a == operand
                case 0x20: taken = a > operand
                case 0x30: taken = a >= operand
                case 0x40: taken = a & operand != 0
                default: throw Unsupported(description: "jump op \(code)")
                }
                pc += Int(taken ? i.jt : i.jf)
            case 0x06: return code & 0x18 == 0x10 ? a : i.k
            case 0x07: if code & 0xf8 == 0x80 { a = x } else { x = a }
            default: throw Unsupported(description: "opcode \(code)")
            }
        }
        throw Unsupported(description: "program ran off its end")
    }

    /// The constants of `BPF_RET | BPF_K` instructions: every action the program can take.
    static func returns(_ program: SeccompProgram) -> Set<UInt32> {
        Set(decode(program.filter).filter { $0.code == 0x06 }.map(\.k))
    }
}

/// A private directory under /tmp for one test's files.
struct ProbeScratch {
    let path: String

    init() throws {
        var template = Array("/tmp/berth-seccomp.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SystemError(errno: errno, stage: "mkdtemp")
        }
        path = String(cString: made)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

enum ProbeTermination: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    var description: String {
        switch self {
        case let .exited(code): "exit status \(code)"
        case let .signaled(signal): "signal \(signal)"
        }
    }
}

/// What the probe printed (`name=OK` or `name=ERRNAME` per line) and how it ended.
struct ProbeRun {
    var output: String
    var termination: ProbeTermination

    subscript(probe: String) -> String? {
        for line in output.split(separator: "\n") where line.hasPrefix(probe + "=") {
            return String(line.dropFirst(probe.count + 1))
        }
        return nil
    }
}

/// A C program that loads a filter the way the runtime's init does, then makes the
/// probe syscalls named on its command line, printing each result.
enum SeccompProbe {
    static let source = #"""
    #define _GNU_SOURCE
    #include <errno.h>
    #include <fcntl.h>
    #include <linux/filter.h>
    #include <linux/seccomp.h>
    #include <sched.h>
    #include <signal.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/mount.h>
    #include <sys/prctl.h>
    #include <sys/resource.h>
    #include <sys/socket.h>
    #include <sys/stat.h>
    #include <sys/syscall.h>
    #include <sys/wait.h>
    #include <unistd.h>

    static void report(const char *probe, long rc) {
        if (rc < 0) printf("%s=%s\n", probe, strerrorname_np(errno));
        else printf("%s=OK\n", probe);
    }

    /* A raw clone(2) that behaves like fork: the child exits at once. */
    static long clone_with(unsigned long flags) {
        long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) _exit(0);
        if (pid > 0) waitpid((pid_t)pid, 0, 0);
        return pid;
    }

    int main(int argc, char **argv) {
        setvbuf(stdout, 0, _IONBF, 0);
        /* The kill and trap tests end it with SIGSYS, which would dump core. */
        struct rlimit nocore = { 0, 0 };
        setrlimit(RLIMIT_CORE, &nocore);
        if (argc < 3) return 2;
        if (strcmp(argv[1], "-") != 0) {
            int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
            struct stat st;
            if (fd < 0 || fstat(fd, &st) < 0) { perror("open filter"); return 2; }
            struct sock_filter *insns = malloc(st.st_size);
            if (read(fd, insns, st.st_size) != st.st_size) { perror("read filter"); return 2; }
            close(fd);
            struct sock_fprog prog = { .len = (unsigned short)(st.st_size / sizeof(struct sock_filter)), .filter = insns };
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("no_new_privs"); return 2; }
            unsigned flags = (unsigned)strtoul(argv[2], 0, 0);
            report("load", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog));
        }
        for (int i = 3; i < argc; i++) {
            const char *p = argv[i];
            long rc = -1;
            if (strcmp(p, "--") == 0 && i + 1 < argc) { /* the rest is a command to exec */
                execv(argv[i + 1], argv + i + 1);
                report("exec", -1);
                return 1;
            }
            errno = 0;
            if (strncmp(p, "mkdir:", 6) == 0) rc = mkdir(p + 6, 0700);
            else if (strcmp(p, "getpid") == 0) rc = syscall(SYS_getpid);
            else if (strcmp(p, "getppid") == 0) rc = syscall(SYS_getppid);
            else if (strcmp(p, "fork") == 0) {
                pid_t pid = fork();
                if (pid == 0) _exit(0);
                if (pid > 0) waitpid(pid, 0, 0);
                rc = pid;
            }
            else if (strcmp(p, "unix_socket") == 0) rc = socket(AF_UNIX, SOCK_STREAM, 0);
            else if (strcmp(p, "vsock_socket") == 0) rc = socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
            else if (strncmp(p, "personality:", 12) == 0) rc = syscall(SYS_personality, strtoul(p + 12, 0, 0));
            else if (strcmp(p, "unshare_newns") == 0) rc = unshare(CLONE_NEWNS);
            else if (strcmp(p, "keyctl") == 0) rc = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
            else if (strcmp(p, "clone_newuser") == 0) rc = clone_with(CLONE_NEWUSER);
            else if (strcmp(p, "clone3") == 0) rc = syscall(SYS_clone3, 0, 0);
            else if (strcmp(p, "mount") == 0) rc = mount("none", "/nonexistent-berth", "tmpfs", 0, 0);
            else if (strncmp(p, "umask:", 6) == 0) rc = syscall(SYS_umask, strtoul(p + 6, 0, 8));
            else if (strncmp(p, "getpriority:", 12) == 0) {
                char *end;
                unsigned long which = strtoul(p + 12, &end, 0);
                rc = syscall(SYS_getpriority, which, strtoul(end + 1, 0, 0));
            }
            else { printf("%s=UNKNOWN-PROBE\n", p); continue; }
            report(p, rc);
        }
        return 0;
    }
    """#

    /// The compiled probe, built once per test process into a directory named for the
    /// source's hash, so runs reuse it and a changed source gets a fresh one.
    static let binary: Result<String, Error> = Result(catching: {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 // FNV-1a
        for byte in source.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let dir = "/tmp/berth-seccomp-probe-" + String(hash, radix: 16)
        let binary = dir + "/probe"
        if access(binary, X_OK) == 0 { return binary }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let unique = "\(dir)/probe-\(getpid())"
        try source.write(toFile: unique + ".c", atomically: true, encoding: .utf8)
        let (status, output) = try execute("/usr/bin/cc", ["-O1", "-o", unique, unique + ".c"])
        unlink(unique + ".c")
        guard status == .exited(0) else { throw SystemError(errno: EINVAL, stage: "cc probe.c: \(output)") }
        try retryingEINTR("rename \(unique)") { rename(unique, binary) }
        return binary
    })

    static func run(_ program: SeccompProgram?, scratch: ProbeScratch, probes: [String]) throws -> ProbeRun {
        var filterPath = "-"
        if let program {
            filterPath = scratch.path + "/filter-\(UInt32.random(in: 0...UInt32.max)).bpf"
            try Data(program.filter).write(to: URL(fileURLWithPath: filterPath))
        }
        let (termination, output) = try execute(try binary.get(), [filterPath, String(program?.flags ?? 0)] + probes,
                                                directory: scratch.path)
        return ProbeRun(output: output, termination: termination)
    }

    /// Runs a program to its end (posix_spawn under Foundation's Process; no fork here).
    static func execute(_ path: String, _ arguments: [String], directory: String = "/tmp") throws -> (ProbeTermination, String) {
        let process = Process()
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let termination: ProbeTermination = process.terminationReason == .exit
            ? .exited(process.terminationStatus) : .signaled(process.terminationStatus)
        return (termination, String(decoding: data, as: UTF8.self))
    }
}
