#ifndef BERTH_CSYSTEMD_SHIM_H
#define BERTH_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/// SD_LISTEN_FDS_START is a macro; Swift sees this instead.
static inline int berth_sd_listen_fds_start(void) { return SD_LISTEN_FDS_START; }
#endif
