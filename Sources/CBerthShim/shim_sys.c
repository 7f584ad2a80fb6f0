#include "CBerthShim.h"
#include <spawn.h>
#include <sys/un.h>

extern char **environ;

int berth_shim_errno(void) { return errno; }

void berth_shim_describe_errno(int err, char *buffer, size_t size) {
    const char *name = strerrorname_np(err);
    char text[128];
    const char *message = strerror_r(err, text, sizeof text);
    if (name) snprintf(buffer, size, "%s (%s)", name, message);
    else snprintf(buffer, size, "errno %d (%s)", err, message);
}

int berth_shim_open(const char *path, int flags, unsigned mode) {
    int fd;
    do { fd = open(path, flags, (mode_t)mode); } while (fd < 0 && errno == EINTR);
    return fd >= 0 ? fd : -errno;
}

int berth_shim_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -errno;
    return 0;
}

int berth_shim_set_blocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) return -errno;
    return 0;
}

int berth_shim_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event = { .events = events, .data.u64 = token };
    return epoll_ctl(epfd, op, fd, &event) == 0 ? 0 : -errno;
}

int berth_shim_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event ready[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, ready, max, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) {
        tokens[i] = ready[i].data.u64;
        events[i] = ready[i].events;
    }
    return n;
}

int berth_shim_listen(const char *path, int backlog) {
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    unlink(path);
    mode_t previous = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    int err = errno;
    umask(previous);
    if (rc == 0 && listen(fd, backlog) == 0) return fd;
    if (rc == 0) err = errno;
    close(fd);
    return -err;
}

int berth_shim_accept(int listener, int nonblocking) {
    int fd;
    do { fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0)); } while (fd < 0 && errno == EINTR);
    return fd >= 0 ? fd : -errno;
}

pid_t berth_shim_spawn(const char *path, char *const argv[], int in, int out, int err,
                       int extra_src, int extra_dst, int new_session) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    int std[3] = { in, out, err };
    for (int fd = 0; fd < 3; fd++) {
        if (std[fd] >= 0) posix_spawn_file_actions_adddup2(&actions, std[fd], fd);
        else posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    }
    int keep = 3;
    if (extra_src >= 0) {
        posix_spawn_file_actions_adddup2(&actions, extra_src, extra_dst);
        keep = extra_dst + 1;
    }
    posix_spawn_file_actions_addclosefrom_np(&actions, keep);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_session) flags |= POSIX_SPAWN_SETSID;
    posix_spawnattr_setflags(&attr, flags);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? pid : -rc;
}

int berth_shim_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno;
}

struct thread_start { void (*body)(void *); void *context; };

static void *thread_main(void *arg) {
    struct thread_start start = *(struct thread_start *)arg;
    free(arg);
    start.body(start.context);
    return NULL;
}

int berth_shim_thread(void (*body)(void *), void *context) {
    struct thread_start *start = malloc(sizeof *start);
    if (!start) return -ENOMEM;
    start->body = body;
    start->context = context;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, thread_main, start);
    pthread_attr_destroy(&attr);
    if (rc != 0) free(start);
    return -rc;
}

void *berth_shim_mutex_new(void) {
    pthread_mutex_t *mutex = malloc(sizeof *mutex);
    if (mutex) pthread_mutex_init(mutex, NULL);
    return mutex;
}
void berth_shim_mutex_lock(void *mutex) { pthread_mutex_lock(mutex); }
void berth_shim_mutex_unlock(void *mutex) { pthread_mutex_unlock(mutex); }

static int saved_argc;
static char **saved_argv;
static char *args_start;
static size_t args_size;

// glibc calls the functions of .init_array with main's arguments (static executables too).
__attribute__((constructor)) static void save_args(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
    if (argc <= 0) return;
    args_start = argv[0];
    args_size = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
}

int berth_shim_argc(void) { return saved_argc; }
char **berth_shim_argv(void) { return saved_argv; }

char *berth_shim_args_area(size_t *size) {
    *size = args_size;
    return args_start;
}

int berth_shim_set_nice_all_threads(int nice) {
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return -errno;
    int result = 0;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        int tid = atoi(entry->d_name);
        if (tid > 0 && setpriority(PRIO_PROCESS, (id_t)tid, nice) != 0 && result == 0) result = -errno;
    }
    closedir(dir);
    return result;
}

int berth_shim_set_nice(int nice) {
    return setpriority(PRIO_PROCESS, 0, nice) == 0 ? 0 : -errno;
}

void berth_shim_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }
