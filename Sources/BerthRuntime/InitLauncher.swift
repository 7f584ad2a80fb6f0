#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthCgroups
import BerthOCI
import BerthSystem
import CBerthRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The parent side of starting a container init (or an exec'd process): everything is
/// prepared in Swift before the clone (config, seccomp program, sealed binary, namespace
/// fds), the child runs only C until it execs the sealed runtime as `init`, and the two
/// talk over a SOCK_SEQPACKET socketpair (proto-docs/runtime-init.md).
struct InitLauncher {
    let config: InitConfig
    let consoleSocketFD: Int32?

    init(mode: InitConfig.Mode, id: String, bundle: String, rootfs: String, spec: Spec, process: Spec.Process,
         fifoFD: Int32?, consoleSocket: String?, preserveFDs: Int32, noPivot: Bool = false,
         seccompCache: SeccompCache? = nil) throws {
        var program: SeccompProgram?
        if let seccomp = spec.linux?.seccomp {
            program = try seccompCache?.program(for: seccomp) ?? SeccompCompiler.compile(seccomp)
        }
        consoleSocketFD = try consoleSocket.map(connectUnixSocket)
        let namespaces = spec.linux?.namespaces ?? []
        config = InitConfig(
            mode: mode, id: id, bundle: bundle, rootfs: rootfs, spec: spec, process: process, fifoFD: fifoFD,
            consoleSocketFD: consoleSocketFD, seccompFilter: program?.filter, seccompFlags: program?.flags ?? 0,
            preserveFDs: preserveFDs,
            newUserNamespace: namespaces.contains { $0.type == "user" && $0.path == nil },
            newNetworkNamespace: namespaces.contains { $0.type == "network" && $0.path == nil },
            noPivot: noPivot)
    }

    /// Whether a create's init may join its v1 cgroup by path after GO, so the parent
    /// can make the directories while the clone runs: not with a user namespace (the
    /// parent moves the init then) nor when joining a pid namespace (the child forks,
    /// which a second thread of the parent could leave holding malloc's locks).
    static func mayJoinCgroupAfterClone(_ spec: Spec) -> Bool {
        !(spec.linux?.namespaces ?? []).contains { $0.type == "user" || ($0.type == "pid" && $0.path != nil) }
    }

    /// Clones the container init into new namespaces and drives it until it waits on
    /// the exec fifo. Runs prestart and createRuntime hooks when the init asks.
    /// With `v1Setup` (making the cgroup's v1 directories and applying the limits), the
    /// init joins the v1 hierarchies after GO, by path, and GO waits for that work.
    /// `whileReady` runs once GO is sent, while the init sets itself up.
    func spawnCreate(cgroup: Cgroup, v1Setup: BackgroundWork?, hooks: Spec.Hooks?,
                     whileReady: (Int32) throws -> Void) throws -> Int32 {
        var flags: UInt64 = 0
        var joins: [(fd: Int32, type: Int32)] = []
        defer { joins.forEach { close($0.fd) } }
        for ns in config.spec.linux?.namespaces ?? [] {
            guard let flag = NamespaceTable.flags[ns.type] else { throw RuntimeError("unknown namespace type \"\(ns.type)\"") }
            if let path = ns.path {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw SystemError(errno: errno, stage: "open namespace \(path)") }
                joins.append((fd, flag))
            } else {
                flags |= UInt64(UInt32(bitPattern: flag))
            }
        }
        // Joining an existing pid namespace takes effect for children only: fork once more.
        let joinsPid = joins.contains { $0.type == NamespaceTable.flags["pid"]! }
        // The cgroup namespace is made after the cgroup join, so its root is the container's cgroup.
        let cgroupFlag = UInt64(UInt32(bitPattern: NamespaceTable.flags["cgroup"]!))
        let unshareLater = Int32(truncatingIfNeeded: flags & cgroupFlag)
        flags &= ~cgroupFlag
        // The init joins its cgroup by itself unless a user namespace is involved (its
        // writes would then be checked against the namespace's root).
        let spawned = try spawn(flags: flags, joins: joins, waitForGo: true, forkAfterJoin: joinsPid,
                                becomeRoot: config.newUserNamespace, unshareAfterGo: unshareLater,
                                cgroup: cgroup, v1JoinAfterGo: v1Setup != nil)
        defer { close(spawned.sync) }
        var pid = spawned.pid
        do {
            if config.newUserNamespace { try writeIDMappings(pid: pid) }
            try v1Setup?.wait()
            try moveIntoCgroup(cgroup, spawned, pid: pid)
            try sendGo(spawned.sync, to: pid)
            if joinsPid {
                let message = try receive(spawned.sync, from: pid)
                guard message.type == BERTH_SYNC_PID.rawValue else { throw RuntimeError("create: expected the init's pid") }
                var status: Int32 = 0
                waitpid(pid, &status, 0) // the intermediate exits at once
                pid = message.pid // it forked after joining the cgroup: the init is in it too
            }
            try whileReady(pid)
            while true {
                let message = try receive(spawned.sync, from: pid)
                switch Int(message.type) {
                case Int(BERTH_SYNC_HOOKS.rawValue):
                    let state = ContainerState(id: config.id, pid: pid, status: "creating", bundle: config.bundle,
                                               rootfs: config.rootfs, created: Timestamp.now(), annotations: config.spec.annotations)
                    try Hooks.run(hooks?.prestart, state: state, stage: "prestart")
                    try Hooks.run(hooks?.createRuntime, state: state, stage: "createRuntime")
                    try send(spawned.sync, BERTH_SYNC_HOOKS_DONE)
                case Int(BERTH_SYNC_READY.rawValue):
                    return pid
                default:
                    throw RuntimeError("init sent unexpected message \(message.type)")
                }
            }
        } catch {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            throw error
        }
    }

    /// Starts a process inside the running container whose init is `targetPid`: joins
    /// its namespaces (forking once more to enter the pid namespace), then sets up and
    /// execs the process in C — the container's root has neither this binary's loader
    /// nor its libraries. Returns the process's pid; the caller must be a child
    /// subreaper to wait for it.
    func spawnExec(targetPid: Int32, cgroup: Cgroup?) throws -> Int32 {
        var joins: [(fd: Int32, type: Int32)] = []
        defer { joins.forEach { close($0.fd) } }
        // Join every namespace in which the target differs from us; user first (C orders it).
        for (type, proc) in NamespaceTable.procNames.sorted(by: { $0.key < $1.key }) {
            let theirs = "/proc/\(targetPid)/ns/\(proc)", ours = "/proc/self/ns/\(proc)"
            var a = stat(), b = stat()
            guard stat(theirs, &a) == 0, stat(ours, &b) == 0 else { continue }
            if a.st_ino == b.st_ino && a.st_dev == b.st_dev { continue }
            let fd = open(theirs, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError(errno: errno, stage: "open \(theirs)") }
            joins.append((fd, NamespaceTable.flags[type]!))
        }
        let needsFork = joins.contains { $0.type == NamespaceTable.flags["pid"]! }
        let process = config.process
        let lastCap = berth_cap_last_cap()
        try checkNegativeErrno(lastCap, "read cap_last_cap")
        let caps = process.capabilities
        let masks = (try CapabilityTable.mask(caps?.bounding, lastCap: lastCap), try CapabilityTable.mask(caps?.effective, lastCap: lastCap),
                     try CapabilityTable.mask(caps?.permitted, lastCap: lastCap), try CapabilityTable.mask(caps?.inheritable, lastCap: lastCap),
                     try CapabilityTable.mask(caps?.ambient, lastCap: lastCap))
        guard let args = process.args, !args.isEmpty else { throw RuntimeError("exec: process.args must name a program") }
        let baseEnv = process.env ?? []
        let pathEnv = baseEnv.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ""
        let groups = process.user.additionalGids ?? []
        let filter = config.seccompFilter ?? []
        let notFound = "exec: \"\(args[0])\": executable file not found in $PATH"
        let execStage = "exec \"\(args[0])\""
        let env = Self.withHome(baseEnv, user: process.user, passwd: Self.containerPasswd(pid: targetPid))
        let spawned = try withCStrings(args) { argv in
            try withCStrings(env) { envp in
                try process.cwd.withCString { cwd in
                    try pathEnv.withCString { path in
                     try notFound.withCString { notFoundStage in
                      try execStage.withCString { execStageC in
                        try groups.withUnsafeBufferPointer { groupBuffer in
                            try filter.withUnsafeBytes { filterBytes in
                                var setup = berth_exec_process(
                                    cwd: cwd, path_env: path, uid: process.user.uid, gid: process.user.gid,
                                    groups: groupBuffer.baseAddress, group_count: groups.count,
                                    cap_bounding: masks.0, cap_effective: masks.1, cap_permitted: masks.2,
                                    cap_inheritable: masks.3, cap_ambient: masks.4, last_cap: lastCap,
                                    no_new_privs: process.noNewPrivileges == true ? 1 : 0,
                                    seccomp_filter: filter.isEmpty ? nil : filterBytes.baseAddress, seccomp_len: filter.count,
                                    seccomp_flags: config.seccompFlags, console_socket: consoleSocketFD ?? -1,
                                    rows: UInt16(truncatingIfNeeded: process.consoleSize?.height ?? 0),
                                    cols: UInt16(truncatingIfNeeded: process.consoleSize?.width ?? 0),
                                    umask: process.user.umask.map { Int32($0) } ?? -1, preserve_fds: config.preserveFDs,
                                    not_found_stage: notFoundStage, exec_stage: execStageC)
                                return try spawn(flags: 0, joins: joins, waitForGo: false, forkAfterJoin: needsFork,
                                                 argv: argv, envp: envp, process: &setup, cgroup: cgroup)
                            }
                        }
                      }
                     }
                    }
                }
            }
        }
        defer { close(spawned.sync) }
        var pid = spawned.pid
        do {
            if needsFork {
                let message = try receive(spawned.sync, from: spawned.pid)
                guard message.type == BERTH_SYNC_PID.rawValue else { throw RuntimeError("exec: expected the process's pid") }
                pid = message.pid
                var status: Int32 = 0
                waitpid(spawned.pid, &status, 0) // the intermediate exits at once
            }
            try moveIntoCgroup(cgroup, spawned, pid: pid)
            try sendGo(spawned.sync, to: pid)
            // Success is the socket closing at exec; a failure arrives as ERROR.
            var message = berth_sync_msg()
            if berth_sync_recv(spawned.sync, &message) == 0, let error = Self.reportedError(message) { throw error }
            return pid
        } catch {
            kill(pid, SIGKILL)
            throw error
        }
    }

    /// Clones the child. Without `process` it execs the sealed runtime as `init` with
    /// the config memfd; with `process` it runs the C exec path with `argv`/`envp`.
    private func spawn(flags: UInt64, joins: [(fd: Int32, type: Int32)], waitForGo: Bool, forkAfterJoin: Bool,
                       argv userArgv: UnsafePointer<UnsafeMutablePointer<CChar>?>? = nil,
                       envp userEnvp: UnsafePointer<UnsafeMutablePointer<CChar>?>? = nil,
                       process: UnsafePointer<berth_exec_process>? = nil,
                       becomeRoot: Bool = false, unshareAfterGo: Int32 = 0,
                       cgroup: Cgroup? = nil, v1JoinAfterGo: Bool = false) throws -> Spawned {
        // The child joins the cgroup by itself unless a user namespace is involved: then
        // the parent moves it (see proto-docs/runtime-init.md, "Joining the cgroup").
        let selfJoin = !becomeRoot && !joins.contains { $0.type == NamespaceTable.flags["user"]! }
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SystemError(errno: errno, stage: "socketpair")
        }
        let parentEnd = pair[0], childEnd = pair[1]
        _ = fcntl(childEnd, F_SETFD, 0) // the init keeps its end across exec
        defer { close(childEnd) }
        let exe = berth_sealed_self_exe()
        guard exe >= 0 else { close(parentEnd); throw SystemError(errno: -exe, stage: "seal runtime binary") }
        defer { close(exe) }
        let configFD: Int32
        do { configFD = try writeConfig() } catch { close(parentEnd); throw error }
        defer { close(configFD) }
        // Descriptors the init must inherit lose close-on-exec; nothing else does.
        for fd in [config.fifoFD, consoleSocketFD].compactMap({ $0 }) { _ = fcntl(fd, F_SETFD, 0) }
        // The cgroup files the child joins through (all of them, or none: the parent then
        // moves it in). Close-on-exec: no process in the container ever holds them.
        var taskFDs: [Int32] = []
        var cgroupFD: Int32 = -1
        defer {
            taskFDs.forEach { close($0) }
            if cgroupFD >= 0 { close(cgroupFD) }
        }
        let taskFiles = selfJoin ? cgroup?.v1TaskFiles ?? [] : []
        // Joined after GO by path instead when the directories do not exist yet.
        let taskPaths = v1JoinAfterGo ? taskFiles : []
        var joinedV1 = selfJoin && (v1JoinAfterGo || taskFiles.isEmpty)
        if let cgroup, selfJoin {
            if !v1JoinAfterGo {
                for file in taskFiles {
                    let fd = open(file, O_WRONLY | O_CLOEXEC)
                    if fd < 0 { break }
                    taskFDs.append(fd)
                }
                joinedV1 = taskFDs.count == taskFiles.count
                if !joinedV1 {
                    taskFDs.forEach { close($0) }
                    taskFDs = []
                }
            }
            // CLONE_INTO_CGROUP only for a create's init: the clone is held to the
            // cgroup's pids limit, and an exec into a full container must still work
            // (the parent's move in is not).
            if process == nil, !forkAfterJoin, let dir = cgroup.unifiedDirectory {
                cgroupFD = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            }
        }
        var intoCgroup: Int32 = 0

        let argv = ["berth-runtime", "init"]
        let envp = ["\(initEnvironmentKey)=\(configFD),\(childEnd)"]
        let pid: Int32 = withCStrings(argv) { initArgv in
            withCStrings(envp) { initEnvp in
                let cargv = process == nil ? initArgv : userArgv!
                let cenvp = process == nil ? initEnvp : userEnvp!
                let fds = joins.map(\.fd), types = joins.map(\.type)
                return fds.withUnsafeBufferPointer { fdp in
                    types.withUnsafeBufferPointer { tp in
                        taskFDs.withUnsafeBufferPointer { taskp in
                          withCStrings(taskPaths) { pathp in
                            withUnsafeMutablePointer(to: &intoCgroup) { used in
                                var args = berth_spawn_args(
                                    clone_flags: flags, sync_fd: childEnd, exec_fd: exe, join_fds: fdp.baseAddress,
                                    join_types: tp.baseAddress, join_count: Int32(joins.count), wait_for_go: waitForGo ? 1 : 0,
                                    become_root: becomeRoot ? 1 : 0, unshare_after_go: unshareAfterGo,
                                    fork_after_join: forkAfterJoin ? 1 : 0,
                                    cgroup_task_fds: taskp.baseAddress, cgroup_task_fd_count: Int32(taskFDs.count),
                                    cgroup_task_paths: UnsafeRawPointer(pathp).assumingMemoryBound(to: UnsafePointer<CChar>?.self),
                                    cgroup_task_path_count: Int32(taskPaths.count),
                                    cgroup_fd: cgroupFD, cgroup_fd_used: used,
                                    argv: cargv, envp: cenvp, process: process)
                                return berth_spawn(&args, nil)
                            }
                          }
                        }
                    }
                }
            }
        }
        guard pid > 0 else {
            close(parentEnd)
            throw SystemError(errno: -pid, stage: "clone3 (namespaces \(String(flags, radix: 16)))")
        }
        return Spawned(pid: pid, sync: parentEnd,
                       joinedV1: joinedV1,
                       joinedUnified: cgroup?.unifiedDirectory == nil || intoCgroup == 1)
    }

    /// A cloned child, its end of the sync socket, and whether it joined the cgroup by
    /// itself (in the v1 hierarchies; in the unified one).
    struct Spawned {
        let pid: Int32
        let sync: Int32
        let joinedV1: Bool
        let joinedUnified: Bool
    }

    private func writeConfig() throws -> Int32 {
        let fd = berth_memfd("berth-init-config", 0)
        guard fd >= 0 else { throw SystemError(errno: -fd, stage: "memfd_create") }
        // The init loads the compiled filter: the profile itself (hundreds of names in
        // the default one) is not in its view of the spec (InitConfig+Wire.swift).
        let bytes = config.wireBytes()
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard n > 0 else { close(fd); throw SystemError(errno: errno, stage: "write init config") }
            offset += n
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    private func writeIDMappings(pid: Int32) throws {
        func format(_ maps: [Spec.IDMapping]?) -> [UInt8] {
            Array((maps ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined().utf8)
        }
        let linux = config.spec.linux
        try FileSystem.writeExisting("/proc/\(pid)/uid_map", format(linux?.uidMappings))
        try FileSystem.writeExisting("/proc/\(pid)/gid_map", format(linux?.gidMappings))
    }
}

