import ArgumentParser
@testable import BerthCtl
import Testing

/// berthctl reads `run` command lines without ArgumentParser when it can (QuickRun). What
/// it reads must be exactly what ArgumentParser reads, and what it cannot read must be
/// left to ArgumentParser.
@Suite("berthctl run: the quick parser")
struct QuickRunParseTests {
    /// Every property of the command, as ArgumentParser's wrappers hold it (a property the
    /// quick parser forgot would show as its unparsed definition).
    static func dump(_ command: RunCommand) -> String {
        var text = ""
        Swift.dump(command, to: &text)
        return text
    }

    static let sameAsArgumentParser: [[String]] = [
        ["run", "--rootfs", "/r", "c1"],
        ["run", "--rm", "--rootfs", "/r", "c1", "true"],
        ["run", "--rm", "--rootfs=/r", "c1", "sh", "-c", "echo hi; exit 3"],
        ["run", "-d", "-t", "--rootfs", "/r", "c1", "sleep", "100"],
        ["run", "--detach", "--tty", "--rm", "--rootfs", "/r", "c1"],
        ["run", "-a", "/tmp/b.sock", "-n", "ns1", "--timeout", "2.5", "--format", "json", "--rootfs", "/r", "c1"],
        ["run", "--address=/x.sock", "--namespace=n", "--timeout=30", "docker.io/library/busybox:latest", "c2", "ls", "-l"],
        ["run", "-e", "A=1", "--env", "B=2", "--env=C=3", "--cwd", "/tmp", "-u", "1000:1000", "--rootfs", "/r", "c1"],
        ["run", "--mount", "type=bind,src=/a,dst=/b,options=ro", "--mount=type=bind,src=/c,dst=/d", "--rootfs", "/r", "c1"],
        ["run", "--net-host", "--hostname", "h", "--memory-limit", "1048576", "--cpus", "0.5", "--pids-limit", "20",
         "--rootfs", "/r", "c1"],
        ["run", "--cap-add", "NET_ADMIN", "--cap-add", "CAP_SYS_TIME", "--cap-drop", "chown", "--privileged", "--read-only",
         "--rootfs", "/r", "c1"],
        ["run", "--seccomp-profile", "/p.json", "--runtime", "crun", "--snapshotter", "native", "--log-uri", "file:///l",
         "--rootfs", "/r", "c1"],
        ["run", "--cpus=-1", "--rootfs", "/r", "c1"],
        ["run", "img"],
        ["run", "--rootfs", "/r", "c1", "true", "--rm", "-x", "--"],
    ]

    @Test("a command line both parsers read gives the same command", arguments: sameAsArgumentParser)
    func sameCommand(words: [String]) throws {
        let quick = try #require(QuickRun.parse(words), "the quick parser fell back on \(words)")
        let parsed = try #require(try Berthctl.parseAsRoot(words) as? RunCommand)
        #expect(Self.dump(quick) == Self.dump(parsed))
        #expect(quick.rest == parsed.rest && quick.first == parsed.first)
    }

    static let leftToArgumentParser: [[String]] = [
        ["run", "--help"], ["run", "-h"], ["run"], ["run", "--rm"],
        ["run", "-dt", "--rootfs", "/r", "c1"],                       // combined short flags
        ["run", "--rm", "--rm", "--rootfs", "/r", "c1"],               // repeated flag
        ["run", "--rootfs", "/a", "--rootfs", "/b", "c1"],             // repeated single value
        ["run", "--rootfs", "/r", "c1", "--rm", "true"],               // option after the first positional word
        ["run", "--rootfs", "/r", "--", "c1"],
        ["run", "--memory-limit", "1g", "--rootfs", "/r", "c1"],       // value that does not parse
        ["run", "--timeout", "0", "--rootfs", "/r", "c1"],             // fails validation
        ["run", "--format", "yaml", "--rootfs", "/r", "c1"],
        ["run", "--cwd", "--rm", "--rootfs", "/r", "c1"],              // value that looks like an option
        ["run", "--rm=yes", "--rootfs", "/r", "c1"],
        ["run", "--no-such-flag", "--rootfs", "/r", "c1"],
        ["containers", "ls"], ["tasks", "ls"],
    ]

    @Test("anything else is left to ArgumentParser", arguments: leftToArgumentParser)
    func fallsBack(words: [String]) {
        #expect(QuickRun.parse(words) == nil)
    }
}
