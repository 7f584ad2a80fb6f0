// The exec path's child, after it joined the container's namespaces: it applies the
// process settings and execs the user's program. No malloc, no locks, no stdio: this
// runs in the child of a threaded process.
#include "CBerthRuntime.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

static void fail(int sync_fd, int err, const char *stage) {
    berth_sync_send(sync_fd, BERTH_SYNC_ERROR, err, 0, stage);
    _exit(1);
}

#define CHECK(expr, stage) do { if ((expr) < 0) fail(a->sync_fd, errno, stage); } while (0)
#define CHECKRC(expr, stage) do { int rc_ = (expr); if (rc_ < 0) fail(a->sync_fd, -rc_, stage); } while (0)

// PATH lookup inside the container, into a caller's buffer.
static int lookup(const char *program, const char *path_env, char *out, size_t size) {
    if (strchr(program, '/')) {
        if (strlen(program) >= size) return -ENAMETOOLONG;
        memcpy(out, program, strlen(program) + 1);
        return 0;
    }
    const char *p = path_env && *path_env ? path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len + 1 + strlen(program) + 1 <= size && len > 0) {
            memcpy(out, p, len);
            out[len] = '/';
            memcpy(out + len + 1, program, strlen(program) + 1);
            struct stat st;
            if (access(out, X_OK) == 0 && stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) return 0;
        }
        if (!end) break;
        p = end + 1;
    }
    return -ENOENT;
}

void berth_exec_in_child(const berth_spawn_args *a) {
    const berth_exec_process *p = a->process;
    berth_sync_msg msg;
    // The parent puts us in the cgroup first.
    if (berth_sync_recv(a->sync_fd, &msg) < 0) _exit(1);
    if (msg.type != BERTH_SYNC_GO) fail(a->sync_fd, EPROTO, "wait for parent");

    if (p->console_socket >= 0) {
        int master, slave;
        CHECKRC(berth_open_pty(&master, &slave), "open pty");
        if (p->rows || p->cols) berth_set_winsize(master, p->rows, p->cols);
        CHECKRC(berth_send_fd(p->console_socket, master), "send pty master to console socket");
        close(master);
        close(p->console_socket);
        for (int fd = 0; fd < 3; fd++) CHECK(dup2(slave, fd), "dup2 pty");
        if (slave > 2) close(slave);
        CHECKRC(berth_setsid_ctty(0), "set controlling terminal");
    }
    if (p->no_new_privs) CHECKRC(berth_set_no_new_privs(), "prctl PR_SET_NO_NEW_PRIVS");
    else if (p->seccomp_filter) CHECKRC(berth_seccomp_load(p->seccomp_filter, p->seccomp_len, p->seccomp_flags), "load seccomp filter");

    for (int cap = 0; cap <= p->last_cap; cap++) {
        if (!(p->cap_bounding & (1ULL << cap))) CHECKRC(berth_cap_bound_drop(cap), "drop capability from the bounding set");
    }
    CHECKRC(berth_set_keepcaps(1), "prctl PR_SET_KEEPCAPS");
    int rc = berth_setgroups(p->group_count, (const gid_t *)p->groups);
    if (rc < 0 && (rc != -EPERM || p->group_count > 0)) fail(a->sync_fd, -rc, "setgroups");
    CHECKRC(berth_setresgid(p->gid), "setresgid");
    CHECKRC(berth_setresuid(p->uid), "setresuid");
    CHECKRC(berth_set_keepcaps(0), "prctl PR_SET_KEEPCAPS");
    CHECKRC(berth_capset(p->cap_effective, p->cap_permitted, p->cap_inheritable), "capset");
    CHECKRC(berth_cap_ambient_clear(), "clear ambient capabilities");
    for (int cap = 0; cap <= p->last_cap; cap++) {
        if (p->cap_ambient & (1ULL << cap)) CHECKRC(berth_cap_ambient_raise(cap), "raise ambient capability");
    }
    umask(p->umask < 0 ? 022 : (mode_t)p->umask);
    if (chdir(p->cwd) != 0) fail(a->sync_fd, errno, "chdir to the process's cwd");

    char path[4096];
    rc = lookup(a->argv[0], p->path_env, path, sizeof path);
    if (rc < 0) fail(a->sync_fd, -rc, p->not_found_stage ? p->not_found_stage : "exec: executable file not found in $PATH");
    CHECKRC(berth_cloexec_from(3 + p->preserve_fds), "mark descriptors close-on-exec");
    // The sync socket is close-on-exec: the parent reads EOF when the exec succeeds.
    int fl = fcntl(a->sync_fd, F_GETFD);
    if (fl >= 0) fcntl(a->sync_fd, F_SETFD, fl | FD_CLOEXEC);
    if (p->no_new_privs && p->seccomp_filter)
        CHECKRC(berth_seccomp_load(p->seccomp_filter, p->seccomp_len, p->seccomp_flags), "load seccomp filter");
    execve(path, a->argv, a->envp);
    fail(a->sync_fd, errno, p->exec_stage ? p->exec_stage : "exec the process");
}
