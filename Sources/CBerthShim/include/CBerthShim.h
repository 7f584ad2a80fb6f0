#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H
// The system interface of berth-shim, which is Embedded Swift (no Glibc module): the
// headers it calls into, and the few calls that are macros, variadic or packed structs
// in C.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/// errno of the calling thread.
int berth_shim_errno(void);

/// "ENOENT (No such file or directory)".
void berth_shim_describe_errno(int err, char *buffer, size_t size);

/// open(2) with a mode (open is variadic in C). fd or -errno.
int berth_shim_open(const char *path, int flags, unsigned mode);

/// fcntl(F_SETFL, O_NONBLOCK) added to the descriptor's flags. 0 or -errno.
int berth_shim_set_nonblocking(int fd);

/// O_NONBLOCK taken off the descriptor's flags. 0 or -errno.
int berth_shim_set_blocking(int fd);

/// epoll_ctl with a 64-bit token (struct epoll_event is packed on x86-64). 0 or -errno.
int berth_shim_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);

/// epoll_wait into parallel arrays; the count, or -errno (EINTR included).
int berth_shim_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max, int timeout_ms);

/// A listening UNIX stream socket bound at `path` (replacing what is there), created with
/// umask 0177 so that the socket is mode 0600; close-on-exec. fd or -errno
/// (-ENAMETOOLONG when the path does not fit sockaddr_un).
int berth_shim_listen(const char *path, int backlog);

/// accept4, non-blocking and close-on-exec. fd or -errno.
int berth_shim_accept(int listener, int nonblocking);

/// Starts `path` with `argv` (NULL-terminated) and the shim's environment: descriptors
/// 0, 1, 2 from `in`, `out`, `err` (-1: /dev/null), `extra_src` as `extra_dst` when
/// `extra_src` >= 0, no other descriptor, every signal unblocked and at its default
/// action, and in a new session when `new_session`. The pid, or -errno.
pid_t berth_shim_spawn(const char *path, char *const argv[], int in, int out, int err,
                       int extra_src, int extra_dst, int new_session);

/// pipe2(O_CLOEXEC) (a GNU extension: the Swift side includes the headers without
/// _GNU_SOURCE, like the other C modules it imports). 0 or -errno.
int berth_shim_pipe(int fds[2]);

/// A detached thread running `body(context)`. 0 or -errno.
int berth_shim_thread(void (*body)(void *), void *context);

/// A pthread mutex on the heap, and its lock and unlock.
void *berth_shim_mutex_new(void);
void berth_shim_mutex_lock(void *mutex);
void berth_shim_mutex_unlock(void *mutex);

/// main's arguments (Embedded Swift has no CommandLine), saved before main runs.
int berth_shim_argc(void);
char **berth_shim_argv(void);

/// The process's argument area (argv[0] to the end of the last argument), for the
/// spare's rewriting of its command line.
char *berth_shim_args_area(size_t *size);

/// The calling thread's niceness set to `nice` for every thread of the process (on
/// Linux a priority belongs to a thread). 0, or -errno of the first failure.
int berth_shim_set_nice_all_threads(int nice);

/// getpriority/setpriority for the process (their `which` is an enum type in glibc).
int berth_shim_set_nice(int nice);

/// SIGPIPE ignored: a write to a pipe whose reader is gone fails with EPIPE instead of
/// killing the shim (children get the default back: berth_shim_spawn).
void berth_shim_ignore_sigpipe(void);

#endif
