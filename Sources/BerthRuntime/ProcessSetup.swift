import BerthOCI
import BerthSystem
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The process half of the init (create and exec alike): limits, identity,
/// capabilities, no_new_privs, seccomp, working directory, and the final exec.
struct ProcessSetup {
    var process: Spec.Process
    let config: InitConfig

    /// Everything that needs the init's full privileges.
    mutating func beforeIdentity() throws {
        // HOME from the user's passwd entry when the env has none, as runc.
        let passwd = (try? FileSystem.readFile("/etc/passwd", limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) }
        process.env = InitLauncher.withHome(process.env ?? [], user: process.user, passwd: passwd)
        // A missing working directory is created (as root, before the identity switch).
        if FileSystem.fileType(process.cwd) == nil, config.mode == .create {
            try? FileSystem.makeDirectory(process.cwd, mode: 0o755, enforceMode: false)
        }
        for limit in process.rlimits ?? [] {
            guard let resource = RlimitTable.numbers[limit.type] else { throw SystemError(errno: EINVAL, stage: "unknown rlimit \(limit.type)") }
            var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
            guard setrlimit(__rlimit_resource_t(UInt32(resource)), &value) == 0 else {
                throw SystemError(errno: errno, stage: "setrlimit \(limit.type)")
            }
        }
        if let adj = process.oomScoreAdj {
            try FileSystem.writeExisting("/proc/self/oom_score_adj", Array("\(adj)".utf8))
        }
        if let personality = config.spec.linux?.personality {
            let domain: UInt = personality.domain == "LINUX32" ? 0x0008 : 0x0000
            try checkNegativeErrno(berth_personality(domain), "personality \(personality.domain)")
        }
        if process.noNewPrivileges == true {
            try checkNegativeErrno(berth_set_no_new_privs(), "prctl PR_SET_NO_NEW_PRIVS")
        } else if let filter = config.seccompFilter {
            // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it now.
            try loadSeccomp(filter)
        }
    }

    /// Groups, gid, uid, then the five capability sets (the bounding set shrinks first,
    /// while CAP_SETPCAP is still held; keepcaps carries the rest across setuid).
    func switchIdentity() throws {
        let caps = process.capabilities
        let lastCap = berth_cap_last_cap()
        try checkNegativeErrno(lastCap, "read cap_last_cap")
        let bounding = try CapabilityTable.mask(caps?.bounding, lastCap: lastCap)
        for cap in 0...lastCap where bounding & (1 << UInt64(cap)) == 0 {
            try checkNegativeErrno(berth_cap_bound_drop(cap), "drop capability \(cap) from the bounding set")
        }
        try checkNegativeErrno(berth_set_keepcaps(1), "prctl PR_SET_KEEPCAPS")
        let user = process.user
        let groups = (user.additionalGids ?? []).map { gid_t($0) }
        let rc = groups.withUnsafeBufferPointer { berth_setgroups($0.count, $0.baseAddress) }
        // setgroups is refused in a user namespace whose setgroups file says deny.
        if rc != -EPERM || !groups.isEmpty { try checkNegativeErrno(rc, "setgroups") }
        try checkNegativeErrno(berth_setresgid(user.gid), "setresgid \(user.gid)")
        try checkNegativeErrno(berth_setresuid(user.uid), "setresuid \(user.uid)")
        try checkNegativeErrno(berth_set_keepcaps(0), "prctl PR_SET_KEEPCAPS")
        try checkNegativeErrno(berth_capset(try CapabilityTable.mask(caps?.effective, lastCap: lastCap),
                                            try CapabilityTable.mask(caps?.permitted, lastCap: lastCap),
                                            try CapabilityTable.mask(caps?.inheritable, lastCap: lastCap)), "capset")
        try checkNegativeErrno(berth_cap_ambient_clear(), "clear ambient capabilities")
        let ambient = try CapabilityTable.mask(caps?.ambient, lastCap: lastCap)
        for cap in 0...lastCap where ambient & (1 << UInt64(cap)) != 0 {
            try checkNegativeErrno(berth_cap_ambient_raise(cap), "raise ambient capability \(cap)")
        }
        if let mask = user.umask { umask(mode_t(mask)) } else { umask(0o022) }
        guard chdir(process.cwd) == 0 else { throw SystemError(errno: errno, stage: "chdir \(process.cwd)") }
    }

    /// The last steps, then exec: seccomp (when no_new_privs lets it wait this long),
    /// close-on-exec for every descriptor the process must not inherit, execve.
    /// The path of the program to exec, looked up in the container now.
    func resolveProgram() throws -> String {
        guard let args = process.args, let program = args.first, !program.isEmpty else {
            throw SystemError(errno: EINVAL, stage: "process.args must name a program")
        }
        return try resolve(program, env: process.env ?? [])
    }

    func finalAndExec(_ path: String) throws -> Never {
        let args = process.args ?? []
        let program = args.first ?? path
        let env = process.env ?? []
        // The cwd must be inside the container (CVE-2024-21626: a leaked host fd as cwd).
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        if getcwd(&buffer, buffer.count) == nil {
            throw SystemError(errno: errno, stage: "cwd \(process.cwd) is outside the container")
        }
        try checkNegativeErrno(berth_cloexec_from(3 + config.preserveFDs), "mark descriptors close-on-exec")
        if process.noNewPrivileges == true, let filter = config.seccompFilter { try loadSeccomp(filter) }
        let rc: Int32 = withCStrings(args) { argv in withCStrings(env) { envp in berth_execve(path, argv, envp) } }
        throw SystemError(errno: -rc, stage: "exec \"\(program)\"")
    }

    private func loadSeccomp(_ filter: [UInt8]) throws {
        try checkNegativeErrno(filter.withUnsafeBytes { berth_seccomp_load($0.baseAddress, $0.count, config.seccompFlags) }, "load seccomp filter")
    }

    /// PATH lookup in the container, as execvp would do with the process's own PATH.
    func resolve(_ program: String, env: [String]) throws -> String {
        if program.contains("/") {
            guard access(program, X_OK) == 0, FileSystem.fileType(program) != S_IFDIR else {
                throw SystemError(errno: errno == 0 ? EACCES : errno, stage: "exec: \"\(program)\": stat")
            }
            return program
        }
        let pathVar = env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in pathVar.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if access(candidate, X_OK) == 0, FileSystem.fileType(candidate) != S_IFDIR { return candidate }
        }
        throw SystemError(errno: ENOENT, stage: "exec: \"\(program)\": executable file not found in $PATH")
    }
}
