import BerthAPI
import Foundation
import Testing

/// `berthctl namespaces …` end to end, as an administrator uses it.
@Suite("berthctl namespaces", .timeLimit(.minutes(3)))
struct NamespacesCLITests {
    /// The names `namespaces ls -q` prints.
    private func names(_ address: String) async throws -> [String] {
        let ls = try await berthctl("namespaces", "ls", "-q", address: address)
        #expect(ls.status == 0, "\(ls)")
        return ls.stdout.split(separator: "\n").map(String.init)
    }

    @Test("create with labels, list as table, names and JSON, relabel")
    func createListLabel() async throws {
        try await withDaemon { daemon, _ in
            let address = daemon.address
            let create = try await berthctl("namespaces", "create", "build", "env=ci", address: address)
            #expect(create.status == 0, "\(create)")
            #expect(create.stderr.isEmpty, "\(create)")

            let table = try await berthctl("namespaces", "ls", address: address)
            #expect(table.status == 0, "\(table)")
            let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.first == ["NAME", "LABELS"], "\(table)")
            #expect(rows.contains(["build", "env=ci"]), "\(table)")

            #expect(try await names(address) == ["build"])

            let json = try await berthctl("namespaces", "ls", "--format", "json", address: address)
            #expect(json.status == 0, "\(json)")
            let decoded = try JSONDecoder().decode([Namespace].self, from: Data(json.stdout.utf8))
            #expect(decoded == [Namespace(name: "build", labels: ["env": "ci"])])

            let label = try await berthctl("namespaces", "label", "build", "owner=me", "env=", address: address)
            #expect(label.status == 0, "\(label)")
            #expect(label.stdout == "owner=me\n", "\(label)")

            let after = try await berthctl("namespaces", "ls", "--format", "json", address: address)
            #expect(try JSONDecoder().decode([Namespace].self, from: Data(after.stdout.utf8))
                    == [Namespace(name: "build", labels: ["owner": "me"])], "\(after)")

            // The aliases ctr users type.
            let alias = try await berthctl("ns", "list", "-q", address: address)
            #expect(alias.status == 0 && alias.stdout == "build\n", "\(alias)")
        }
    }

    @Test("creating an existing namespace fails with exit 1 and says it already exists")
    func duplicateCreateFails() async throws {
        try await withDaemon { daemon, _ in
            let address = daemon.address
            #expect(try await berthctl("namespaces", "create", "build", "env=ci", address: address).status == 0)
            let again = try await berthctl("namespaces", "create", "build", address: address)
            #expect(again.status == 1, "\(again)")
            #expect(again.stderr.contains("already exists"), "\(again)")
            #expect(again.stdout.isEmpty, "\(again)")
            // The original keeps its labels.
            let label = try await berthctl("namespaces", "label", "build", address: address)
            #expect(label.stdout == "env=ci\n", "\(label)")
        }
    }

    @Test("rm removes what it can, prints each removed name, reports the rest, exit 1")
    func removeReportsEachName() async throws {
        try await withDaemon { daemon, _ in
            let address = daemon.address
            #expect(try await berthctl("namespaces", "create", "build", address: address).status == 0)
            #expect(try await berthctl("namespaces", "create", "keep", address: address).status == 0)
            let rm = try await berthctl("namespaces", "rm", "build", "nosuch", address: address)
            #expect(rm.status == 1, "\(rm)")
            #expect(rm.stdout == "build\n", "\(rm)")
            #expect(rm.stderr.contains("nosuch"), "\(rm)")
            #expect(rm.stderrLines.count == 1, "\(rm)")
            #expect(try await names(address) == ["keep"])

            let ok = try await berthctl("namespaces", "rm", "keep", address: address)
            #expect(ok.status == 0 && ok.stdout == "keep\n", "\(ok)")
            #expect(try await names(address) == [])
        }
    }

    @Test("invalid namespace names are refused with exit 1 and create nothing")
    func invalidNamesAreRefused() async throws {
        try await withDaemon { daemon, _ in
            let address = daemon.address
            #expect(try await berthctl("namespaces", "create", "ok", address: address).status == 0)
            let cases: [(name: String, message: String)] = [
                ("../x", "invalid"),
                ("a/b", "invalid"),
                ("-x", "invalid"),
                ("a..b", "invalid"),
                ("x.", "invalid"),
                (String(repeating: "a", count: 77), "at most 76"),
                ("", "must not be empty"),
            ]
            for (name, message) in cases {
                let create = try await berthctl(["namespaces", "create", "--", name], env: ["BERTH_ADDRESS": address])
                #expect(create.status == 1, "name \"\(name)\": \(create)")
                #expect(create.stderr.contains(message), "name \"\(name)\": \(create)")
                #expect(create.stdout.isEmpty, "name \"\(name)\": \(create)")
            }
            // 76 characters is the limit, not past it.
            let longest = String(repeating: "b", count: 76)
            let ok = try await berthctl("namespaces", "create", longest, address: address)
            #expect(ok.status == 0, "\(ok)")
            #expect(try await names(address) == [longest, "ok"])
        }
    }

    @Test("a label without '=' is a usage error and creates nothing")
    func labelWithoutEqualsIsUsageError() async throws {
        try await withDaemon { daemon, _ in
            let address = daemon.address
            let create = try await berthctl("namespaces", "create", "build", "env", address: address)
            #expect(create.status == 64, "\(create)") // EX_USAGE, as ArgumentParser's ValidationError
            #expect(create.stderr.contains("key=value"), "\(create)")
            #expect(try await names(address) == [])

            #expect(try await berthctl("namespaces", "create", "build", address: address).status == 0)
            let label = try await berthctl("namespaces", "label", "build", "=v", address: address)
            #expect(label.status == 64, "\(label)")
            #expect(try await berthctl("namespaces", "label", "build", address: address).stdout == "\n")
        }
    }
}
