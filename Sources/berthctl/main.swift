import BerthCtl
#if canImport(Glibc)
import Glibc
#endif

// No top-level await: the async main would park this thread in dispatch_main, which
// ends it with pthread_exit, and the unwind pthread_exit runs first makes the unwinder
// of a static executable sort every FDE of the binary before it can look one up
// (~20 ms of every command here). The command runs as a task; this thread waits, and
// the task ends the process.
//
// It waits with no signal blocked, whatever mask berthctl was started with (a
// parent's blocked SIGTERM would otherwise leave `kill` unable to stop `berthctl
// events`): this thread takes the signals, and their default actions apply.
var unblocked = sigset_t()
sigemptyset(&unblocked)
sigprocmask(SIG_SETMASK, &unblocked, nil)
Berthctl.useOneIOThread()
Task.detached {
    await Berthctl.entry()
    exit(0)
}
while true { pause() }
