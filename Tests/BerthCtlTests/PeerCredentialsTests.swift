import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Who may use the API socket: berthd checks each peer with SO_PEERCRED, whatever the
/// socket file's mode lets through.
@Suite("API socket peer credentials", .timeLimit(.minutes(3)))
struct PeerCredentialsTests {
    static let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]

    /// Lets uid 65534 reach sockets inside `scratch` (mkdtemp makes it 0700).
    private func openToOthers(_ scratch: Scratch) {
        chmod(scratch.path, 0o711)
    }

    @Test("a peer that is neither root nor in the group gets PermissionDenied with id null, then the connection closes")
    func strangerIsRefused() async throws {
        try await withDaemon { daemon, scratch in
            openToOthers(scratch)
            #expect(chmod(daemon.address, 0o666) == 0) // only berthd's own check stands in the way now

            let result = try await RawClient.send(.version, to: daemon.address, setpriv: Self.nobody, checkClose: true)
            #expect(result.status == 0, "\(result)")
            let message = try RawClient.reply(result)
            #expect(message["id"] is NSNull, "\(message)")
            #expect(message["result"] == nil, "\(message)")
            #expect(RawClient.errorKind(message) == "PermissionDenied", "\(message)")
            #expect(RawClient.sawClose(result), "\(result)")

            // Root is still served.
            let version = try await berthctl("version", address: daemon.address)
            #expect(version.status == 0, "\(version)")
        }
    }

    enum SocketMode: String, CaseIterable, CustomTestStringConvertible {
        case ownerAndGroup = "0660 socket (the kernel refuses)"
        case worldConnectable = "0666 socket (berthd refuses)"
        var testDescription: String { rawValue }
    }

    @Test("berthctl run by a stranger says permission denied in one line, exit 1, not that berthd is down",
          arguments: SocketMode.allCases)
    func berthctlAsStranger(_ mode: SocketMode) async throws {
        try await withDaemon { daemon, scratch in
            openToOthers(scratch)
            if mode == .worldConnectable { chmod(daemon.address, 0o666) }
            let result = try await runProgram("/usr/bin/setpriv", Self.nobody + [Binaries.berthctl, "version", "-a", daemon.address])
            #expect(result.status == 1, "\(result)")
            #expect(result.stdout.isEmpty, "\(result)")
            #expect(result.stderrLines.count == 1, "\(result)")
            #expect(result.stderr.lowercased().contains("permission denied"), "\(result)")
            #expect(!result.stderr.contains("is berthd running"), "misleading hint: berthd is running, the caller lacks permission\n\(result)")
        }
    }

    enum Membership: String, CaseIterable, CustomTestStringConvertible {
        case primary = "primary gid"
        case supplementary = "supplementary group"
        var testDescription: String { rawValue }
        var setprivFlags: [String] {
            switch self {
            case .primary: ["--reuid=65534", "--regid=1", "--clear-groups"]
            case .supplementary: ["--reuid=65534", "--regid=65534", "--groups=1"]
            }
        }
    }

    @Test("with [api] group configured, a member of that group is served; the socket is that group's, mode 0660",
          arguments: Membership.allCases)
    func groupMemberIsServed(_ membership: Membership) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        openToOthers(scratch)
        let config = try scratch.write("c.toml", "[api]\ngroup = \"1\"\n")
        let daemon = try TestDaemon.start(in: scratch, arguments: ["--config", config])
        defer { daemon.kill() }
        try await daemon.waitUntilServing()
        _ = try await berthctl("version", address: daemon.address) // past the bind-chmod-chown window

        let socket = try #require(FileInfo(daemon.address))
        #expect(socket.gid == 1)
        #expect(octal(socket.permissions) == "0660")

        let result = try await RawClient.send(.version, to: daemon.address, setpriv: membership.setprivFlags)
        #expect(result.status == 0, "\(result)")
        let message = try RawClient.reply(result)
        #expect(message["error"] == nil, "\(message)")
        #expect(message["id"] as? Int == 1, "\(message)")
        let version = try #require(message["result"] as? [String: Any], "\(message)")
        #expect(version["apiVersion"] as? Int == 1, "\(message)")

        // Outside the group, still refused even when the mode would let it connect.
        chmod(daemon.address, 0o666)
        let stranger = try await RawClient.send(.version, to: daemon.address, setpriv: Self.nobody, checkClose: true)
        #expect(RawClient.errorKind(try RawClient.reply(stranger)) == "PermissionDenied", "\(stranger)")

        #expect(await daemon.stop() == .exited(0), "\(daemon.output)")
    }
}
