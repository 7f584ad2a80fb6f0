@testable import BerthCgroups
import Testing

extension CgroupTests {
    /// Finding v1 hierarchies in /proc/self/mountinfo, for layouts this host does not
    /// have (co-mounted controllers, odd directory names, bind mounts).
    @Suite("v1 mount discovery")
    struct Mountinfo {
        static let known: Set<String> = ["cpu", "cpuacct", "cpuset", "memory", "net_cls", "net_prio", "pids"]

        @Test("co-mounted controllers are one hierarchy; named ones count; options, other roots and bind mounts do not")
        func parse() {
            let text = """
                25 30 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
                26 25 0:23 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
                27 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct
                28 25 0:25 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
                29 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory,clone_children
                30 25 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
                31 25 0:26 / /sys/fs/cgroup/mem\\040copy rw - cgroup cgroup rw,memory
                32 20 0:28 / /elsewhere/pids rw - cgroup cgroup rw,pids
                """
            let mounts = Hierarchy.v1Mounts(mountinfo: text, under: "/sys/fs/cgroup", known: Self.known)
            #expect(mounts.map(\.mountPoint) == ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/cpu,cpuacct",
                                                 "/sys/fs/cgroup/net_cls,net_prio", "/sys/fs/cgroup/memory"])
            #expect(mounts.map(\.controllers) == [["name=systemd"], ["cpu", "cpuacct"], ["net_cls", "net_prio"], ["memory"]])
        }

        @Test("escaped characters in mount points are decoded")
        func escapes() {
            let text = "40 25 0:30 / /tmp/cg\\040root/pids rw - cgroup cgroup rw,pids"
            let mounts = Hierarchy.v1Mounts(mountinfo: text, under: "/tmp/cg root", known: Self.known)
            #expect(mounts.map(\.mountPoint) == ["/tmp/cg root/pids"])
        }
    }
}
