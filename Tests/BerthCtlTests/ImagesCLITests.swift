import BerthAPI
import BerthOCI
import BerthSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `berthctl images …`, `run IMAGE` and `gc` against a real berthd, on archives built
/// here from the host's busybox.
@Suite("images CLI", .serialized, .timeLimit(.minutes(3)))
struct ImagesCLITests {
    @Test("an OCI layout imports from a file; run --rm applies Entrypoint/Cmd, Env, WorkingDir and a User name; arguments replace Cmd")
    func ociRun() async throws {
        try await withDaemon { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            let layer = try busyboxLayer(in: scratch)
            let run = runConfig(user: "nobody", env: ["GREETING=hello"], entrypoint: ["/bin/sh", "-c"],
                                cmd: ["echo $GREETING; pwd; id -u; id -g"], workingDir: "/work")
            let archive = try ociArchive(scratch, "oci.tar", layer: layer, run: run, name: "example.com/tools/sh:1")
            let imported = try await berthctl("images", "import", archive, address: daemon.address)
            #expect(imported.status == 0, "\(imported)")
            #expect(imported.stdout.hasPrefix("example.com/tools/sh:1\tsha256:"), "\(imported)")
            let created = try await collectEvents(daemon.address, filters: [#"topic=="/images/create""#]) { _ in true }
            #expect(created.first?.payload["name"] == .string("example.com/tools/sh:1"), "\(created)")
            // The unpack shows as containerd's does: an extract snapshot prepared, then
            // committed under the layer's chain ID.
            let unpacked = try await collectEvents(daemon.address, filters: [#"topic~="^/snapshot/(prepare|commit)$""#]) { $0.topic == "/snapshot/commit" }
            #expect(unpacked.map(\.topic) == ["/snapshot/prepare", "/snapshot/commit"], "\(unpacked)")
            if case let .string(key)? = unpacked.first?.payload["key"] { #expect(key.hasPrefix("extract-")) }
            if case let .string(name)? = unpacked.last?.payload["name"] { #expect(name.hasPrefix("sha256:")) }

            let first = try await berthctl("run", "--rm", "example.com/tools/sh:1", "img1", address: daemon.address)
            #expect(first.status == 0, "\(first)")
            #expect(first.stdout == "hello\n/work\n65534\n65534\n", "\(first)")
            let override = try await berthctl("run", "--rm", "example.com/tools/sh:1", "img2", "echo override $GREETING; id -un",
                                              address: daemon.address)
            #expect(override.stdout == "override hello\nnobody\n", "\(override)")
            let env = try await berthctl("run", "--rm", "--env", "GREETING=bye", "example.com/tools/sh:1", "img3", "echo $GREETING",
                                         address: daemon.address)
            #expect(env.stdout == "bye\n", "\(env)")
            #expect(try await snapshotKeys(daemon.address).allSatisfy { !["img1", "img2", "img3"].contains($0) })
            let containers = try await berthctl("containers", "ls", "-q", address: daemon.address)
            #expect(containers.stdout.isEmpty, "\(containers)")
            #expect(Mounting.mountPoints(under: daemon.state).isEmpty)
        }
    }

    @Test("a docker-save tar imports from stdin; User name:group resolves through the image; a run without --rm is cleaned up by containers rm and snapshots rm")
    func dockerSaveRun() async throws {
        try await withDaemon { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            let layer = try busyboxLayer(in: scratch)
            let run = runConfig(user: "app:staff", cmd: ["/bin/sh", "-c", "id -u; id -g; pwd"], workingDir: "/work")
            let archive = try dockerSaveArchive(scratch, "save.tar", layer: layer, run: run, tags: ["test/app:1", "test/app:latest"])
            let imported = try await berthctlPiped(archive, ["images", "import", "-"], address: daemon.address)
            #expect(imported.status == 0, "\(imported)")
            #expect(try await imageNames(daemon.address) == ["docker.io/test/app:1", "docker.io/test/app:latest"])

            let kept = try await berthctl("run", "test/app", "d1", address: daemon.address)
            #expect(kept.status == 0, "\(kept)")
            #expect(kept.stdout == "1000\n50\n/work\n", "\(kept)")
            #expect(try await snapshotKeys(daemon.address).contains("d1"))
            let rm = try await berthctl("containers", "rm", "d1", address: daemon.address)
            #expect(rm.status == 0, "\(rm)")
            let srm = try await berthctl("snapshots", "rm", "d1", address: daemon.address)
            #expect(srm.status == 0, "\(srm)")
            #expect(try await !snapshotKeys(daemon.address).contains("d1"))
            #expect(Mounting.mountPoints(under: daemon.state).isEmpty)

            // A user the image does not have fails the task, not the daemon.
            let tagged = try await berthctl("images", "import", try dockerSaveArchive(scratch, "ghost.tar", layer: layer,
                                             run: runConfig(user: "ghost", cmd: ["true"]), tags: ["ghost:1"]), address: daemon.address)
            #expect(tagged.status == 0, "\(tagged)")
            let ghost = try await berthctl("run", "--rm", "ghost:1", "g1", address: daemon.address)
            #expect(ghost.status != 0 && ghost.stderr.contains("ghost"), "\(ghost)")
            #expect(try await !snapshotKeys(daemon.address).contains("g1"))
            #expect(Mounting.mountPoints(under: daemon.state).isEmpty)
        }
    }

    @Test("a rootfs tar imports through a pipe with --name and runs")
    func rootfsRun() async throws {
        try await withDaemon { daemon, scratch in
            defer { killTasks(state: daemon.state) }
            let layer = try busyboxLayer(in: scratch)
            let tar = scratch("rootfs.tar.gz")
            try writeBytes(tar, layer.blob)
            let imported = try await berthctlPiped(tar, ["images", "import", "--rootfs-tar", "--name", "bb", "-"], address: daemon.address)
            #expect(imported.status == 0, "\(imported)")
            #expect(try await imageNames(daemon.address) == ["docker.io/library/bb:latest"])
            let run = try await berthctl("run", "--rm", "bb", "r1", "echo", "hi", address: daemon.address)
            #expect(run.status == 0 && run.stdout == "hi\n", "\(run)")
            let usage = try await berthctl("images", "usage", "-b", "bb", address: daemon.address)
            #expect(usage.status == 0 && usage.stdout.contains("linux/"), "\(usage)")
            #expect(try await snapshotKeys(daemon.address) == [layer.diffID.string])
        }
    }

    @Test("images export writes an OCI archive that skopeo and umoci read; a failed export leaves the target alone")
    func exportReadByOthers() async throws {
        try await withDaemon { daemon, scratch in
            let layer = try Layer.make(["etc/hostname": "x\n"], compression: .gzip)
            let archive = try ociArchive(scratch, "in.tar", layer: layer, run: runConfig(cmd: ["/bin/sh"]), name: "example.com/x:1")
            #expect(try await berthctl("images", "import", archive, address: daemon.address).status == 0)
            let out = scratch("out.tar")
            let export = try await berthctl("images", "export", out, "example.com/x:1", address: daemon.address)
            #expect(export.status == 0, "\(export)")
            let info = try await berthctl("images", "info", "example.com/x:1", address: daemon.address)
            struct Info: Decodable { struct Image: Decodable { let target: Descriptor }; let image: Image }
            let target = try JSONDecoder().decode(Info.self, from: Data(info.stdout.utf8)).image.target

            let skopeo = try await runProgram("/usr/bin/skopeo", ["inspect", "oci-archive:" + out])
            #expect(skopeo.status == 0, "\(skopeo)")
            struct Inspect: Decodable { let Digest: String; let Layers: [String] }
            let inspected = try JSONDecoder().decode(Inspect.self, from: Data(skopeo.stdout.utf8))
            #expect(inspected.Digest == target.digest)
            #expect(inspected.Layers == [layer.digest.string])

            let layout = scratch("layout")
            try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
            try sh(#"tar -C "$1" -xf "$2""#, layout, out)
            let umoci = try await runProgram("/usr/bin/umoci", ["ls", "--layout", layout])
            #expect(umoci.status == 0 && umoci.stdout == "1\n", "\(umoci)")

            // Exporting an image that does not exist: an error, and the existing file untouched.
            try "precious".write(toFile: scratch("keep.tar"), atomically: true, encoding: .utf8)
            let missing = try await berthctl("images", "export", scratch("keep.tar"), "nope:1", address: daemon.address)
            #expect(missing.status != 0 && missing.stderr.contains("not found"), "\(missing)")
            #expect(text(scratch("keep.tar")) == "precious")
            let fresh = try await berthctl("images", "export", scratch("new.tar"), "nope:1", address: daemon.address)
            #expect(fresh.status != 0)
            #expect(!FileManager.default.fileExists(atPath: scratch("new.tar")))
        }
    }

    @Test("images ls, ls -q, filters, tag, label, rm and gc --dry-run")
    func listTagLabelRemove() async throws {
        try await withDaemon { daemon, scratch in
            let a = try ociArchive(scratch, "a.tar", layer: try Layer.make(["a": "a"]), run: runConfig(cmd: ["x"]), name: "example.com/a:1")
            let b = try ociArchive(scratch, "b.tar", layer: try Layer.make(["b": "b"]), run: runConfig(cmd: ["x"]), name: "example.com/b:1")
            for archive in [a, b] { #expect(try await berthctl("images", "import", archive, address: daemon.address).status == 0) }
            let table = try await berthctl("images", "ls", address: daemon.address)
            #expect(table.stdout.hasPrefix("REF"), "\(table)")
            #expect(table.stdout.contains("example.com/a:1") && table.stdout.contains("linux/"), "\(table)")
            #expect(try await imageNames(daemon.address) == ["example.com/a:1", "example.com/b:1"])

            let tag = try await berthctl("images", "tag", "example.com/a:1", "a2", address: daemon.address)
            #expect(tag.status == 0 && tag.stdout == "docker.io/library/a2:latest\n", "\(tag)")
            let clash = try await berthctl("images", "tag", "example.com/b:1", "a2", address: daemon.address)
            #expect(clash.status != 0 && clash.stderr.contains("already exists"), "\(clash)")
            let label = try await berthctl("images", "label", "a2", "team=blue", "tier=1", address: daemon.address)
            #expect(label.status == 0 && label.stdout.contains("team=blue"), "\(label)")
            let unlabel = try await berthctl("images", "label", "a2", "tier=", address: daemon.address)
            #expect(!unlabel.stdout.contains("tier"), "\(unlabel)")

            let byLabel = try await berthctl("images", "ls", "-q", #"labels.team==blue"#, address: daemon.address)
            #expect(byLabel.stdout == "docker.io/library/a2:latest\n", "\(byLabel)")
            let byName = try await berthctl("images", "ls", "-q", #"name~=example\.com/b"#, address: daemon.address)
            #expect(byName.stdout == "example.com/b:1\n", "\(byName)")
            let bad = try await berthctl("images", "ls", "-q", "name===", address: daemon.address)
            #expect(bad.status != 0, "\(bad)")

            // a2 keeps a's content: removing a:1 frees nothing.
            #expect(try await berthctl("images", "rm", "--sync", "example.com/a:1", address: daemon.address).status == 0)
            let dry = try await berthctl("gc", "--dry-run", address: daemon.address)
            #expect(dry.status == 0 && !dry.stdout.contains("would remove"), "\(dry)")
            #expect(dry.stdout.contains("keep\tdefault\tcontent\t") && dry.stdout.contains("image docker.io/library/a2:latest → content"), "\(dry)")

            let rm = try await berthctl("images", "rm", "a2", "missing:1", address: daemon.address)
            #expect(rm.status != 0 && rm.stdout == "a2\n" && rm.stderr.contains("missing:1"), "\(rm)")
            let dry2 = try await berthctl("gc", "--dry-run", address: daemon.address)
            // GC after the delete may already have run; either it would remove a's objects or they are gone.
            let blobsLeft = try await berthctl("gc", address: daemon.address)
            #expect(blobsLeft.status == 0, "\(dry2)\n\(blobsLeft)")
            #expect(try await imageNames(daemon.address) == ["example.com/b:1"])
            #expect(try await snapshotKeys(daemon.address).count == 1)
        }
    }

    @Test("bad input fails clearly and leaves nothing behind")
    func badInput() async throws {
        try await withDaemon { daemon, scratch in
            let random = scratch("random.bin")
            try writeBytes(random, (0..<100_000).map { _ in UInt8.random(in: 0 ... 255) })
            let good = try ociArchive(scratch, "good.tar", layer: try Layer.make(["x": String(repeating: "y", count: 300_000)]),
                                      run: runConfig(cmd: ["x"]), name: "example.com/t:1")
            let truncated = scratch("truncated.tar")
            let bytes = try readBytes(good)
            try writeBytes(truncated, Array(bytes.prefix(bytes.count / 2)))

            let cases: [([String], String)] = [
                (["images", "import", random], "archive"),
                (["images", "import", truncated], "archive"),
                (["images", "import", "--rootfs-tar", random], "needs a name"),
                (["images", "import", "--rootfs-tar", "--name", "rnd", random], "layer sha256:"),
                (["images", "import", scratch("missing.tar")], "cannot open"),
                (["images", "import", "--rootfs-tar", truncated], "needs a name"),
                (["images", "import", "--name", "Bad Name", good], "invalid image reference"),
            ]
            for (args, message) in cases {
                let result = try await berthctl(args, env: ["BERTH_ADDRESS": daemon.address])
                #expect(result.status != 0, "\(args): \(result)")
                #expect(result.stderr.contains(message), "\(args): \(result)")
                #expect(result.stderr.split(separator: "\n").count <= 2, "one clear line: \(result)")
            }
            let piped = try await berthctlPiped(truncated, ["images", "import", "-"], address: daemon.address)
            #expect(piped.status != 0 && piped.stderr.contains("archive"), "\(piped)")
            #expect(try await leftovers(daemon) == [])
            // What the failed imports stored is garbage: the collection a failed import schedules takes it.
            let blobs = daemon.root + "/content/blobs/sha256"
            #expect(await eventually { ((try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? []).isEmpty },
                    "\(listing(blobs))")
            #expect(try await snapshotKeys(daemon.address).isEmpty)
        }
    }

    @Test("a layer past [images] max_layer_bytes (a decompression bomb) fails its import and leaves nothing")
    func layerBomb() async throws {
        let config = try makeTemporaryDirectory("bcfg")
        defer { try? FileManager.default.removeItem(atPath: config) }
        try writeBytes(config + "/berthd.toml", Array("[images]\nmax_layer_bytes = 1048576\n".utf8))
        try await withDaemon(arguments: ["--config", config + "/berthd.toml"]) { daemon, scratch in
            // 16 MiB of one byte: a few KiB gzipped.
            let bomb = try Layer.make(["zeros": String(repeating: "a", count: 16 << 20)], compression: .gzip)
            #expect(bomb.blob.count < 100_000)
            let archive = try ociArchive(scratch, "bomb.tar", layer: bomb, run: runConfig(cmd: ["x"]), name: "example.com/bomb:1")
            let result = try await berthctl(["images", "import", archive], env: ["BERTH_ADDRESS": daemon.address])
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("1048576"), "the limit is named: \(result)")
            #expect(try await leftovers(daemon) == [])
            #expect(try await snapshotKeys(daemon.address).isEmpty, "the extract snapshot was removed")
            // A layer within the limit still imports.
            let small = try ociArchive(scratch, "small.tar", layer: try Layer.make(["f": "ok"]), run: runConfig(cmd: ["x"]), name: "example.com/small:1")
            let ok = try await berthctl(["images", "import", small], env: ["BERTH_ADDRESS": daemon.address])
            #expect(ok.status == 0, "\(ok)")
        }
    }

    @Test("images.import with progress sends images.progress notifications: stored, unpacking, one per layer")
    func importProgressNotifications() async throws {
        try await withDaemon { daemon, scratch in
            let layers = try [Layer.make(["a": "1"], compression: .gzip), Layer.make(["b": "2"]), Layer.make(["c": "3"], compression: .zstd)]
            let builder = try ArchiveBuilder()
            let manifest = try builder.image(layers, config: ArchiveBuilder.config(layers, run: runConfig(cmd: ["x"])))
            try builder.layout([(manifest, "example.com/three:1")])
            try builder.tar(to: scratch("three.tar"))
            let client = try await BerthClient.connect(to: daemon.address)
            defer { client.close() }
            let collected = Task {
                var seen: [ImportProgress] = []
                for await note in client.notifications where note.method == ImportProgress.method {
                    if let p = try? note.decodeParams(ImportProgress.self) { seen.append(p) }
                    if seen.last?.stage == "layer", (seen.last?.layersUnpacked ?? 0) + (seen.last?.layersReused ?? 0) == 3 { break }
                }
                return seen
            }
            let result = try await client.call(API.imagesImport, ImportImagesRequest(path: scratch("three.tar"), progress: true))
            #expect(result.layersUnpacked == 3)
            let timeout = Task { try await Task.sleep(for: .seconds(10)); collected.cancel() }
            let seen = await collected.value
            timeout.cancel()
            #expect(seen.map(\.stage) == ["stored", "unpacking", "layer", "layer", "layer"], "\(seen)")
            #expect(seen.allSatisfy { $0.path == scratch("three.tar") && $0.bytesRead == result.bytesRead })
            #expect(seen.dropFirst().allSatisfy { $0.layersTotal == 3 })
            #expect(seen.last?.layersUnpacked == 3)
            // A second import of the same layers reuses them.
            let quiet = try await client.call(API.imagesImport, ImportImagesRequest(path: scratch("three.tar")))
            #expect(quiet.layersReused == 3)
        }
    }
}
