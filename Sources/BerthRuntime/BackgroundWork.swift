#if canImport(Glibc)
import Glibc
#endif

/// One piece of work on a thread of its own, joined by `wait()`, which rethrows its
/// error. `create` makes the container's v1 cgroup directories and applies its limits
/// this way while its main thread clones the init (proto-docs/runtime-init.md,
/// "Joining the cgroup"). When no thread can be started, the work runs at once.
final class BackgroundWork: @unchecked Sendable {
    private let body: () throws -> Void
    private var thread = pthread_t()
    private var running = false
    private var result: Result<Void, any Error> = .success(())

    init(_ body: @escaping () throws -> Void) {
        self.body = body
        let retained = Unmanaged.passRetained(self)
        running = pthread_create(&thread, nil, { raw in
            let work = Unmanaged<BackgroundWork>.fromOpaque(raw!).takeRetainedValue()
            work.result = Result { try work.body() }
            return nil
        }, retained.toOpaque()) == 0
        if !running {
            retained.release()
            result = Result { try body() }
        }
    }

    /// Waits for the work to end (at once after the first call) and rethrows its error.
    func wait() throws {
        if running {
            pthread_join(thread, nil)
            running = false
        }
        try result.get()
    }
}
