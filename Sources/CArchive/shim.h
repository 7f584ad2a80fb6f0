#ifndef BERTH_CARCHIVE_SHIM_H
#define BERTH_CARCHIVE_SHIM_H
// libarchive: reads image layers (tar, gzip, zstd, uncompressed) and import archives,
// writes export archives. Only berthd links it (it pulls libxml2 and more; MEASURED.md).
#include <archive.h>
#include <archive_entry.h>
#include <sys/types.h>
#include <sys/stat.h>
#endif
