// Mount-related calls: mount(2) and umount2(2), a chdir'd mount helper for long
// overlay option strings, the new mount API for overlay's `lowerdir+`, syncfs and the
// l*xattr family. Every function returns -errno on failure.
#include "CBerthLinux.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/mount.h>

int berth_mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data) {
    return mount(source, target, type, flags, data) == 0 ? 0 : -errno;
}

int berth_umount2(const char *target, int flags) {
    int rc;
    do { rc = umount2(target, flags); } while (rc != 0 && errno == EINTR);
    return rc == 0 ? 0 : -errno;
}

int berth_mount_in_directory(const char *dir, const char *source, const char *target,
                             const char *type, unsigned long flags, const char *data) {
    // Only async-signal-safe system calls run in the child: this process has threads.
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(errno & 0xff);
        if (mount(source, target, type, flags, data) != 0) _exit(errno & 0xff);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -errno;
    }
    if (WIFEXITED(status)) return -WEXITSTATUS(status);
    return -EINTR;
}

static int fsconfig_string(int fd, const char *key, const char *value) {
    return (int)syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, key, value, 0);
}

static void read_fs_message(int fd, char *message, int size) {
    if (!message || size <= 0) return;
    message[0] = 0;
    ssize_t n = read(fd, message, (size_t)size - 1);
    if (n > 0) message[n] = 0; else message[0] = 0;
}

int berth_overlay_fsmount(const char *target, const char *const *lowers, int lower_count,
                          const char *const *params, int param_count, unsigned long flags,
                          char *message, int message_size) {
    if (message && message_size > 0) message[0] = 0;
    int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (fs < 0) return -errno;
    int err = 0;
    if (fsconfig_string(fs, "source", "overlay") != 0) { err = errno; goto fail; }
    for (int i = 0; i < lower_count; i++) {
        if (fsconfig_string(fs, "lowerdir+", lowers[i]) != 0) { err = errno; goto fail; }
    }
    for (int i = 0; i < param_count; i++) {
        const char *eq = strchr(params[i], '=');
        int rc;
        if (eq) {
            char key[256];
            size_t len = (size_t)(eq - params[i]);
            if (len >= sizeof(key)) { err = EINVAL; goto fail; }
            memcpy(key, params[i], len);
            key[len] = 0;
            rc = fsconfig_string(fs, key, eq + 1);
        } else {
            rc = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, params[i], NULL, 0);
        }
        if (rc != 0) { err = errno; goto fail; }
    }
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) { err = errno; goto fail; }
    unsigned int attrs = 0;
    if (flags & MS_RDONLY) attrs |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID) attrs |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV) attrs |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC) attrs |= MOUNT_ATTR_NOEXEC;
    if (flags & MS_NODIRATIME) attrs |= MOUNT_ATTR_NODIRATIME;
    if (flags & MS_NOATIME) attrs |= MOUNT_ATTR_NOATIME;
    else if (flags & MS_STRICTATIME) attrs |= MOUNT_ATTR_STRICTATIME;
    int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
    if (mnt < 0) { err = errno; goto fail; }
    if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        err = errno;
        close(mnt);
        goto fail;
    }
    close(mnt);
    close(fs);
    return 0;
fail:
    read_fs_message(fs, message, message_size);
    close(fs);
    return -err;
}

int berth_syncfs(int fd) {
    return syncfs(fd) == 0 ? 0 : -errno;
}

long berth_llistxattr(const char *path, char *list, unsigned long size) {
    ssize_t n = llistxattr(path, list, size);
    return n < 0 ? -errno : (long)n;
}

long berth_lgetxattr(const char *path, const char *name, void *value, unsigned long size) {
    ssize_t n = lgetxattr(path, name, value, size);
    return n < 0 ? -errno : (long)n;
}

int berth_lsetxattr(const char *path, const char *name, const void *value, unsigned long size) {
    return lsetxattr(path, name, value, size, 0) == 0 ? 0 : -errno;
}

int berth_mknodat(int dirfd, const char *name, unsigned int mode, unsigned long long dev) {
    return mknodat(dirfd, name, (mode_t)mode, (dev_t)dev) == 0 ? 0 : -errno;
}
