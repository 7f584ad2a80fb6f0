import ArgumentParser
import BerthCgroups
import BerthOCI
import BerthSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// Berth's own commands, not runc's: a cgroup's statistics and new limits by its path (an
// OCI `linux.cgroupsPath`), for berth-shim's task.stats and task.update. The shim is
// Embedded Swift and small; the v1/v2/hybrid cgroup code (BerthCgroups) runs here, in a
// process that exists only for the call, whatever the container's runtime.

struct CgroupStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cgroup-stats",
        abstract: "Print a cgroup's statistics as JSON (Berth's, for berth-shim; not in runc)."
    )
    @ParentCommand var global: RuntimeCommand
    @Argument(help: "The cgroup's path, as config.json's linux.cgroupsPath.") var path: String

    func run() throws {
        try global.reporting { try printJSON(try Cgroup(path: path).stats()) }
    }
}

struct CgroupUpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cgroup-update",
        abstract: "Apply new limits (OCI linux.resources) to a cgroup (Berth's, for berth-shim; not in runc)."
    )
    @ParentCommand var global: RuntimeCommand
    @Option(help: "A file with the resources as JSON, or - for standard input.") var resources = "-"
    @Argument(help: "The cgroup's path, as config.json's linux.cgroupsPath.") var path: String

    func run() throws {
        try global.reporting {
            let bytes = resources == "-" ? try FileSystem.read(0, limit: 1 << 20, what: "standard input")
                : try FileSystem.readFile(resources, limit: 1 << 20)
            let decoded: Spec.Resources
            do {
                decoded = try JSONDecoder().decode(Spec.Resources.self, from: Data(bytes))
            } catch {
                throw ValidationError("the resources are not OCI linux.resources JSON: \(error)")
            }
            try Cgroup(path: path).apply(decoded)
        }
    }
}
