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
// MARK: mounts and file copies (mount.c)

/// mount(2). 0 or -errno.
int berth_mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data);

/// umount2(2). 0 or -errno.
int berth_umount2(const char *target, int flags);

/// mount(2) run in a forked child that first chdir()s to `dir`, so relative paths in
/// `data` (overlay's lowerdir/upperdir/workdir) resolve under `dir` and stay short.
/// The parent's working directory never changes. 0 or -errno (the child's).
int berth_mount_in_directory(const char *dir, const char *source, const char *target,
                             const char *type, unsigned long flags, const char *data);

/// Mounts an overlay with the new mount API: fsopen("overlay"), one fsconfig
/// `lowerdir+` per entry of `lowers` (topmost first), then each `key=value` or flag
/// word of `params` (upperdir=…, workdir=…, index=off, userxattr…), fsmount and
/// move_mount onto `target`. `flags` are mount(2) flags (MS_RDONLY, MS_NOSUID…), applied
/// as the mount's attributes. No 4096-byte limit on the layer list. 0 or -errno; on
/// failure the kernel's message, if any, is in `message`.
int berth_overlay_fsmount(const char *target, const char *const *lowers, int lower_count,
                          const char *const *params, int param_count, unsigned long flags,
                          char *message, int message_size);

/// syncfs(2) on the file system holding `fd`. 0 or -errno.
int berth_syncfs(int fd);

/// l{list,get,set}xattr(2): byte counts or -errno.
long berth_llistxattr(const char *path, char *list, unsigned long size);
long berth_lgetxattr(const char *path, const char *name, void *value, unsigned long size);
int berth_lsetxattr(const char *path, const char *name, const void *value, unsigned long size);

/// mknodat(2) (device numbers as makedev(major, minor) already). 0 or -errno.
int berth_mknodat(int dirfd, const char *name, unsigned int mode, unsigned long long dev);

/// The mount flags mount(8) option words map to.
#define BERTH_MS_RDONLY      1UL
#define BERTH_MS_NOSUID      2UL
#define BERTH_MS_NODEV       4UL
#define BERTH_MS_NOEXEC      8UL
#define BERTH_MS_SYNCHRONOUS 16UL
#define BERTH_MS_REMOUNT     32UL
#define BERTH_MS_MANDLOCK    64UL
#define BERTH_MS_DIRSYNC     128UL
#define BERTH_MS_NOATIME     1024UL
#define BERTH_MS_NODIRATIME  2048UL
#define BERTH_MS_BIND        4096UL
#define BERTH_MS_REC         16384UL
#define BERTH_MS_PRIVATE     (1UL << 18)
#define BERTH_MS_SLAVE       (1UL << 19)
#define BERTH_MS_SHARED      (1UL << 20)
#define BERTH_MS_RELATIME    (1UL << 21)
#define BERTH_MS_STRICTATIME (1UL << 24)
#define BERTH_MNT_DETACH     2

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34, behind _GNU_SOURCE): the
/// spawned program inherits no descriptor at or above `from` (berthd's sockets among them).
#include <spawn.h>
int berth_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int from);

/// posix_spawn_file_actions_addchdir_np (glibc 2.29, behind _GNU_SOURCE): the spawned
/// program starts in `dir`.
int berth_spawn_actions_chdir(posix_spawn_file_actions_t *actions, const char *dir);

/// One malloc arena for every thread (mallopt M_ARENA_MAX 1), for a process that must
/// stay small (the shim): glibc otherwise gives each thread that allocates its own
/// 64 MiB arena, each with pages of its own. Call before any thread starts.
int berth_malloc_single_arena(void);

/// Installs `hook` as the Swift runtime's `swift_task_enqueueGlobal_hook`, so that Swift
/// concurrency's jobs run where the hook puts them (the shim: its one I/O thread) and
/// not on a pool of worker threads. NIO's own installer finds the hook with dlsym,
/// which sees nothing in an executable with the Swift runtime linked in statically.
/// 0, -ENOSYS when the runtime has no such hook, -EBUSY when one is installed already.
/// Call before any job is enqueued.
int berth_install_enqueue_global_hook(const void *hook);

/// Blocks SIGCHLD in the calling thread (and so in every thread it starts afterwards):
/// the shim reads it from a signalfd instead. 0 or -errno.
int berth_block_sigchld(void);

/// A signalfd (non-blocking, close-on-exec) that reads SIGCHLD. fd or -errno.
int berth_sigchld_fd(void);

#include "CBerthLinuxArchive.h"

#endif
