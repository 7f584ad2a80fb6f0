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

#endif
