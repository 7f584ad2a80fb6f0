import BerthOCI
@testable import BerthRuntime
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

    /// The cache key is the whole profile and nothing else: equal profiles share it,
    /// and profiles that differ anywhere (even only in how names are split) do not.
    @Test func theKeyTellsEveryDifferenceApart() {
        typealias S = Spec.Seccomp
        let base = S(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1, architectures: ["SCMP_ARCH_X86_64"], syscalls: [
            S.Syscall(names: ["ab", "c"], action: "SCMP_ACT_ALLOW"),
            S.Syscall(names: ["personality"], action: "SCMP_ACT_ALLOW", args: [S.Arg(index: 0, value: 8, op: "SCMP_CMP_EQ")]),
        ])
        #expect(SeccompCache.key(base) == SeccompCache.key(base))
        var variants: [S] = []
        var v = base; v.syscalls![0].names = ["a", "bc"]; variants.append(v)
        v = base; v.syscalls![0].names = ["abc"]; variants.append(v)
        v = base; v.defaultErrnoRet = nil; variants.append(v)
        v = base; v.defaultErrnoRet = 38; variants.append(v)
        v = base; v.architectures = nil; variants.append(v)
        v = base; v.flags = ["SECCOMP_FILTER_FLAG_LOG"]; variants.append(v)
        v = base; v.syscalls![1].args![0].value = 9; variants.append(v)
        v = base; v.syscalls![1].args![0].valueTwo = 0; variants.append(v)
        v = base; v.syscalls![1].args = nil; variants.append(v)
        v = base; v.syscalls![1].errnoRet = 1; variants.append(v)
        v = base; v.syscalls!.reverse(); variants.append(v)
        let keys = Set(([base] + variants).map { SeccompCache.key($0) })
        #expect(keys.count == variants.count + 1)
    }
}
