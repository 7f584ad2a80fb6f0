import BerthAPI
import BerthShim
import CBerthLinux
#if canImport(Glibc)
import Glibc
#endif

// berth-shim start | spare ADDRESS | serve BUNDLE | serve --spare ADDRESS | delete [BUNDLE]
let arguments = CommandLine.arguments
func fail(_ message: String) -> Never {
    var line = "berth-shim: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}
func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    return getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
}

switch arguments.count > 1 ? arguments[1] : "" {
case "start":
    do { try Shim.start() } catch { fail("\(error)") }
case "spare":
    guard arguments.count > 2 else { fail("usage: berth-shim spare ADDRESS") }
    do { try Shim.startSpare(address: arguments[2]) } catch { fail("\(error)") }
case "serve":
    // Before any thread exists, so that every thread inherits it: SIGCHLD is read
    // from a signalfd on the I/O thread (Reaper).
    _ = berth_block_sigchld()
    // One container, one client: one malloc arena and one I/O thread are plenty, and
    // each of either costs a shim private memory (MEASURED.md, issue 4's budget).
    _ = berth_malloc_single_arena()
    // Swift concurrency's jobs run on the I/O thread: no pool of worker threads
    // (four here, ~30 KiB of stack each) and no hop between the pool and the socket.
    // Nothing the shim awaits blocks: children are reaped from a signalfd on that
    // thread, blocking FIFO opens and copies have threads of their own.
    IOThreadExecutor.install(loops: 1)
    // No top-level await: that would hand the main thread to the async main's drain,
    // which unblocks SIGCHLD in it. The main thread only waits, SIGCHLD still blocked.
    let spareAddress = arguments.count > 3 && arguments[2] == "--spare" ? arguments[3] : nil
    let bundle = spareAddress == nil && arguments.count > 2 ? arguments[2] : currentDirectory()
    Task.detached {
        do { try await Shim.serve(bundle: bundle, spareAddress: spareAddress) } catch { fail("\(error)") }
        exit(0)
    }
    while true { pause() }
case "delete":
    do { try Shim.delete(bundle: arguments.count > 2 ? arguments[2] : currentDirectory()) } catch { fail("\(error)") }
default:
    fail("usage: berth-shim start | spare ADDRESS | serve BUNDLE | serve --spare ADDRESS | delete [BUNDLE]")
}
