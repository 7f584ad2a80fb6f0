// Linux calls that Swift's Glibc module does not show (SO_PEERCRED's struct ucred needs
// _GNU_SOURCE) and build facts. Every function returns -errno on failure so Swift never
// has to read errno across a call boundary.
#include "CBerthLinux.h"
#include <errno.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <spawn.h>

#define BERTH_STR2(x) #x
#define BERTH_STR(x) BERTH_STR2(x)

const char *berth_git_commit(void) {
#ifdef BERTH_GIT_COMMIT
    return BERTH_STR(BERTH_GIT_COMMIT);
#else
    return "unknown";
#endif
}

int berth_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -errno;
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

int64_t berth_statfs_type(const char *path) {
    struct statfs st;
    if (statfs(path, &st) != 0) return -errno;
    return (int64_t)(unsigned long)st.f_type;
}

int berth_try_lock_exclusive(int fd) {
    int rc;
    do { rc = flock(fd, LOCK_EX | LOCK_NB); } while (rc != 0 && errno == EINTR);
    return rc == 0 ? 0 : -errno;
}

int berth_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return -posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int berth_spawn_actions_chdir(posix_spawn_file_actions_t *actions, const char *dir) {
    return -posix_spawn_file_actions_addchdir_np(actions, dir);
}

int berth_malloc_single_arena(void) {
    return mallopt(M_ARENA_MAX, 1) == 1 ? 0 : -EINVAL;
}

// The Swift runtime's hook (a function pointer; weak: absent in a program without
// Swift concurrency).
extern const void *swift_task_enqueueGlobal_hook __attribute__((weak));

int berth_install_enqueue_global_hook(const void *hook) {
    if (&swift_task_enqueueGlobal_hook == NULL) return -ENOSYS;
    if (swift_task_enqueueGlobal_hook != NULL) return -EBUSY;
    swift_task_enqueueGlobal_hook = hook;
    return 0;
}

int berth_block_sigchld(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    return rc == 0 ? 0 : -rc;
}

int berth_sigchld_fd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}
