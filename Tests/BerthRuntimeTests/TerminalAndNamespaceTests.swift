import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A console-socket server in C (compiled once per test with cc): listens on a UNIX
/// socket, receives one descriptor with SCM_RIGHTS, writes where the descriptor points
/// (readlink) to OUT.info, then copies everything read from it to OUT until EOF/EIO.
let consoleServerSource = #"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc != 3) return 2;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 1) != 0) { perror("bind"); return 1; }
    int c = accept(s, NULL, NULL);
    if (c < 0) { perror("accept"); return 1; }
    char byte, control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    if (recvmsg(c, &msg, 0) < 0) { perror("recvmsg"); return 1; }
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (!cm || cm->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "no fd received\n"); return 1; }
    int master;
    memcpy(&master, CMSG_DATA(cm), sizeof master);
    close(c);
    char info[512], link[256];
    snprintf(link, sizeof link, "/proc/self/fd/%d", master);
    ssize_t n = readlink(link, info, sizeof info - 1);
    info[n < 0 ? 0 : n] = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s.info", argv[2]);
    FILE *f = fopen(path, "w");
    fprintf(f, "%s\n", info);
    fclose(f);
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char buf[4096];
    while ((n = read(master, buf, sizeof buf)) > 0) write(out, buf, n);
    close(out);
    return 0;
}
"""#

func compileConsoleServer(_ bed: TestBed) async throws -> String {
    let source = try bed.scratch.write("consock.c", consoleServerSource)
    let binary = bed.scratch("consock")
    let cc = try await runProgram("/usr/bin/cc", ["-O1", "-o", binary, source])
    guard cc.status == 0 else { throw TestFailure("cc failed:\n\(cc)") }
    return binary
}

@Suite("Terminal and namespaces")
struct TerminalAndNamespaceTests {
    /// What the container printed on its terminal, received through --console-socket.
    func terminalOutput(_ bed: TestBed, _ kind: RuntimeKind, server: String) async throws -> (output: String, info: String) {
        let rt = bed.cli(kind)
        let socket = bed.scratch("\(kind.rawValue).sock")
        let out = bed.scratch("\(kind.rawValue).out")
        let serverOut = try CapturedOutput(), serverErr = try CapturedOutput()
        let child = try spawn(server, [socket, out], stdout: serverOut, stderr: serverErr)
        defer { child.killAndReap() }
        #expect(try await eventually { FileManager.default.fileExists(atPath: socket) })
        let bundle = try await bed.bundle("tty-\(kind.rawValue)") { c in
            c["process", "terminal"] = true
            c["process", "consoleSize"] = ["height": 33, "width": 111]
            c.shell("tty; echo hello; ls -l /dev/console | cut -c1-10; ls /proc/$$/fd; [ -t 0 ] && echo stdin-is-tty")
        }
        let id = bed.id("tty-\(kind.rawValue)")
        let run = try await rt("run", "--detach", "--console-socket", socket, "--bundle", bundle.path, id)
        try #require(run.status == 0, "\(run)")
        guard await child.wait(timeout: .seconds(20)) != nil else { throw TestFailure("console server still reading: \(serverErr.text)") }
        return (readText(out) ?? "", readText(out + ".info") ?? "")
    }

    @Test func terminalThroughConsoleSocketMatchesRunc() async throws {
        try await withTestBed { bed in
            let server = try await compileConsoleServer(bed)
            let berth = try await terminalOutput(bed, .berth, server: server)
            let runc = try await terminalOutput(bed, .runc, server: server)
            #expect(berth.output.contains("hello\r\n"), "berth-runtime terminal output: \(berth.output.debugDescription)")
            #expect(berth.output.contains("/dev/pts/0"), "\(berth.output.debugDescription)")
            #expect(berth.output.contains("stdin-is-tty"), "\(berth.output.debugDescription)")
            #expect(berth.info.contains("ptmx"), "the received fd should be a pty master: \(berth.info)")
            #expect(berth.output == runc.output, "terminal output differs\n\(unifiedDiff(berth.output, runc.output))")
        }
    }

    @Test func terminalWithoutConsoleSocketIsRefused() async throws {
        try await withTestBed { bed in
            let bundle = try await bed.bundle { c in c["process", "terminal"] = true }
            let id = bed.id("notty")
            let create = try await bed.berth("create", "--bundle", bundle.path, id)
            #expect(create.status != 0)
            #expect(create.stderr.contains("console-socket"), "\(create)")
            #expect(!FileManager.default.fileExists(atPath: bed.berth.root + "/" + id))
        }
    }

    /// Container root mapped to host uid/gid 100000.
    @Test func userNamespaceWithMappings() async throws {
        try await withTestBed { bed in
            chmod(bed.scratch.path, 0o755) // the mapped root must reach the bundles
            let d = try await differential(bed) { c in
                c.append(["type": "user"], to: "linux", "namespaces")
                c["linux", "uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
                c["linux", "gidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
                c.shell("id; cat /proc/self/uid_map /proc/self/gid_map; ls -ln /bin/busybox | cut -c1-30; ls /dev; grep CapEff /proc/self/status")
            }
            expectSame(d)
            #expect(d.berth.stdout.hasPrefix("uid=0(root) gid=0(root)"), "\(d.berth)")
            #expect(d.berth.stdout.contains("0     100000      65536"), "\(d.berth)")
        }
    }

    @Test func userNamespaceProcessIsUnprivilegedOnTheHost() async throws {
        try await withTestBed { bed in
            chmod(bed.scratch.path, 0o755)
            let bundle = try await bed.bundle { c in
                c.append(["type": "user"], to: "linux", "namespaces")
                c["linux", "uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
                c["linux", "gidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
                c.args = sleepForever
            }
            let id = bed.id("userns")
            let run = try await bed.berth("run", "--detach", "--bundle", bundle.path, id)
            try #require(run.status == 0, "\(run)")
            let pid = try #require(try await bed.berth.state(id)?["pid"] as? Int)
            let status = readText("/proc/\(pid)/status") ?? ""
            #expect(status.contains("Uid:\t100000\t100000\t100000\t100000"), "\(status)")
            #expect(readLink("/proc/\(pid)/ns/user") != readLink("/proc/self/ns/user"))
        }
    }

    /// A namespace given by path is joined, not created.
    @Test(arguments: RuntimeKind.allCases)
    func joinsANamespaceByPath(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let pid = try await Self.sleeper(bed, rt, "first")
            let second = try await bed.bundle("second") { c in
                c["linux", "namespaces"] = Self.joining(["network": "net", "uts": "uts", "ipc": "ipc"], of: pid,
                                                        c["linux", "namespaces"] as? [[String: Any]])
                c["hostname"] = nil
                c.shell("for n in net uts ipc pid; do readlink /proc/self/ns/$n; done")
            }
            let run = try await rt("run", "--bundle", second.path, bed.id("nsb"))
            #expect(run.status == 0, "\(run)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4, "\(run)")
            if lines.count == 4 {
                #expect(lines[0] == readLink("/proc/\(pid)/ns/net"))
                #expect(lines[1] == readLink("/proc/\(pid)/ns/uts"))
                #expect(lines[2] == readLink("/proc/\(pid)/ns/ipc"))
                #expect(lines[3] != readLink("/proc/\(pid)/ns/pid"), "pid namespace was not asked to be joined")
            }
        }
    }

    /// Joining another container's pid namespace makes the runtime fork once more; the
    /// process still starts in its own cgroup, and its new cgroup namespace is rooted
    /// there ("/" on every line of /proc/self/cgroup).
    @Test(arguments: RuntimeKind.allCases)
    func joiningAPidNamespaceKeepsTheCgroupNamespaceRoot(_ kind: RuntimeKind) async throws {
        try await withTestBed { bed in
            let rt = bed.cli(kind)
            let pid = try await Self.sleeper(bed, rt, "pidfirst")
            let second = try await bed.bundle("pidsecond") { c in
                let namespaces = Self.joining(["pid": "pid"], of: pid, c["linux", "namespaces"] as? [[String: Any]])
                #expect(namespaces.contains { $0["type"] as? String == "cgroup" }, "the test bundle has no cgroup namespace")
                c["linux", "namespaces"] = namespaces
                c.shell("sort /proc/self/cgroup")
            }
            let run = try await rt("run", "--bundle", second.path, bed.id("pidb"))
            #expect(run.status == 0, "\(run)")
            let lines = run.stdout.split(separator: "\n")
            #expect(lines.count >= 2 && lines.allSatisfy { $0.hasSuffix(":/") }, "\(run)")
        }
    }

    /// A detached container running `sleep`, whose namespaces another joins; its init's pid.
    static func sleeper(_ bed: TestBed, _ rt: RuntimeCLI, _ name: String) async throws -> Int {
        let bundle = try await bed.bundle(name) { $0.args = sleepForever }
        let id = bed.id(name)
        try #require(try await rt("run", "--detach", "--bundle", bundle.path, id).status == 0)
        return try #require(try await rt.state(id)?["pid"] as? Int)
    }

    /// The spec's namespaces with those of `types` (OCI type → /proc/<pid>/ns name)
    /// replaced by the path of `pid`'s.
    static func joining(_ types: [String: String], of pid: Int, _ namespaces: [[String: Any]]?) -> [[String: Any]] {
        (namespaces ?? []).map { ns in
            guard let type = ns["type"] as? String, let proc = types[type] else { return ns }
            return ["type": type, "path": "/proc/\(pid)/ns/\(proc)"]
        }
    }
}
