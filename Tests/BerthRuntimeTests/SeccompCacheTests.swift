import Foundation
import Testing

/// The compiled-profile cache: a second container with the same profile reuses the
/// program, which the kernel still enforces; a damaged entry is compiled again.
@Suite struct SeccompCacheTests {
    @Test func aProfileIsCompiledOnceAndStillEnforced() async throws {
        try await withTestBed { bed in
            let bundle = try await bed.bundle { c in
                c["linux", "seccomp"] = denyMkdirProfile
                c.shell("mkdir /tmp/x; echo status=$?")
            }
            let cache = bed.berth.root + "/.seccomp"
            for round in 0..<3 {
                if round == 2 {
                    // Damage every entry: the runtime must compile again, not load garbage.
                    for name in (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? [] {
                        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: cache + "/" + name))
                    }
                }
                let result = try await bed.berth("run", "--bundle", bundle.path, bed.id("sc\(round)"))
                #expect(result.status == 0, "\(result)")
                #expect(result.stdout.contains("status=1"), "round \(round): \(result)")
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
                #expect(entries.count == 1, "round \(round): \(entries)")
            }
        }
    }
}
