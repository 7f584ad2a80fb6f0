#ifndef BERTH_LINUX_ARCHIVE_H
#define BERTH_LINUX_ARCHIVE_H
// Calls the layer applier (BerthArchive) needs that Swift's Glibc module does not show:
// openat2 with its RESOLVE_* flags, fd-based xattrs, makedev. Every function returns
// -errno on failure. The constants are the generic Linux values (x86_64, aarch64);
// archive_calls.c checks them against the system headers at compile time.
#include <stddef.h>
#include <stdint.h>

#define BERTH_AR_O_PATH                0x200000
#define BERTH_AR_AT_EMPTY_PATH         0x1000
#define BERTH_AR_RESOLVE_NO_MAGICLINKS 0x02
#define BERTH_AR_RESOLVE_NO_SYMLINKS   0x04
#define BERTH_AR_RESOLVE_BENEATH       0x08
#define BERTH_AR_RESOLVE_IN_ROOT       0x10

/// openat2(2): `path` resolved from `dirfd` with `resolve` (RESOLVE_*). fd or -errno.
int berth_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

/// fsetxattr(2) with no flags (create or replace). 0 or -errno.
int berth_fsetxattr(int fd, const char *name, const void *value, size_t size);

/// makedev(3).
unsigned long long berth_makedev(unsigned int major, unsigned int minor);

#endif
