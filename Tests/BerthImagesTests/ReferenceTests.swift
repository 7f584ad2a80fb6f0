import BerthDigest
@testable import BerthImages
import BerthOCI
import Testing

/// Reference normalization, as distribution/reference's `ParseNormalizedNamed` (the
/// table follows its `normalize_test.go` where Berth implements the same grammar).
@Suite("image references")
struct ReferenceTests {
    static let hex = String(repeating: "ab", count: 32)

    static let valid: [(String, String)] = [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/library/busybox", "docker.io/library/busybox:latest"),
        ("foo/bar", "docker.io/foo/bar:latest"),
        ("foo/bar/baz:v1.0-rc_1", "docker.io/foo/bar/baz:v1.0-rc_1"),
        ("localhost/x", "localhost/x:latest"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("localhost:5000", "docker.io/library/localhost:5000"),
        ("registry.io:443/a/b:tag", "registry.io:443/a/b:tag"),
        ("registry.io/a.b-c__d/e--f_g", "registry.io/a.b-c__d/e--f_g:latest"),
        ("busybox@sha256:\(hex)", "docker.io/library/busybox@sha256:\(hex)"),
        ("busybox:1.36@sha256:\(hex)", "docker.io/library/busybox:1.36@sha256:\(hex)"),
        ("registry.io:443/a/b@sha256:\(hex)", "registry.io:443/a/b@sha256:\(hex)"),
        ("foo/bar:_x", "docker.io/foo/bar:_x"),
    ]

    @Test("normalizes", arguments: valid)
    func normalizes(_ input: String, _ expected: String) throws {
        #expect(try ImageReference.normalize(input) == expected)
        // Normalizing is idempotent.
        #expect(try ImageReference.normalize(expected) == expected)
    }

    @Test("familiar names drop docker.io/library/")
    func familiar() throws {
        #expect(try ImageReference(parsing: "busybox").familiar == "busybox:latest")
        #expect(try ImageReference(parsing: "foo/bar:1").familiar == "foo/bar:1")
        #expect(try ImageReference(parsing: "localhost:5000/x").familiar == "localhost:5000/x:latest")
    }

    static let invalid: [(String, String)] = [
        ("", "empty"),
        ("Busybox", "lowercase"),
        ("foo/Bar", "lowercase"),
        ("busybox:", "tag \"\""),
        ("busybox:-x", "tag \"-x\""),
        ("busybox:a/b", "bad domain"), // a ":" before the last "/" makes the first component a domain
        ("busybox:" + String(repeating: "t", count: 129), "is not [A-Za-z0-9_]"),
        ("busybox@sha256:abc", "digest"),
        ("busybox@sha256:" + String(repeating: "AB", count: 32), "digest"),
        ("busybox@md5:" + String(repeating: "ab", count: 16), "digest"),
        ("foo//bar", "lowercase"),
        ("foo/bar/", "lowercase"),
        ("-foo", "lowercase"),
        ("foo_/bar", "lowercase"),
        ("foo___bar", "lowercase"),
        ("registry.io:port/x", "bad domain"),
        ("registry..io/x", "bad domain"),
        ("a b", "lowercase"),
    ]

    @Test("refuses with a reason", arguments: invalid)
    func refuses(_ input: String, _ reason: String) {
        do {
            let parsed = try ImageReference.normalize(input)
            Issue.record("\"\(input)\" parsed as \(parsed)")
        } catch {
            #expect(error.description.contains("invalid image reference"), "\(error)")
            #expect(error.description.contains(reason), "\(input): \(error)")
        }
    }

    @Test("a reference longer than 4096 bytes is refused")
    func tooLong() {
        #expect(throws: ImageReference.ParseError.self) { try ImageReference.normalize(String(repeating: "a", count: 4097)) }
    }

    /// The diff_ids of image-spec config.md's example; the expected chain is computed
    /// by sha256sum from the definition
    /// `ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln))`.
    @Test("chain IDs follow image-spec config.md")
    func chainIDs() throws {
        let diffIDs = [
            "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ]
        func oracle(_ text: String) throws -> String {
            "sha256:" + String(try sh(#"printf '%s' "$1" | sha256sum"#, text).prefix(64))
        }
        let second = try oracle(diffIDs[0] + " " + diffIDs[1])
        let third = try oracle(second + " " + diffIDs[2])
        #expect(Unpacker.chainIDs(diffIDs) == [diffIDs[0], second, third])
        #expect(Unpacker.chainIDs([diffIDs[0]]) == [diffIDs[0]])
        #expect(Unpacker.chainIDs([]) == [])
    }
}
