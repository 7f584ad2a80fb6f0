import CBerthLinux
import NIOCore
import NIOPosix

/// Runs Swift concurrency's jobs on the NIO singleton group's I/O thread(s) instead of
/// a pool of worker threads, for small processes that mostly wait on sockets (the shim,
/// berth-bench): no pool threads to keep, and a task resumed by a reply or an event
/// continues on the thread that read it, without waking another.
///
/// NIO's own `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`
/// looks the runtime's hook up with dlsym, which finds nothing in an executable that
/// links the Swift runtime statically (ours do), so the hook is set from C.
public enum IOThreadExecutor {
    typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Call once, first thing, before any task runs; with `loops` I/O threads. Nothing
    /// the process runs as a task may block. Returns false when the runtime has no hook
    /// or another is installed (jobs then stay on the pool).
    @discardableResult
    public static func install(loops: Int = 1) -> Bool {
        NIOSingletons.groupLoopCountSuggestion = loops
        let hook: EnqueueGlobalHook = { job, _ in MultiThreadedEventLoopGroup.singleton.next().executor.enqueue(job) }
        return withUnsafePointer(to: hook) { pointer in
            pointer.withMemoryRebound(to: UnsafeRawPointer.self, capacity: 1) { berth_install_enqueue_global_hook($0.pointee) == 0 }
        }
    }
}
