import CSeccomp

#if canImport(Glibc)
import Glibc
#endif

// The OCI seccomp vocabulary (runtime-spec config-linux.md, "Seccomp") parsed into the
// values libseccomp and seccomp(2) take. Pure functions of the strings, so every error
// is raised before a filter context exists.

/// What the kernel does when a rule (or the default) matches.
enum SeccompAction: Equatable, Sendable {
    case killThread
    case killProcess
    case trap
    case errno(UInt16)
    case trace(UInt16)
    case allow
    case log

    /// `SCMP_ACT_ERRNO` and `SCMP_ACT_TRACE` without `errnoRet` return EPERM, as runc.
    static let defaultErrno = UInt16(EPERM)

    /// Parses an OCI action name with its optional errno.
    ///
    /// - Parameters:
    ///   - name: `SCMP_ACT_*`. `SCMP_ACT_KILL` is `SCMP_ACT_KILL_THREAD`, as libseccomp.
    ///   - errnoRet: only valid with `SCMP_ACT_ERRNO` and `SCMP_ACT_TRACE` (the spec says
    ///     a runtime MUST fail otherwise); at most 65535, the width of the kernel field.
    ///   - context: what the action belongs to, for messages (`defaultAction`, `syscalls [mkdir]`).
    init(name: String, errnoRet: UInt32?, context: String) throws {
        func errnoValue() throws -> UInt16 {
            guard let errnoRet else { return SeccompAction.defaultErrno }
            guard let value = UInt16(exactly: errnoRet) else {
                throw SeccompError.invalidArgument("\(context): errno \(errnoRet) does not fit the 16-bit SECCOMP_RET_DATA field")
            }
            return value
        }
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": self = .killThread
        case "SCMP_ACT_KILL_PROCESS": self = .killProcess
        case "SCMP_ACT_TRAP": self = .trap
        case "SCMP_ACT_ERRNO": self = .errno(try errnoValue()); return
        case "SCMP_ACT_TRACE": self = .trace(try errnoValue()); return
        case "SCMP_ACT_ALLOW": self = .allow
        case "SCMP_ACT_LOG": self = .log
        case "SCMP_ACT_NOTIFY":
            throw SeccompError.unsupported("\(context): action SCMP_ACT_NOTIFY (a seccomp agent at listenerPath) is not supported yet")
        default:
            throw SeccompError.invalidArgument("\(context): unknown action \"\(name)\"")
        }
        if let errnoRet {
            throw SeccompError.invalidArgument("\(context): errnoRet \(errnoRet) is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not \(name)")
        }
    }

    /// The libseccomp action word (`SCMP_ACT_*`, which are also the kernel's `SECCOMP_RET_*`).
    var value: UInt32 {
        switch self {
        case .killThread: berth_scmp_act_kill_thread()
        case .killProcess: berth_scmp_act_kill_process()
        case .trap: berth_scmp_act_trap()
        case let .errno(code): berth_scmp_act_errno(code)
        case let .trace(code): berth_scmp_act_trace(code)
        case .allow: berth_scmp_act_allow()
        case .log: berth_scmp_act_log()
        }
    }
}

/// OCI comparison operators (`SCMP_CMP_*`) to libseccomp's.
func seccompOperator(_ name: String, context: String) throws -> scmp_compare {
    switch name {
    case "SCMP_CMP_NE": return SCMP_CMP_NE
    case "SCMP_CMP_LT": return SCMP_CMP_LT
    case "SCMP_CMP_LE": return SCMP_CMP_LE
    case "SCMP_CMP_EQ": return SCMP_CMP_EQ
    case "SCMP_CMP_GE": return SCMP_CMP_GE
    case "SCMP_CMP_GT": return SCMP_CMP_GT
    case "SCMP_CMP_MASKED_EQ": return SCMP_CMP_MASKED_EQ
    default: throw SeccompError.invalidArgument("\(context): unknown operator \"\(name)\"")
    }
}

/// The architectures runtime-spec 1.2 names (`SCMP_ARCH_*`, the suffix lowercased is
/// libseccomp's own name for it).
let ociArchitectures: Set<String> = [
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
]

/// An OCI architecture name to libseccomp's token (`AUDIT_ARCH_*`).
func seccompArchitecture(_ name: String) throws -> UInt32 {
    let prefix = "SCMP_ARCH_"
    guard name.hasPrefix(prefix), name.count > prefix.count else {
        throw SeccompError.invalidArgument("unknown architecture \"\(name)\"")
    }
    let token = seccomp_arch_resolve_name(String(name.dropFirst(prefix.count)).lowercased())
    if token != 0 { return token }
    if ociArchitectures.contains(name) {
        throw SeccompError.unsupported("architecture \(name) is not known to this libseccomp")
    }
    throw SeccompError.invalidArgument("unknown architecture \"\(name)\"")
}

/// The architectures whose syscalls can reach a filter on this machine, or nil when
/// unknown (then every listed architecture is kept). libseccomp's native architecture
/// is the one this process was built for, and a 64-bit process runs on a kernel of its
/// own family, whose compat ABIs are the rest of the set.
func reachableArchitectures() -> Set<UInt32>? {
    let families: [[String]] = [["x86_64", "x86", "x32"], ["aarch64", "arm"]]
    let native = seccomp_arch_native()
    for family in families {
        let tokens = family.map { seccomp_arch_resolve_name($0) }
        if tokens.first == native { return Set(tokens) }
    }
    return nil
}

/// `SECCOMP_FILTER_FLAG_*` bits of seccomp(2) (linux/seccomp.h).
enum SeccompFilterFlag {
    static let tsync: UInt32 = 1 << 0
    static let log: UInt32 = 1 << 1
    static let specAllow: UInt32 = 1 << 2
    static let newListener: UInt32 = 1 << 3
    static let tsyncESRCH: UInt32 = 1 << 4
    static let waitKillableRecv: UInt32 = 1 << 5

    /// An OCI `flags` entry to its bit. TSYNC is accepted (runc accepts and ignores it;
    /// the init is single-threaded when it loads the filter, so it changes nothing).
    static func parse(_ name: String) throws -> UInt32 {
        switch name {
        case "SECCOMP_FILTER_FLAG_TSYNC": return tsync
        case "SECCOMP_FILTER_FLAG_LOG": return log
        case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": return specAllow
        case "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
            throw SeccompError.unsupported("flag \(name) applies only to a seccomp agent (SCMP_ACT_NOTIFY), which is not supported yet")
        default:
            throw SeccompError.invalidArgument("unknown flag \"\(name)\"")
        }
    }
}
