// Spawning: clone3 into new namespaces, wait for the parent's GO, join namespaces,
// fexecve. The child side runs only async-signal-safe code: the parent is a Swift
// process with threads, where anything else (malloc, locks) could deadlock.
#include "CBerthRuntime.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grp.h>
#include <sys/prctl.h>

int berth_sync_send(int fd, uint32_t type, int32_t err, int32_t pid, const char *stage) {
    berth_sync_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.type = type;
    msg.err = err;
    msg.pid = pid;
    if (stage) {
        size_t n = strlen(stage);
        if (n >= sizeof msg.stage) n = sizeof msg.stage - 1;
        memcpy(msg.stage, stage, n);
    }
    ssize_t rc;
    do { rc = send(fd, &msg, sizeof msg, MSG_NOSIGNAL); } while (rc < 0 && errno == EINTR);
    return rc == (ssize_t)sizeof msg ? 0 : -errno;
}

int berth_sync_recv(int fd, berth_sync_msg *msg) {
    ssize_t rc;
    do { rc = recv(fd, msg, sizeof *msg, 0); } while (rc < 0 && errno == EINTR);
    if (rc < 0) return -errno;
    if (rc == 0) return -ECONNRESET;
    if (rc != (ssize_t)sizeof *msg) return -EPROTO;
    msg->stage[sizeof msg->stage - 1] = 0;
    return 0;
}

// Child-side failure: report (errno, stage) and exit. Async-signal-safe.
static void child_fail(int sync_fd, int err, const char *stage) {
    berth_sync_send(sync_fd, BERTH_SYNC_ERROR, err, 0, stage);
    _exit(1);
}

static const char *ns_stage(int type) {
    switch (type) {
    case CLONE_NEWUSER: return "setns user";
    case CLONE_NEWPID: return "setns pid";
    case CLONE_NEWNET: return "setns net";
    case CLONE_NEWNS: return "setns mnt";
    case CLONE_NEWIPC: return "setns ipc";
    case CLONE_NEWUTS: return "setns uts";
    case CLONE_NEWCGROUP: return "setns cgroup";
    default: return "setns";
    }
}

void berth_exec_in_child(const berth_spawn_args *a);

// The child moves itself into the container's v1 cgroups (see berth_spawn_args).
static void join_cgroup(const berth_spawn_args *a) {
    for (int i = 0; i < a->cgroup_task_fd_count; i++) {
        if (write(a->cgroup_task_fds[i], "0", 1) != 1) child_fail(a->sync_fd, errno, "join cgroup (write 0 to tasks)");
    }
}

// The same through paths, for v1 directories made after the clone (see berth_spawn_args).
static void join_cgroup_by_path(const berth_spawn_args *a) {
    for (int i = 0; i < a->cgroup_task_path_count; i++) {
        int fd = open(a->cgroup_task_paths[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0) child_fail(a->sync_fd, errno, "join cgroup (open tasks)");
        if (write(fd, "0", 1) != 1) child_fail(a->sync_fd, errno, "join cgroup (write 0 to tasks)");
        close(fd);
    }
}

pid_t berth_spawn(const berth_spawn_args *a, int *pidfd) {
    sigset_t all, old;
    sigfillset(&all);
    // Block every signal across the clone so no handler of the parent runs in the child.
    pthread_sigmask(SIG_SETMASK, &all, &old);

    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = a->clone_flags | (pidfd ? CLONE_PIDFD : 0);
    ca.exit_signal = SIGCHLD;
    int child_pidfd = -1;
    if (pidfd) ca.pidfd = (uint64_t)(uintptr_t)&child_pidfd;
    if (a->cgroup_fd >= 0) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)a->cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0 && a->cgroup_fd >= 0) {
        // A kernel without CLONE_INTO_CGROUP, a cgroup it refuses, or one at its pids
        // limit (a move in is not held to it): the parent moves the child in instead.
        ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
        ca.cgroup = 0;
        pid = syscall(SYS_clone3, &ca, sizeof ca);
        if (pid > 0 && a->cgroup_fd_used) *a->cgroup_fd_used = 0;
    } else if (pid > 0 && a->cgroup_fd_used) {
        *a->cgroup_fd_used = a->cgroup_fd >= 0;
    }
    if (pid < 0) {
        int err = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -err;
    }
    if (pid > 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (pidfd) *pidfd = child_pidfd;
        return (pid_t)pid;
    }

    // ---- child: async-signal-safe only from here to exec ----
    // Default dispositions for everything, then the parent's original mask back.
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigaction(sig, &sa, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    // Not dumpable while this image (the host's runtime binary) is mapped: no process in
    // the container can open /proc/<pid>/exe of it (CVE-2019-5736 through exec). The
    // execve of the user's program restores the default.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    // Into the container's cgroup before anything else runs (and before the cgroup
    // namespace is made, so its root is this cgroup): "0" is the writing thread itself.
    // An exec's child that forks once more joins in the process it forks instead: a fork
    // inside a cgroup at its pids limit fails, a move in does not. (A create joins here
    // always: its cgroup namespace, made after GO below, must be rooted in the cgroup.)
    if (!(a->fork_after_join && a->process)) join_cgroup(a);

    if (a->wait_for_go) {
        berth_sync_msg msg;
        int rc = berth_sync_recv(a->sync_fd, &msg);
        if (rc < 0) _exit(1); // parent gone: nothing to report to
        if (msg.type != BERTH_SYNC_GO) child_fail(a->sync_fd, EPROTO, "wait for parent");
        if (a->become_root) {
            // The id maps are written: become the namespace's root, or exec drops every capability.
            if (syscall(SYS_setresgid, 0, 0, 0) != 0) child_fail(a->sync_fd, errno, "setresgid 0 in the user namespace");
            if (syscall(SYS_setresuid, 0, 0, 0) != 0) child_fail(a->sync_fd, errno, "setresuid 0 in the user namespace");
            if (setgroups(0, NULL) != 0 && errno != EPERM) child_fail(a->sync_fd, errno, "setgroups in the user namespace");
        }
        join_cgroup_by_path(a);
        if (a->unshare_after_go && unshare(a->unshare_after_go) != 0) child_fail(a->sync_fd, errno, "unshare cgroup namespace");
    }
    // The user namespace first: joining it grants the rights to join the others.
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < a->join_count; i++) {
            int is_user = a->join_types[i] == CLONE_NEWUSER;
            if ((pass == 0) != is_user) continue;
            if (setns(a->join_fds[i], a->join_types[i]) != 0) child_fail(a->sync_fd, errno, ns_stage(a->join_types[i]));
        }
    }
    if (a->fork_after_join) {
        // setns(CLONE_NEWPID) only affects children: fork so the exec happens inside.
        pid_t inner = fork();
        if (inner < 0) child_fail(a->sync_fd, errno, "fork into pid namespace");
        if (inner > 0) {
            berth_sync_send(a->sync_fd, BERTH_SYNC_PID, 0, inner, "forked");
            _exit(0);
        }
        if (a->process) join_cgroup(a);
    }
    if (a->process) berth_exec_in_child(a); // does not return
    syscall(SYS_execveat, a->exec_fd, "", a->argv, a->envp, AT_EMPTY_PATH);
    child_fail(a->sync_fd, errno, "exec runtime init");
    return -1;
}

// A copy of the binary in memory: the fallback when the overlay below cannot be made
// (no new mount API, no overlayfs, no privilege to mount).
static int sealed_memfd_copy(void) {
    int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0) return -errno;
    struct stat st;
    if (fstat(src, &st) != 0) { int e = errno; close(src); return -e; }
    int mfd = (int)syscall(SYS_memfd_create, "berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0) { int e = errno; close(src); return -e; }
    off_t remaining = st.st_size;
    while (remaining > 0) {
        ssize_t n = sendfile(mfd, src, NULL, (size_t)remaining);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { int e = n < 0 ? errno : EIO; close(src); close(mfd); return -e; }
        remaining -= n;
    }
    close(src);
    if (fchmod(mfd, 0555) != 0 ||
        fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
        int e = errno;
        close(mfd);
        return -e;
    }
    return mfd;
}

// /proc/self/exe opened through a private, read-only overlayfs mount that is never
// attached anywhere (runc 1.2's protection): the kernel refuses any write to a file of
// an overlay without an upper layer (EROFS), nobody can reach the mount to change it,
// and exec shares the binary's page cache instead of copying 16 MB per container.
// The overlay's lower layers are the binary's directory and an empty detached tmpfs
// (an overlay without upper needs two). Returns the fd or -errno.
static int overlay_sealed_self_exe(void) {
    char path[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
    if (len <= 0) return -EINVAL;
    path[len] = 0;
    char *slash = strrchr(path, '/');
    // A deleted binary, or a directory the legacy option string cannot carry.
    if (slash == NULL || strstr(path, " (deleted)") != NULL || strpbrk(path, ":,\\") != NULL) return -EINVAL;
    *slash = 0;
    const char *dir = path[0] ? path : "/";
    const char *base = slash + 1;
    int err = 0, tmpfs_fs = -1, tmpfs_mnt = -1, ovl_fs = -1, ovl_mnt = -1, fd = -1;
    tmpfs_fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (tmpfs_fs < 0) { err = errno; goto out; }
    if (syscall(SYS_fsconfig, tmpfs_fs, FSCONFIG_SET_STRING, "size", "4k", 0) != 0 ||
        syscall(SYS_fsconfig, tmpfs_fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) { err = errno; goto out; }
    tmpfs_mnt = (int)syscall(SYS_fsmount, tmpfs_fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
    if (tmpfs_mnt < 0) { err = errno; goto out; }
    char lower[PATH_MAX + 64];
    if (snprintf(lower, sizeof lower, "%s:/proc/self/fd/%d", dir, tmpfs_mnt) >= (int)sizeof lower) { err = ENAMETOOLONG; goto out; }
    ovl_fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (ovl_fs < 0) { err = errno; goto out; }
    if (syscall(SYS_fsconfig, ovl_fs, FSCONFIG_SET_STRING, "source", "berth-runtime", 0) != 0 ||
        syscall(SYS_fsconfig, ovl_fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) != 0 ||
        syscall(SYS_fsconfig, ovl_fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) { err = errno; goto out; }
    ovl_mnt = (int)syscall(SYS_fsmount, ovl_fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
    if (ovl_mnt < 0) { err = errno; goto out; }
    fd = openat(ovl_mnt, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) { err = errno; goto out; }
    // It must be the binary that runs now, not whatever holds its name since.
    struct stat a, b;
    if (stat("/proc/self/exe", &a) != 0 || fstat(fd, &b) != 0 || a.st_size != b.st_size || !S_ISREG(b.st_mode)) {
        err = ESTALE;
        close(fd);
        fd = -1;
    }
out:
    if (ovl_mnt >= 0) close(ovl_mnt);
    if (ovl_fs >= 0) close(ovl_fs);
    if (tmpfs_mnt >= 0) close(tmpfs_mnt);
    if (tmpfs_fs >= 0) close(tmpfs_fs);
    return fd >= 0 ? fd : -err;
}

int berth_sealed_self_exe(void) {
    int fd = overlay_sealed_self_exe();
    return fd >= 0 ? fd : sealed_memfd_copy();
}
