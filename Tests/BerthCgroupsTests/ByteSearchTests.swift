import BerthSystem
import Testing

/// `containsBytes`, the prefilter the mountinfo parsers use on every line.
@Suite struct ByteSearchTests {
    @Test(arguments: [
        ("35 25 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory", true),
        ("36 25 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw", true),
        ("22 1 8:1 / / rw,relatime - ext4 /dev/vda1 rw", false),
        (" - cgroup", true), (" - cgrou", false), ("", false), ("xx - cgroupyy", true), ("- cgroup", false),
    ])
    func findsTheNeedle(_ line: String, _ expected: Bool) {
        #expect(line.containsBytes(" - cgroup") == expected)
        #expect(line[...].containsBytes(" - cgroup") == expected, "as a Substring")
        #expect(line.containsBytes("") == true)
    }

    @Test func agreesWithTheStandardLibraryOnMountinfo() throws {
        let text = String(decoding: try FileSystem.readFile("/proc/self/mountinfo", limit: 8 << 20), as: UTF8.self)
        for line in text.split(separator: "\n") {
            #expect(line.containsBytes(" - cgroup") == line.contains(" - cgroup"), "\(line)")
        }
    }
}
