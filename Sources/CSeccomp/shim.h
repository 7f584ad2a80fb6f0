#ifndef BERTH_CSECCOMP_SHIM_H
#define BERTH_CSECCOMP_SHIM_H
#include <seccomp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

/// libseccomp's runtime version as "major.minor.micro" into buf; 0 on success.
static inline int berth_seccomp_version(char *buf, unsigned long len) {
    const struct scmp_version *v = seccomp_version();
    if (v == 0) return -1;
    return __builtin_snprintf(buf, len, "%u.%u.%u", v->major, v->minor, v->micro) < 0 ? -1 : 0;
}

// SCMP_ACT_ERRNO(x) and SCMP_ACT_TRACE(x) are function-like macros, which Swift does
// not import; the plain action constants are given here too so Swift sees one spelling.
static inline uint32_t berth_scmp_act_errno(uint16_t e) { return SCMP_ACT_ERRNO(e); }
static inline uint32_t berth_scmp_act_trace(uint16_t e) { return SCMP_ACT_TRACE(e); }
static inline uint32_t berth_scmp_act_kill_thread(void) { return SCMP_ACT_KILL_THREAD; }
static inline uint32_t berth_scmp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t berth_scmp_act_trap(void) { return SCMP_ACT_TRAP; }
static inline uint32_t berth_scmp_act_log(void) { return SCMP_ACT_LOG; }
static inline uint32_t berth_scmp_act_allow(void) { return SCMP_ACT_ALLOW; }

/// The syscall number libseccomp gives `name` on the native architecture (a negative
/// pseudo-number for calls that exist only on other architectures), or -1 when
/// libseccomp does not know the name at all.
static inline int berth_seccomp_syscall_resolve(const char *name) {
    int nr = seccomp_syscall_resolve_name(name);
    return nr == __NR_SCMP_ERROR ? -1 : nr;
}

/// Exports the filter's BPF program (an array of `struct sock_filter`) into a malloc'd
/// buffer: *out and *len on success, which the caller frees with free(). Returns 0 or
/// -errno. seccomp_export_bpf writes only to a descriptor, so it goes through a memfd
/// (or an unlinked temporary file where memfd_create is unavailable).
static inline int berth_seccomp_export(scmp_filter_ctx ctx, unsigned char **out, size_t *len) {
    *out = 0;
    *len = 0;
    int fd = (int)syscall(SYS_memfd_create, "berth-seccomp-bpf", 1u /* MFD_CLOEXEC */);
    FILE *tmp = 0;
    if (fd < 0) {
        tmp = tmpfile();
        if (tmp == 0) return -errno;
        fd = fileno(tmp);
    }
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0) goto done;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0) { rc = -errno; goto done; }
    unsigned char *buf = (unsigned char *)malloc(size > 0 ? (size_t)size : 1);
    if (buf == 0) { rc = -ENOMEM; goto done; }
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t n = pread(fd, buf + got, (size_t)size - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { rc = n < 0 ? -errno : -EIO; free(buf); goto done; }
        got += (size_t)n;
    }
    *out = buf;
    *len = got;
    rc = 0;
done:
    if (tmp != 0) fclose(tmp); else close(fd);
    return rc;
}
#endif
