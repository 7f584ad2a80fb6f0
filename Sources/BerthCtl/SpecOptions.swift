import ArgumentParser
import BerthAPI
import BerthOCI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The flags of `run` that shape the container's spec, as ctr's.
struct SpecOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Environment variable KEY=VALUE (repeatable).") var env: [String] = []
    @Option(help: "Working directory of the process.") var cwd: String?
    @Option(name: [.short, .long], help: "uid[:gid] of the process.") var user: String?
    @Option(help: "Bind mount: type=bind,src=PATH,dst=PATH[,options=ro:rbind].") var mount: [String] = []
    @Flag(help: "Use the host's network namespace.") var netHost = false
    @Option(help: "Hostname in the container.") var hostname: String?
    @Option(help: "Memory limit in bytes.") var memoryLimit: Int64?
    @Option(help: "CPUs (e.g. 0.5).") var cpus: Double?
    @Option(help: "Most processes in the container.") var pidsLimit: Int64?
    @Option(help: "Add a capability (e.g. CAP_NET_ADMIN).") var capAdd: [String] = []
    @Option(help: "Drop a capability.") var capDrop: [String] = []
    @Flag(help: "All capabilities, all devices, no seccomp, no masked paths.") var privileged = false
    @Flag(help: "Mount the root file system read-only.") var readOnly = false
    @Option(help: "A seccomp profile (OCI linux.seccomp JSON) instead of the default.") var seccompProfile: String?
    @Option(help: "Runtime: berth, runc or crun.") var runtime = "berth"

    func spec(namespace: String, id: String, args: [String]) throws -> (Spec, [String: String]) {
        var spec = Spec.containerDefault(namespace: namespace, id: id, args: args.isEmpty ? ["sh"] : args)
        var labels: [String: String] = [:]
        var process = spec.process!
        process.env = (process.env ?? []) + env
        if let cwd { process.cwd = cwd }
        if let user {
            let parts = user.split(separator: ":")
            guard let uid = UInt32(parts[0]), parts.count < 3 else { throw ValidationError("--user must be uid[:gid]") }
            process.user = Spec.User(uid: uid, gid: parts.count > 1 ? UInt32(parts[1]) ?? uid : uid)
        }
        var caps = Set(process.capabilities?.bounding ?? [])
        caps.formUnion(capAdd.map(Self.capName))
        caps.subtract(capDrop.map(Self.capName))
        if privileged {
            caps = Set(Self.allCapabilities)
            spec.linux?.maskedPaths = []
            spec.linux?.readonlyPaths = []
            spec.linux?.resources?.devices = [Spec.DeviceRule(allow: true, access: "rwm")]
            labels["io.berth.seccomp"] = "unconfined"
            process.noNewPrivileges = false
        }
        let sorted = caps.sorted()
        process.capabilities = Spec.Capabilities(bounding: sorted, effective: sorted, permitted: sorted)
        spec.process = process
        if let hostname { spec.hostname = hostname }
        if netHost {
            spec.linux?.namespaces?.removeAll { $0.type == "network" }
            spec.hostname = nil
        }
        if readOnly { spec.root?.readonly = true }
        if let memoryLimit { spec.linux?.resources?.memory = Spec.Memory(limit: memoryLimit) }
        if let cpus {
            guard cpus > 0 else { throw ValidationError("--cpus must be positive") }
            spec.linux?.resources?.cpu = Spec.CPU(quota: Int64(cpus * 100_000), period: 100_000)
        }
        if let pidsLimit { spec.linux?.resources?.pids = Spec.Pids(limit: pidsLimit) }
        if let seccompProfile {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: seccompProfile))
            spec.linux?.seccomp = try JSONDecoder().decode(Spec.Seccomp.self, from: bytes)
        }
        for text in mount { spec.mounts?.append(try Self.parseMount(text)) }
        return (spec, labels)
    }

    static func capName(_ name: String) -> String {
        let upper = name.uppercased()
        return upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
    }

    static func parseMount(_ text: String) throws -> Spec.Mount {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw ValidationError("--mount \(text): expected key=value pairs") }
            fields[String(kv[0])] = String(kv[1])
        }
        guard let src = fields["src"] ?? fields["source"], let dst = fields["dst"] ?? fields["destination"] ?? fields["target"] else {
            throw ValidationError("--mount \(text): src and dst are required")
        }
        let type = fields["type"] ?? "bind"
        var options = (fields["options"] ?? "").split(separator: ":").map(String.init)
        if type == "bind" && !options.contains("bind") && !options.contains("rbind") { options.append("rbind") }
        return Spec.Mount(destination: dst, type: type, source: src, options: options)
    }

    static let allCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]
}
