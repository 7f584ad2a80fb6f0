#ifndef BERTH_LINUX_H
#define BERTH_LINUX_H
#include <stdint.h>
#include <sys/types.h>

/// The git commit this build was made from (set by Package.swift), or "unknown".
const char *berth_git_commit(void);

/// Credentials of the peer of a connected UNIX socket (SO_PEERCRED). 0 or -errno.
int berth_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/// The layout of Linux's struct ucred, for reading SO_PEERCRED through an API that
/// takes the option's value type (SwiftNIO's SocketOptionProvider).
typedef struct berth_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
} berth_ucred;
#define BERTH_SOL_SOCKET 1
#define BERTH_SO_PEERCRED 17

/// statfs(2) f_type of a path, or -errno as a negative number.
int64_t berth_statfs_type(const char *path);

/// The filesystem magics Berth tells apart (linux/magic.h).
#define BERTH_CGROUP2_SUPER_MAGIC 0x63677270
#define BERTH_CGROUP_SUPER_MAGIC  0x27e0eb
#define BERTH_TMPFS_MAGIC         0x01021994
#define BERTH_OVERLAYFS_MAGIC     0x794c7630

/// flock(fd, LOCK_EX|LOCK_NB): 0, or -errno (-EWOULDBLOCK when another holds it).
int berth_try_lock_exclusive(int fd);

// MARK: cgroups (cgroups.c)

/// An eventfd (EFD_CLOEXEC|EFD_NONBLOCK) for cgroup v1 memory notifications. fd or -errno.
int berth_eventfd_nonblocking(void);

/// An inotify fd (IN_CLOEXEC|IN_NONBLOCK) watching `path` for IN_MODIFY. fd or -errno.
int berth_inotify_watch_modify(const char *path);

/// One cgroup device rule: type 'a', 'b' or 'c'; major/minor -1 for any; access bits
/// 1 mknod, 2 read, 4 write (BPF_DEVCG_ACC_*).
typedef struct berth_device_rule {
    int32_t allow;
    int32_t type;
    int64_t major;
    int64_t minor;
    int32_t access;
} berth_device_rule;

/// Compiles `rules` (the last match wins; no match gives `default_allow`) to a
/// BPF_PROG_TYPE_CGROUP_DEVICE program, attaches it to the cgroup2 directory
/// `cgroup_fd` (BPF_F_ALLOW_MULTI) and detaches the device programs attached there
/// before. The verifier's log lands in `log` when loading fails. 0 or -errno.
int berth_cgroup_device_filter(int cgroup_fd, const berth_device_rule *rules, int count,
                               int default_allow, char *log, size_t log_size);

/// How many device programs are attached to the cgroup2 directory `cgroup_fd`, or -errno.
int berth_cgroup_device_program_count(int cgroup_fd);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34, behind _GNU_SOURCE): the
/// spawned program inherits no descriptor at or above `from` (berthd's sockets among them).
#include <spawn.h>
int berth_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int from);

#endif
