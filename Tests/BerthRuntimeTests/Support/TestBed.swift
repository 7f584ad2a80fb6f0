import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One runtime's command line with its own `--root` state directory.
struct RuntimeCLI: Sendable {
    let name: String
    let path: String
    let root: String

    /// `<runtime> --root ROOT ARGS…`.
    func callAsFunction(_ arguments: String..., stdin: String = "/dev/null", timeout: Duration = .seconds(60)) async throws -> CommandResult {
        try await run(arguments, stdin: stdin, timeout: timeout)
    }

    func run(_ arguments: [String], global: [String] = [], stdin: String = "/dev/null", dups: [(Int32, Int32)] = [],
             timeout: Duration = .seconds(60)) async throws -> CommandResult {
        try await runProgram(path, ["--root", root] + global + arguments, stdin: stdin, dups: dups, timeout: timeout)
    }

    /// Starts `<runtime> --root ROOT ARGS…` without waiting (a `run` in the foreground).
    func start(_ arguments: [String], stdout: CapturedOutput, stderr: CapturedOutput) throws -> Child {
        try spawn(path, ["--root", root] + arguments, stdout: stdout, stderr: stderr)
    }

    /// The `state` JSON as an object (nil when `state` fails).
    func state(_ id: String) async throws -> [String: Any]? {
        let result = try await run(["state", id])
        guard result.status == 0 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    }

    func status(_ id: String) async throws -> String? {
        try await state(id)?["status"] as? String
    }
}

/// Everything one test uses: a scratch directory, berth-runtime and runc each with their
/// own state root, and unique container ids. `withTestBed` always cleans up: every id
/// handed out is `delete --force`d under both runtimes and the directory removed
/// (after unmounting anything left below it), whether the test passed or threw.
final class TestBed: @unchecked Sendable {
    let scratch: Scratch
    let berth: RuntimeCLI
    let runc: RuntimeCLI
    private let tag: String
    private var ids: [String] = []
    private let lock = NSLock()

    init() throws {
        scratch = try Scratch()
        berth = RuntimeCLI(name: "berth-runtime", path: Binaries.berthRuntime, root: scratch("bs"))
        runc = RuntimeCLI(name: "runc", path: Binaries.runc, root: scratch("rs"))
        tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    /// A container id unique to this test run, cleaned up at the end.
    func id(_ name: String) -> String {
        let id = "brt-\(tag)-\(name)"
        lock.lock()
        ids.append(id)
        lock.unlock()
        return id
    }

    private var counter = 0

    /// 1, 2, 3…: names for bundles and ids within one test.
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        counter += 1
        return counter
    }

    func bundle(_ name: String = "b", _ configure: (inout Config) throws -> Void = { _ in }) async throws -> Bundle {
        let bundle = try await Bundle.make(at: scratch(name))
        try bundle.edit(configure)
        return bundle
    }

    func cleanup() async {
        let all = lock.withLock { ids }
        for id in all {
            _ = try? await berth("delete", "--force", id, timeout: .seconds(30))
            _ = try? await runc("delete", "--force", id, timeout: .seconds(30))
        }
        // A runtime that died half-way (a bug the tests report) can leave empty cgroups:
        // rmdir only removes empty ones, so nothing running is touched.
        for id in all {
            for dir in cgroupDirectories(id) { rmdir(dir) }
        }
        scratch.remove()
    }
}

/// Runs `body` with a fresh `TestBed` while holding one of the container slots, and
/// always cleans up after it.
func withTestBed<T>(_ body: (TestBed) async throws -> T) async throws -> T {
    await Slots.shared.acquire()
    let bed: TestBed
    do {
        bed = try TestBed()
    } catch {
        await Slots.shared.release()
        throw error
    }
    do {
        let result = try await body(bed)
        await bed.cleanup()
        await Slots.shared.release()
        return result
    } catch {
        await bed.cleanup()
        await Slots.shared.release()
        throw error
    }
}

/// The outputs of one bundle under `berth-runtime run` and `runc run`.
struct Differential {
    var berth: CommandResult
    var runc: CommandResult
}

/// Runs the same config (two copies of the bundle, so writes of one run cannot leak
/// into the other) with `berth-runtime run` and `runc run`.
func differential(_ bed: TestBed, runArguments: [String] = [], timeout: Duration = .seconds(60), _ configure: (inout Config) throws -> Void) async throws -> Differential {
    let n = bed.next()
    let berthBundle = try await bed.bundle("bb\(n)", configure)
    let runcBundle = try await bed.bundle("rb\(n)", configure)
    let berth = try await bed.berth.run(["run"] + runArguments + ["--bundle", berthBundle.path, bed.id("diff\(n)")], timeout: timeout)
    let runc = try await bed.runc.run(["run"] + runArguments + ["--bundle", runcBundle.path, bed.id("diff\(n)")], timeout: timeout)
    return Differential(berth: berth, runc: runc)
}
