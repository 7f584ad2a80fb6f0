// System calls of the container init (single-threaded, after exec) and of the runtime,
// each returning -errno, so Swift never reads errno across a call boundary.
#include "CBerthRuntime.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <sched.h>

#define RET(expr) return (expr) == 0 ? 0 : -errno


int berth_umount(const char *target, int flags) { RET(umount2(target, flags)); }

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
struct berth_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

int berth_mount_setattr_rdonly(int dirfd, const char *path, int recursive) {
#ifdef SYS_mount_setattr
    struct berth_mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
    unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    RET(syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr));
#else
    (void)dirfd; (void)path; (void)recursive;
    return -ENOSYS;
#endif
}

int berth_pivot_root(const char *rootfs) {
    int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0) return -errno;
    int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (newroot < 0) { int e = errno; close(oldroot); return -e; }
    int err = 0;
    if (fchdir(newroot) != 0 || syscall(SYS_pivot_root, ".", ".") != 0) { err = errno; goto out; }
    // The old root is now stacked under the new one at "/": make it private and detach.
    if (fchdir(oldroot) != 0) { err = errno; goto out; }
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) != 0) { err = errno; goto out; }
    if (umount2(".", MNT_DETACH) != 0) { err = errno; goto out; }
    if (chdir("/") != 0) err = errno;
out:
    close(oldroot);
    close(newroot);
    return -err;
}

int berth_move_root(const char *rootfs) {
    if (chdir(rootfs) != 0) return -errno;
    if (mount(rootfs, "/", NULL, MS_MOVE, NULL) != 0) return -errno;
    if (chroot(".") != 0) return -errno;
    RET(chdir("/"));
}

// ---- paths inside the root ---------------------------------------------------------
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#endif
struct berth_open_how { uint64_t flags, mode, resolve; };

int berth_open_in_root(int root_fd, const char *path, int flags, unsigned mode) {
#ifdef SYS_openat2
    struct berth_open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .mode = mode,
                                  .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    long fd;
    do { fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how); } while (fd < 0 && errno == EAGAIN);
    if (fd >= 0) return (int)fd;
    if (errno != ENOSYS) return -errno;
#endif
    return berth_open_in_root_fallback(root_fd, path, flags, mode);
}

// Resolves one component at a time with O_NOFOLLOW; a symlink is read and its target
// resolved again from the root (absolute) or the current directory (relative), with ".."
// clamped at the root: the same answer RESOLVE_IN_ROOT gives.
int berth_open_in_root_fallback(int root_fd, const char *path, int flags, unsigned mode) {
    char *work = malloc(8192);
    char *link = malloc(4096);
    if (!work || !link) { free(work); free(link); return -ENOMEM; }
    int dirs[256];
    int depth = 0, links = 0, result = -ENOENT;
    dirs[0] = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
    if (dirs[0] < 0) { result = -errno; goto done; }
    snprintf(work, 8192, "%s", path);
    char *rest = work;
    for (;;) {
        while (*rest == '/') rest++;
        if (*rest == 0) { // the path named the current directory itself
            result = openat(dirs[depth], ".", (flags & ~O_CREAT) | O_CLOEXEC, mode);
            if (result < 0) result = -errno;
            goto done;
        }
        char *slash = strchr(rest, '/');
        if (slash) *slash = 0;
        char *name = rest;
        int last = slash == NULL;
        while (last == 0 && slash[1] == '/') slash++;
        if (!last && slash[1] == 0) last = 1;
        rest = slash ? slash + 1 : rest + strlen(rest);
        if (strcmp(name, ".") == 0) { if (last) { *rest = 0; } if (last) { result = openat(dirs[depth], ".", (flags & ~O_CREAT) | O_CLOEXEC, mode); if (result < 0) result = -errno; goto done; } continue; }
        if (strcmp(name, "..") == 0) {
            if (depth > 0) close(dirs[depth--]);
            if (last) { result = openat(dirs[depth], ".", (flags & ~O_CREAT) | O_CLOEXEC, mode); if (result < 0) result = -errno; goto done; }
            continue;
        }
        ssize_t n = readlinkat(dirs[depth], name, link, 4095);
        if (n >= 0) {
            if (++links > 40) { result = -ELOOP; goto done; }
            link[n] = 0;
            // Splice the link target in front of what is left.
            char *joined = malloc(8192);
            if (!joined) { result = -ENOMEM; goto done; }
            snprintf(joined, 8192, "%s/%s", link, rest);
            snprintf(work, 8192, "%s", joined);
            free(joined);
            rest = work;
            if (link[0] == '/') { while (depth > 0) close(dirs[depth--]); }
            continue;
        }
        if (last) {
            result = openat(dirs[depth], name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            if (result < 0) result = -errno;
            goto done;
        }
        if (depth + 1 >= 256) { result = -ENAMETOOLONG; goto done; }
        int next = openat(dirs[depth], name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) { result = -errno; goto done; }
        dirs[++depth] = next;
    }
done:
    while (depth >= 0) { if (dirs[depth] >= 0) close(dirs[depth]); depth--; }
    free(work);
    free(link);
    return result;
}

int berth_mkdir_all_in_root(int root_fd, const char *path, unsigned mode) {
    char partial[4096];
    size_t len = strlen(path);
    if (len >= sizeof partial) return -ENAMETOOLONG;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && path[i] != '/') continue;
        if (i == 0) continue;
        memcpy(partial, path, i);
        partial[i] = 0;
        int fd = berth_open_in_root(root_fd, partial, O_PATH | O_DIRECTORY, 0);
        if (fd >= 0) { close(fd); continue; }
        if (fd != -ENOENT) return fd;
        // Create the last component under its (safely resolved) parent.
        char *slash = strrchr(partial, '/');
        const char *name = slash ? slash + 1 : partial;
        int parent;
        if (slash && slash != partial) {
            *slash = 0;
            parent = berth_open_in_root(root_fd, partial, O_PATH | O_DIRECTORY, 0);
            *slash = '/';
        } else {
            parent = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        }
        if (parent < 0) return parent < 0 ? (parent == -1 ? -errno : parent) : parent;
        int rc = mkdirat(parent, name, mode);
        int e = errno;
        close(parent);
        if (rc != 0 && e != EEXIST) return -e;
    }
    return berth_open_in_root(root_fd, path, O_PATH | O_DIRECTORY, 0);
}

int berth_mkfile_in_root(int root_fd, const char *path, unsigned mode) {
    int fd = berth_open_in_root(root_fd, path, O_PATH, 0);
    if (fd >= 0) return fd;
    if (fd != -ENOENT) return fd;
    fd = berth_open_in_root(root_fd, path, O_CREAT | O_WRONLY, mode);
    if (fd < 0) return fd;
    close(fd);
    return berth_open_in_root(root_fd, path, O_PATH, 0);
}

// ---- process attributes ----------------------------------------------------------
int berth_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)effective;   data[1].effective = (uint32_t)(effective >> 32);
    data[0].permitted = (uint32_t)permitted;   data[1].permitted = (uint32_t)(permitted >> 32);
    data[0].inheritable = (uint32_t)inheritable; data[1].inheritable = (uint32_t)(inheritable >> 32);
    RET(syscall(SYS_capset, &header, data));
}

int berth_cap_bound_drop(int cap) { RET(prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)); }
int berth_cap_ambient_clear(void) { RET(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)); }
int berth_cap_ambient_raise(int cap) { RET(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0)); }
int berth_set_keepcaps(int on) { RET(prctl(PR_SET_KEEPCAPS, on, 0, 0, 0)); }
int berth_set_no_new_privs(void) { RET(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)); }
int berth_set_child_subreaper(void) { RET(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)); }
int berth_set_pdeathsig(int sig) { RET(prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)); }

int berth_cap_last_cap(void) {
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    char buf[16] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -EIO;
    return atoi(buf);
}

int berth_seccomp_load(const void *filter, size_t len, unsigned flags) {
    struct sock_fprog prog = { .len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = (struct sock_filter *)filter };
    RET(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog));
}

int berth_setresuid(uid_t uid) { RET(syscall(SYS_setresuid, uid, uid, uid)); }
int berth_setresgid(gid_t gid) { RET(syscall(SYS_setresgid, gid, gid, gid)); }
int berth_setgroups(size_t count, const gid_t *groups) { RET(setgroups(count, groups)); }
int berth_sethostname(const char *name) { RET(sethostname(name, strlen(name))); }
int berth_setdomainname(const char *name) { RET(setdomainname(name, strlen(name))); }
int berth_personality(unsigned long persona) { return personality(persona) == -1 ? -errno : 0; }

int berth_setsid_ctty(int tty_fd) {
    if (setsid() < 0) return -errno;
    RET(ioctl(tty_fd, TIOCSCTTY, 0));
}

int berth_open_pty(int *master, int *slave) {
    int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -errno;
    int unlock = 0;
    if (ioctl(m, TIOCSPTLCK, &unlock) != 0) { int e = errno; close(m); return -e; }
    int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (s < 0) { int e = errno; close(m); return -e; }
    *master = m;
    *slave = s;
    return 0;
}

int berth_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    RET(ioctl(fd, TIOCSWINSZ, &ws));
}

int berth_send_fd(int sock, int fd) {
    char byte = 0;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t rc;
    do { rc = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
}

int berth_recv_fd(int sock) {
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    ssize_t rc;
    do { rc = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (rc < 0 && errno == EINTR);
    if (rc < 0) return -errno;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) return -EPROTO;
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
int berth_cloexec_from(int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
#endif
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) return -errno;
    int self = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        int fd = atoi(entry->d_name);
        if (entry->d_name[0] == '.' || fd < first || fd == self) continue;
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(dir);
    return 0;
}

int berth_execve(const char *path, char *const argv[], char *const envp[]) {
    execve(path, argv, envp);
    return -errno;
}

int berth_mknod(int dirfd, const char *name, unsigned mode, unsigned major, unsigned minor) {
    RET(mknodat(dirfd, name, mode, makedev(major, minor)));
}

int berth_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}

int berth_pidfd_send_signal(int pidfd, int sig) {
    RET(syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0));
}

int berth_memfd(const char *name, unsigned flags) {
    long fd = syscall(SYS_memfd_create, name, flags);
    return fd < 0 ? -errno : (int)fd;
}

int berth_unshare(int flags) { RET(unshare(flags)); }

#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_SYMLINKS 0x04
#endif
int berth_open_in_root_nofollow(int root_fd, const char *path, int flags) {
#ifdef SYS_openat2
    struct berth_open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .mode = 0,
                                  .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
    long fd;
    do { fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how); } while (fd < 0 && errno == EAGAIN);
    if (fd >= 0) return (int)fd;
    if (errno != ENOSYS) return -errno;
#endif
    // Fallback: walk with O_NOFOLLOW at every step.
    int dir = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
    if (dir < 0) return -errno;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    char *name = strtok_r(buf, "/", &save);
    while (name) {
        char *next = strtok_r(NULL, "/", &save);
        if (strcmp(name, "..") == 0) { close(dir); return -EXDEV; }
        int fd = openat(dir, name, (next ? O_PATH | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(dir);
        if (fd < 0) return -e;
        dir = fd;
        name = next;
    }
    return dir;
}

int berth_pipe_cloexec(int fds[2]) { RET(pipe2(fds, O_CLOEXEC)); }

int berth_loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    int err = rc == 0 ? 0 : -errno;
    close(fd);
    return err;
}
