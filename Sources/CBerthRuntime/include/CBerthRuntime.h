#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H
// The runtime's C: everything that runs between clone and exec (no Swift may run there
// in a threaded process), and the system calls the container init makes that Swift's
// Glibc module does not show. Every function returns -errno on failure.
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// ---- the sync vocabulary (proto-docs/runtime-init.md) ------------------------------
// Parent (berth-runtime create/exec) and child talk over a SOCK_SEQPACKET socketpair;
// each message is one berth_sync_msg.
enum berth_sync_type {
    BERTH_SYNC_GO = 1,         // parent → child: id maps written, cgroup joined: go on
    BERTH_SYNC_ERROR = 2,      // child/init → parent: failed; err = errno, stage says where
    BERTH_SYNC_HOOKS = 3,      // init → parent: mounts done, run prestart/createRuntime hooks
    BERTH_SYNC_HOOKS_DONE = 4, // parent → init: hooks ran; go on to pivot_root
    BERTH_SYNC_READY = 5,      // init → parent: set up; waiting on the exec fifo
    BERTH_SYNC_PID = 6,        // child → parent: pid of the process that will exec (pid ns join)
};

typedef struct berth_sync_msg {
    uint32_t type;
    int32_t err;
    int32_t pid;
    char stage[244];
} berth_sync_msg;

int berth_sync_send(int fd, uint32_t type, int32_t err, int32_t pid, const char *stage);
/// Reads one message; 0 on success, -errno, or -ECONNRESET when the peer closed.
int berth_sync_recv(int fd, berth_sync_msg *msg);

// ---- spawning ---------------------------------------------------------------------
typedef struct berth_spawn_args {
    uint64_t clone_flags;     // CLONE_NEW* namespaces to create
    int sync_fd;              // the child's end of the sync socketpair (inherited)
    int exec_fd;              // the executable to fexecve (the sealed runtime)
    const int *join_fds;      // namespaces to join with setns, in this order
    const int *join_types;    // CLONE_NEW* type of each
    int join_count;
    int wait_for_go;          // block until BERTH_SYNC_GO before joining and exec
    int become_root;          // after GO: setresgid/setresuid(0) (a new user namespace's root)
    int unshare_after_go;     // after GO: unshare these CLONE_NEW* flags (cgroup: after the cgroup join)
    int fork_after_join;      // fork once more after setns (needed to enter a pid ns)
    /// The container's cgroup, joined by the child itself (no cgroup.procs write by the
    /// parent, which waits for an RCU grace period: 5-20 ms). v1: the child writes "0"
    /// into each hierarchy's `tasks` file first thing (a thread moving itself skips the
    /// kernel's global threadgroup lock, Linux >= 6.0). cgroup2: clone3 CLONE_INTO_CGROUP.
    const int *cgroup_task_fds;
    int cgroup_task_fd_count;
    /// Or v1 `tasks` files the child opens and writes "0" into after GO, before the
    /// cgroup namespace: the parent made those directories on a second thread while the
    /// clone ran (create only; never with a user namespace or a fork after the join).
    const char *const *cgroup_task_paths;
    int cgroup_task_path_count;
    int cgroup_fd;            // >= 0: a cgroup2 directory to clone into; -1: none
    int *cgroup_fd_used;      // out (may be NULL): 1 when the clone went into cgroup_fd
    char *const *argv;
    char *const *envp;
    /// When set, the child does not exec the runtime: it sets up this process itself
    /// (exec into a running container, whose root has no runtime or loader in it).
    const struct berth_exec_process *process;
} berth_spawn_args;

/// Everything an exec'd process needs, prepared by Swift before the clone, applied by
/// the child in C after it has joined the container's namespaces.
typedef struct berth_exec_process {
    const char *cwd;
    const char *path_env;          // $PATH for looking up argv[0] inside the container
    uint32_t uid, gid;
    const uint32_t *groups;
    size_t group_count;
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    int last_cap;
    int no_new_privs;
    const void *seccomp_filter;    // NULL: none
    size_t seccomp_len;
    unsigned seccomp_flags;
    int console_socket;            // >= 0: allocate a pty, send its master here
    unsigned short rows, cols;
    int umask;                     // < 0: 022
    int preserve_fds;
    const char *not_found_stage;   // error stage when argv[0] is not found
    const char *exec_stage;        // error stage when execve fails
} berth_exec_process;

/// Clones a child (with clone3) that waits for GO, joins namespaces, and fexecve()s
/// exec_fd. Runs only async-signal-safe code in the child. Returns the child's pid
/// (and *pidfd when CLONE_PIDFD is wanted: pass non-NULL) or -errno.
pid_t berth_spawn(const berth_spawn_args *args, int *pidfd);

/// /proc/self/exe in a form the container can never write to (CVE-2019-5736): opened
/// through a private read-only overlayfs mount attached nowhere (runc 1.2's way: no
/// copy, the page cache shared), or, where that cannot be mounted, a sealed memfd copy.
/// Returns the fd or -errno.
int berth_sealed_self_exe(void);

// ---- the container init's calls ----------------------------------------------------
// berth_mount() is CBerthLinux's (mount.c), shared with the snapshotters.
int berth_umount(const char *target, int flags);
/// mount_setattr(2) read-only (recursive with AT_RECURSIVE); -ENOSYS on old kernels.
int berth_mount_setattr_rdonly(int dirfd, const char *path, int recursive);
/// pivot_root(".", ".") into rootfs and detach the old root.
int berth_pivot_root(const char *rootfs);
/// Moves rootfs over / (MS_MOVE + chroot), for roots on ramfs where pivot_root fails.
int berth_move_root(const char *rootfs);

/// Opens `path` resolved inside the tree at root_fd: symlinks and ".." cannot leave it
/// (openat2 RESOLVE_IN_ROOT, or a component-by-component walk where openat2 is missing).
int berth_open_in_root(int root_fd, const char *path, int flags, unsigned mode);
/// The walk used where openat2 is missing (exposed for tests).
int berth_open_in_root_fallback(int root_fd, const char *path, int flags, unsigned mode);
/// Creates every missing directory of `path` inside root_fd; returns an O_PATH fd.
int berth_mkdir_all_in_root(int root_fd, const char *path, unsigned mode);
/// Creates an empty regular file at `path` inside root_fd if none exists; O_PATH fd.
int berth_mkfile_in_root(int root_fd, const char *path, unsigned mode);

int berth_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int berth_cap_bound_drop(int cap);
int berth_cap_ambient_clear(void);
int berth_cap_ambient_raise(int cap);
int berth_cap_last_cap(void);
int berth_set_keepcaps(int on);
int berth_set_no_new_privs(void);
int berth_set_child_subreaper(void);
int berth_set_pdeathsig(int sig);
int berth_seccomp_load(const void *filter, size_t len, unsigned flags);
int berth_setresuid(uid_t uid);
int berth_setresgid(gid_t gid);
int berth_setgroups(size_t count, const gid_t *groups);
int berth_sethostname(const char *name);
int berth_setdomainname(const char *name);
int berth_personality(unsigned long persona);
int berth_setsid_ctty(int tty_fd);
/// Opens a pty pair from the devpts mounted at /dev/pts; *slave is opened O_RDWR.
int berth_open_pty(int *master, int *slave);
int berth_set_winsize(int fd, unsigned short rows, unsigned short cols);
int berth_send_fd(int sock, int fd);
int berth_recv_fd(int sock);
/// Marks every fd >= first close-on-exec (close_range CLOSE_RANGE_CLOEXEC or a walk of
/// /proc/self/fd): no host fd leaks into the container (CVE-2024-21626).
int berth_cloexec_from(int first);
int berth_execve(const char *path, char *const argv[], char *const envp[]);
int berth_mknod(int dirfd, const char *name, unsigned mode, unsigned major, unsigned minor);
/// Sends `sig` through a pidfd, so a recycled pid is never signalled.
int berth_pidfd_send_signal(int pidfd, int sig);
int berth_pidfd_open(pid_t pid);

/// memfd_create(2) (not in Swift's Glibc module); -errno on failure.
int berth_memfd(const char *name, unsigned flags);
int berth_unshare(int flags);

/// As berth_open_in_root, but no component may be a symlink (for /proc and /sys
/// mount points, which must be real directories: a planted symlink fails with ELOOP).
int berth_open_in_root_nofollow(int root_fd, const char *path, int flags);

/// Constants Swift's Glibc module hides behind _GNU_SOURCE.
#define BERTH_O_PATH 010000000
#define BERTH_ST_NODEV 4
#define BERTH_ST_NOEXEC 8
/// pipe2(fds, O_CLOEXEC).
int berth_pipe_cloexec(int fds[2]);

/// Brings the loopback interface up (in a new network namespace it starts down).
int berth_loopback_up(void);

#endif
