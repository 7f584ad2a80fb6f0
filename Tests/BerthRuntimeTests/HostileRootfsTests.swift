import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// A rootfs is untrusted input: symlinks planted in the image must never make the
// runtime create, mount or write anything on the host. Each case plants a link to a
// host canary (a directory with a file in it, outside the rootfs), runs the container
// and checks that the canary is exactly as it was and that nothing was left mounted on
// the host. The runtime may refuse the bundle (with a message) or stay inside the root:
// both are safe. (These are berth-runtime's: runc 1.1.5 itself fails the /dev case,
// creating its /dev/fd, /dev/stdin… links in the host directory /dev points to.)

/// Everything below `dir` as relative path → type and content (files) or target (links).
func snapshot(_ dir: String) -> [String: String] {
    var result: [String: String] = [:]
    let fm = FileManager.default
    guard let enumerator = fm.enumerator(atPath: dir) else { return [:] }
    while let relative = enumerator.nextObject() as? String {
        let path = dir + "/" + relative
        var st = stat()
        guard lstat(path, &st) == 0 else { continue }
        switch st.st_mode & S_IFMT {
        case S_IFREG: result[relative] = "file:" + (readText(path) ?? "?") + ":\(st.st_mode & 0o7777)"
        case S_IFDIR: result[relative] = "dir:\(st.st_mode & 0o7777)"
        case S_IFLNK: result[relative] = "link:" + (readLink(path) ?? "?")
        default: result[relative] = "other:\(st.st_mode)"
        }
    }
    return result
}

struct Canary {
    let dir: String
    var file: String { dir + "/file" }
    let before: [String: String]

    init(_ bed: TestBed) throws {
        dir = bed.scratch("canary")
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try Data("canary\n".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        before = snapshot(dir)
    }

    func expectUntouched(_ result: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) {
        let after = snapshot(dir)
        #expect(after == before, "host canary changed: before \(before), after \(after)\n\(result)", sourceLocation: sourceLocation)
    }
}

/// Runs a container whose rootfs `plant` has tampered with; returns the result of `run`.
func hostileRun(_ bed: TestBed, _ kind: RuntimeKind, plant: (Bundle, Canary) throws -> Void,
                configure: (inout Config, Canary) throws -> Void) async throws -> (CommandResult, Canary) {
    let canary = try Canary(bed)
    let bundle = try await bed.bundle("\(kind.rawValue)\(bed.next())") { c in
        c["root", "readonly"] = false
        c.shell("ls / >/dev/null; echo ran")
    }
    try bundle.edit { try configure(&$0, canary) }
    try plant(bundle, canary)
    let result = try await bed.cli(kind).run(["run", "--bundle", bundle.path, bed.id("hostile")], timeout: .seconds(30))
    canary.expectUntouched(result)
    #expect(mounts(under: bed.scratch.path).isEmpty, "left mounted on the host: \(mounts(under: bed.scratch.path))\n\(result)")
    if result.status != 0 {
        #expect(!result.stderr.isEmpty, "a refused bundle needs a message\n\(result)")
    }
    return (result, canary)
}

func replaceWithSymlink(_ path: String, _ target: String) throws {
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
}

/// Drops the spec's /dev tmpfs, so the image's own /dev is what the runtime works in.
func withoutDevMount(_ c: inout Config) {
    c["mounts"] = (c["mounts"] as? [[String: Any]] ?? []).filter { ($0["destination"] as? String)?.hasPrefix("/dev") != true }
}

@Suite("Hostile rootfs")
struct HostileRootfsTests {
    @Test(arguments: [RuntimeKind.berth])
    func devIsASymlinkToAHostDirectory(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            _ = try await hostileRun(bed, kind, plant: { b, canary in
                try replaceWithSymlink(b.rootfs + "/dev", canary.dir)
            }, configure: { _, _ in })
        }
    }

    @Test(arguments: [RuntimeKind.berth])
    func devNullIsASymlinkToAHostFile(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let (result, _) = try await hostileRun(bed, kind, plant: { b, canary in
                try replaceWithSymlink(b.rootfs + "/dev/null", canary.file)
            }, configure: { c, _ in
                withoutDevMount(&c)
                c["linux", "devices"] = [["type": "c", "path": "/dev/null", "major": 1, "minor": 3, "fileMode": 0o666, "uid": 0, "gid": 0]]
                c.shell("echo overwritten > /dev/null; stat -c %F /dev/null")
            })
            if result.status == 0 { #expect(result.stdout == "character special file\n", "\(result)") }
        }
    }

    @Test(arguments: [RuntimeKind.berth])
    func procIsASymlinkToTheRoot(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            _ = try await hostileRun(bed, kind, plant: { b, _ in
                try replaceWithSymlink(b.rootfs + "/proc", "/")
            }, configure: { _, _ in })
        }
    }

    @Test(arguments: [RuntimeKind.berth])
    func procIsASymlinkToAHostPath(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            _ = try await hostileRun(bed, kind, plant: { b, canary in
                try replaceWithSymlink(b.rootfs + "/proc", canary.dir + "/sub")
            }, configure: { _, _ in })
        }
    }

    @Test(arguments: [RuntimeKind.berth])
    func devPtsIsASymlinkOut(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            _ = try await hostileRun(bed, kind, plant: { b, canary in
                try FileManager.default.createDirectory(atPath: b.rootfs + "/dev", withIntermediateDirectories: true)
                try replaceWithSymlink(b.rootfs + "/dev/pts", canary.dir + "/sub")
            }, configure: { c, _ in
                c["mounts"] = (c["mounts"] as? [[String: Any]] ?? []).filter { ($0["destination"] as? String) != "/dev" }
            })
        }
    }

    @Test(arguments: [RuntimeKind.berth])
    func bindDestinationThroughAnAbsoluteSymlinkOut(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let source = bed.scratch("bindsrc")
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            try Data("from-source\n".utf8).write(to: URL(fileURLWithPath: source + "/payload"))
            let (result, _) = try await hostileRun(bed, kind, plant: { b, canary in
                try replaceWithSymlink(b.rootfs + "/mnt", canary.dir)
            }, configure: { c, _ in
                c.appendMount(["destination": "/mnt/x", "type": "bind", "source": source, "options": ["rbind", "ro"]])
                c.shell("cat /mnt/x/payload")
            })
            if result.status == 0 { #expect(result.stdout == "from-source\n", "\(result)") }
        }
    }

    @Test(arguments: [RuntimeKind.berth])
    func bindDestinationThroughARelativeSymlinkOut(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let source = bed.scratch("bindsrc")
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            _ = try await hostileRun(bed, kind, plant: { b, canary in
                try replaceWithSymlink(b.rootfs + "/mnt", String(repeating: "../", count: 12) + canary.dir.dropFirst())
            }, configure: { c, _ in
                c.appendMount(["destination": "/mnt/x", "type": "bind", "source": source, "options": ["rbind"]])
            })
        }
    }

    @Test(arguments: [RuntimeKind.berth])
    func mountDestinationWithDotDotComponents(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            _ = try await hostileRun(bed, kind, plant: { _, _ in }, configure: { c, canary in
                c.appendMount(["destination": String(repeating: "/..", count: 12) + canary.dir + "/escaped",
                               "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]])
            })
        }
    }

    @Test(arguments: [RuntimeKind.berth])
    func cwdThroughASymlinkOut(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            _ = try await hostileRun(bed, kind, plant: { b, canary in
                try replaceWithSymlink(b.rootfs + "/work", canary.dir)
            }, configure: { c, _ in
                c["process", "cwd"] = "/work"
                c.shell("touch planted; pwd")
            })
        }
    }

    @Test(arguments: [RuntimeKind.berth])
    func sysIsASymlinkToAHostPath(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            _ = try await hostileRun(bed, kind, plant: { b, canary in
                try replaceWithSymlink(b.rootfs + "/sys", canary.dir + "/sub")
            }, configure: { _, _ in })
        }
    }

    /// A file bind mount whose destination in the image is a symlink to a host file.
    @Test(arguments: [RuntimeKind.berth])
    func fileBindDestinationIsASymlinkToAHostFile(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let source = try bed.scratch.write("hosts", "127.0.0.1 from-spec\n")
            let (result, _) = try await hostileRun(bed, kind, plant: { b, canary in
                try replaceWithSymlink(b.rootfs + "/etc/hosts", canary.file)
            }, configure: { c, _ in
                c.appendMount(["destination": "/etc/hosts", "type": "bind", "source": source, "options": ["bind", "ro"]])
                c.shell("cat /etc/hosts")
            })
            if result.status == 0 { #expect(result.stdout == "127.0.0.1 from-spec\n", "\(result)") }
        }
    }

    /// Masked and read-only paths that are symlinks out of the root (in /etc, not /proc).
    @Test(arguments: [RuntimeKind.berth])
    func maskedAndReadOnlyPathsThroughSymlinks(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            _ = try await hostileRun(bed, kind, plant: { b, canary in
                try replaceWithSymlink(b.rootfs + "/etc/masked", canary.file)
                try replaceWithSymlink(b.rootfs + "/etc/rodir", canary.dir)
            }, configure: { c, _ in
                c["linux", "maskedPaths"] = ["/etc/masked", "/proc/kcore"]
                c["linux", "readonlyPaths"] = ["/etc/rodir", "/proc/sys"]
            })
        }
    }

    /// Only stdio reaches the process; its cwd is inside the container (CVE-2024-21626).
    @Test(arguments: [RuntimeKind.berth])
    func processSeesNoHostDescriptor(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let bundle = try await bed.bundle { $0.shell("ls /proc/$$/fd; readlink /proc/$$/cwd") }
            let result = try await bed.cli(kind).run(["run", "--bundle", bundle.path, bed.id("fds")])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == "0\n1\n2\n/\n", "\(result)")
        }
    }

    /// A created container's init does not run from the host binary as the host sees
    /// it (CVE-2019-5736): it runs from a private read-only overlay of it (or, where that
    /// cannot be mounted, a sealed memfd copy), on another device than the binary.
    @Test(arguments: [RuntimeKind.berth])
    func initOfACreatedContainerIsSealed(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let bundle = try await bed.bundle { $0.args = ["true"] }
            let id = bed.id("sealed")
            let create = try await rt("create", "--bundle", bundle.path, id)
            try #require(create.status == 0, "\(create)")
            let pid = try #require(try await rt.state(id)?["pid"] as? Int)
            let exe = readLink("/proc/\(pid)/exe") ?? ""
            var running = stat(), host = stat()
            #expect(stat("/proc/\(pid)/exe", &running) == 0 && stat(Binaries.berthRuntime, &host) == 0)
            #expect(running.st_dev != host.st_dev, "/proc/\(pid)/exe -> \(exe) is on the host binary's file system")
            #expect(exe == "/berth-runtime" || exe.contains("memfd"), "/proc/\(pid)/exe -> \(exe)")
            // And it cannot be opened for writing through /proc.
            let fd = open("/proc/\(pid)/exe", O_WRONLY | O_CLOEXEC)
            #expect(fd < 0, "the init's binary is writable")
            if fd >= 0 { close(fd) }
        }
    }
}
