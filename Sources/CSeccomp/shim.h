#ifndef BERTH_CSECCOMP_SHIM_H
#define BERTH_CSECCOMP_SHIM_H
#include <seccomp.h>

/// libseccomp's runtime version as "major.minor.micro" into buf; 0 on success.
static inline int berth_seccomp_version(char *buf, unsigned long len) {
    const struct scmp_version *v = seccomp_version();
    if (v == 0) return -1;
    return __builtin_snprintf(buf, len, "%u.%u.%u", v->major, v->minor, v->micro) < 0 ? -1 : 0;
}
#endif
