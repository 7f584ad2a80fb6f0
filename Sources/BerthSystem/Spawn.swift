import CBerthLinux
#if canImport(Glibc)
import Glibc
#endif

/// How to start a program with posix_spawn: which descriptors it gets, and nothing else.
public struct SpawnOptions: Sendable {
    /// Descriptors for the child's 0, 1, 2; nil opens /dev/null there.
    public var stdin: Int32?
    public var stdout: Int32?
    public var stderr: Int32?
    /// More descriptors to hand over, as (ours, the child's number). Every other
    /// descriptor is closed in the child: berthd's and the shim's sockets must never
    /// leak into a runtime, a container or a hook.
    public var extra: [(Int32, Int32)] = []
    /// The child's environment; nil inherits ours.
    public var environment: [String]?
    /// Start the child in a new session (setsid).
    public var newSession = false
    /// Look the program up in $PATH.
    public var searchPath = false
    /// The child's working directory; nil keeps ours.
    public var directory: String?

    public init(stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Starts `path` with `arguments` (argv[0] included) through posix_spawn: an empty
/// signal mask and default signal actions in the child, whatever the calling thread
/// blocks or ignores. Returns the child's pid; the caller reaps it.
public func spawnProcess(_ path: String, _ arguments: [String], _ options: SpawnOptions) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (fd, target) in [(options.stdin, Int32(0)), (options.stdout, 1), (options.stderr, 2)] {
        if let fd {
            posix_spawn_file_actions_adddup2(&actions, fd, target)
        } else {
            posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
        }
    }
    for (fd, target) in options.extra { posix_spawn_file_actions_adddup2(&actions, fd, target) }
    let keep = (options.extra.map(\.1) + [2]).max()! + 1
    _ = berth_spawn_actions_closefrom(&actions, keep)
    if let directory = options.directory { _ = berth_spawn_actions_chdir(&actions, directory) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var all = sigset_t()
    sigfillset(&all)
    sigdelset(&all, SIGKILL)
    sigdelset(&all, SIGSTOP)
    posix_spawnattr_setsigdefault(&attributes, &all)
    var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
    if options.newSession { flags |= 0x80 } // POSIX_SPAWN_SETSID (glibc)
    posix_spawnattr_setflags(&attributes, flags)

    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let envp: [UnsafeMutablePointer<CChar>?]? = options.environment.map { $0.map { strdup($0) } + [nil] }
    defer { envp?.forEach { free($0) } }
    var pid: pid_t = 0
    let rc: Int32 = envp.map { env in
        env.withUnsafeBufferPointer { e in
            options.searchPath
                ? posix_spawnp(&pid, path, &actions, &attributes, argv, e.baseAddress)
                : posix_spawn(&pid, path, &actions, &attributes, argv, e.baseAddress)
        }
    } ?? (options.searchPath
        ? posix_spawnp(&pid, path, &actions, &attributes, argv, environ)
        : posix_spawn(&pid, path, &actions, &attributes, argv, environ))
    guard rc == 0 else { throw SystemError(errno: rc, stage: "start \(path)") }
    return pid
}

/// waitpid for one child, retrying EINTR; the raw wait status.
public func waitForChild(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}
