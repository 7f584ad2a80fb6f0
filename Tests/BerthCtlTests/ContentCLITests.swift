import BerthAPI
import BerthContent
import BerthDigest
import BerthMetadata
import Foundation
import Testing

/// `berthctl content …` and `berthctl leases …` end to end against a real berthd.
///
/// No API method carries blob bytes, so the blobs are committed by this process into the
/// daemon's own store (same root, same SQLite database, which WAL lets two processes
/// share), as the image service will inside berthd.
@Suite("berthctl content and leases", .timeLimit(.minutes(3)))
struct ContentCLITests {
    private func rows(_ output: String) -> [[String]] {
        output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
    }

    @Test("content ls (table, -q, json, filters), info, label, rm with one failure")
    func content() async throws {
        try await withDaemon { daemon, _ in
            let address = daemon.address
            let store = try ContentStore(root: daemon.root + "/content", database: try Database(path: daemon.root + "/metadata.db"))
            let config = try store.ingest(namespace: "default", ref: "c", bytes: Array("{\"config\":1}".utf8), labels: ["kind": "config"])
            let layer = try store.ingest(namespace: "default", ref: "l", bytes: [UInt8](repeating: 7, count: 3000))
            _ = try store.ingest(namespace: "other", ref: "l", bytes: [UInt8](repeating: 7, count: 3000))

            let table = try await berthctl("content", "ls", address: address)
            #expect(table.status == 0, "\(table)")
            let lines = rows(table.stdout)
            #expect(lines.first == ["DIGEST", "SIZE", "AGE", "LABELS"], "\(table)")
            #expect(lines.dropFirst().map(\.first) == [config.digest, layer.digest].sorted(), "\(table)")
            let configRow = try #require(lines.first { $0.first == config.digest })
            #expect(configRow.last == "kind=config" && configRow[1...2] == ["12", "B"], "\(table)")
            #expect(lines.first { $0.first == layer.digest }?.last == "-", "no labels show as -, as ctr")

            let quiet = try await berthctl("content", "ls", "-q", "labels.kind==config", address: address)
            #expect(quiet.status == 0 && quiet.stdout == config.digest + "\n", "\(quiet)")

            let json = try await berthctl("content", "ls", "--format", "json", address: address)
            #expect(try JSONDecoder().decode([ContentInfo].self, from: Data(json.stdout.utf8)).map(\.digest) == [config.digest, layer.digest].sorted())

            let info = try await berthctl("content", "info", layer.digest, address: address)
            #expect(info.status == 0, "\(info)")
            #expect(try JSONDecoder().decode(ContentInfo.self, from: Data(info.stdout.utf8)) == layer)

            let label = try await berthctl("content", "label", config.digest, "containerd.io/gc.root=1", "kind=", address: address)
            #expect(label.status == 0 && label.stdout == "containerd.io/gc.root=1\n", "\(label)")
            let show = try await berthctl("content", "label", config.digest, address: address)
            #expect(show.stdout == "containerd.io/gc.root=1\n", "\(show)")

            let missing = SHA256.digest(Array("missing".utf8)).string
            let rm = try await berthctl("content", "rm", layer.digest, missing, address: address)
            #expect(rm.status == 1, "\(rm)")
            #expect(rm.stdout == layer.digest + "\n", "\(rm)")
            #expect(rm.stderr.contains("not found"), "\(rm)")
            #expect(try await berthctl("content", "ls", "-q", address: address).stdout == config.digest + "\n")
            // Another namespace's row, and so the bytes, are untouched.
            let other = try await berthctl(["-n", "other", "content", "ls", "-q"], env: ["BERTH_ADDRESS": address])
            #expect(other.stdout == layer.digest + "\n", "\(other)")
            #expect(FileManager.default.fileExists(atPath: store.path(try Digest(parsing: layer.digest))))

            let bad = try await berthctl("content", "info", "sha256:nope", address: address)
            #expect(bad.status == 1 && bad.stderr.contains("invalid digest"), "\(bad)")
        }
    }

    @Test("leases create (generated id, --id, --label, --expires), ls, rm with --sync and a failure")
    func leases() async throws {
        try await withDaemon { daemon, _ in
            let address = daemon.address
            let named = try await berthctl("leases", "create", "--id", "import-1", "--label", "owner=ci", "team=a", address: address)
            #expect(named.status == 0 && named.stdout == "import-1\n", "\(named)")
            let generated = try await berthctl("leases", "create", "--expires", "0", address: address)
            #expect(generated.status == 0, "\(generated)")
            let generatedID = generated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!generatedID.isEmpty)

            let table = try await berthctl("leases", "ls", address: address)
            #expect(table.status == 0, "\(table)")
            let lines = rows(table.stdout)
            #expect(lines.first == ["ID", "CREATED", "AT", "LABELS"], "\(table)")
            let row = try #require(lines.first { $0.first == "import-1" }, "\(table)")
            // The default expiry is 24 hours, written as containerd's label.
            #expect(row.last?.contains("containerd.io/gc.expire=") == true && row.last?.contains("owner=ci,team=a") == true, "\(table)")
            #expect(lines.first { $0.first == generatedID }?.last == "-", "--expires 0 never expires: \(table)")

            let json = try await berthctl("leases", "ls", "--format", "json", "id==import-1", address: address)
            let leases = try JSONDecoder().decode([Lease].self, from: Data(json.stdout.utf8))
            let expire = try #require(leases.first?.labels[GCLabels.expire])
            let seconds = try #require(RFC3339.seconds(expire))
            #expect(abs(seconds - (RFC3339.now() + 86400)) < 120, "\(expire)")

            let badExpiry = try await berthctl("leases", "create", "--expires", "tomorrow", address: address)
            #expect(badExpiry.status != 0 && badExpiry.stderr.contains("--expires"), "\(badExpiry)")

            let rm = try await berthctl("leases", "rm", "--sync", "import-1", "nope", address: address)
            #expect(rm.status == 1 && rm.stdout == "import-1\n" && rm.stderr.contains("not found"), "\(rm)")
            let left = try await berthctl("leases", "ls", "-q", address: address)
            #expect(left.stdout == generatedID + "\n", "\(left)")
        }
    }
}
