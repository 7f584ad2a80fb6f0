#if canImport(Glibc)
import Glibc
#endif
import BerthOCI
import BerthSystem
import CBerthLinux

/// A device rule checked and put in the kernel's words.
struct DeviceRule: Equatable {
    var allow: Bool
    /// "a", "b" or "c".
    var type: Character
    /// nil: any.
    var major: Int64?
    var minor: Int64?
    /// Some of "rwm".
    var access: String

    init(_ rule: Spec.DeviceRule) throws {
        let type = rule.type ?? "a"
        guard type.count == 1, "abc".contains(type) else {
            throw SystemError(errno: EINVAL, stage: "device rule type '\(type)': must be a, b or c")
        }
        let access = rule.access ?? "rwm"
        guard !access.isEmpty, access.allSatisfy({ "rwm".contains($0) }) else {
            throw SystemError(errno: EINVAL, stage: "device rule access '\(access)': must be some of r, w, m")
        }
        for n in [rule.major, rule.minor] {
            if let n, n < -1 || n > Int64(Int32.max) {
                throw SystemError(errno: EINVAL, stage: "device rule number \(n): out of range")
            }
        }
        self.allow = rule.allow
        self.type = type.first!
        self.major = rule.major == -1 ? nil : rule.major
        self.minor = rule.minor == -1 ? nil : rule.minor
        self.access = access
    }

    /// The v1 `devices.allow`/`devices.deny` line: `c 1:3 rwm`, `a *:* rwm`.
    var v1Line: String {
        "\(type) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(access)"
    }

    var c: berth_device_rule {
        var bits: Int32 = 0
        if access.contains("m") { bits |= 1 }
        if access.contains("r") { bits |= 2 }
        if access.contains("w") { bits |= 4 }
        return berth_device_rule(allow: allow ? 1 : 0, type: Int32(type.asciiValue!), major: major ?? -1, minor: minor ?? -1, access: bits)
    }
}

extension Cgroup {
    /// Device access rules, in order; a later rule overrides an earlier one.
    ///
    /// v1: each rule is written to `devices.allow` or `devices.deny`. v2 (and a hybrid
    /// host without a v1 devices mount): the rules are compiled to an eBPF program of
    /// type `BPF_PROG_TYPE_CGROUP_DEVICE` attached to the unified directory, replacing
    /// the one an earlier `apply` attached. Access that matches no rule is allowed, as
    /// a fresh v1 cgroup allows it; OCI configurations start with a deny-all rule.
    func applyDevices(_ rules: [Spec.DeviceRule]) throws {
        let checked = try rules.map(DeviceRule.init)
        if let h = v1.first(where: { $0.controllers.contains("devices") }) {
            for rule in checked {
                try CgroupFile.write(h.directory, rule.allow ? "devices.allow" : "devices.deny", rule.v1Line)
            }
            return
        }
        guard let unified else {
            throw SystemError(errno: ENOTSUP, stage: "linux.resources.devices: no devices controller is mounted under \(root)")
        }
        try Cgroup.attachDeviceFilter(checked, to: unified.directory)
    }

    static func attachDeviceFilter(_ rules: [DeviceRule], to dir: String) throws {
        let fd = try retryingEINTR("open \(dir)") { open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        var log = [CChar](repeating: 0, count: 16384)
        let cRules = rules.map(\.c)
        let rc = cRules.withUnsafeBufferPointer { buffer in
            berth_cgroup_device_filter(fd, buffer.baseAddress, Int32(buffer.count), 1, &log, log.count)
        }
        if rc < 0 {
            let verifier = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).trimmingWhitespace
            throw SystemError(errno: -rc, stage: "attach device filter (\(rules.count) rules) to \(dir)" + (verifier.isEmpty ? "" : " [verifier: \(verifier)]"))
        }
    }

    /// How many eBPF device programs are attached to the unified directory (0 on v1).
    public func deviceProgramCount() throws -> Int {
        guard let unified else { return 0 }
        let fd = try retryingEINTR("open \(unified.directory)") { open(unified.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        return Int(try checkNegativeErrno(berth_cgroup_device_program_count(fd), "query device programs of \(unified.directory)"))
    }
}
