// swift-tools-version:6.0
//
// Berth: a container supervisor for Linux. The module split follows DESIGN.md §9:
// system bindings (C targets) → core types (BerthSystem, BerthAPI) → stores and
// services (BerthMetadata, BerthDaemon, BerthCtl) → thin executables.
import PackageDescription

// The commit this build comes from, for `system.version`. Stringified in C so no
// quoting survives the trip through the compiler's command line.
let gitCommit = Context.gitInformation.map {
    String($0.currentCommit.prefix(12)) + ($0.hasUncommittedChanges ? "_dirty" : "")
} ?? "unknown"

/// Static Swift runtime for the executables that start often (the runtime starts twice
/// per container, berthctl is a command people and scripts run in loops; the shim, which
/// lives as long as its container, is Embedded Swift, below):
/// start-up 8.4 → 4.4 ms for `berth-runtime --version` here. FoundationEssentials'
/// static archive needs its companions named explicitly. Release builds are stripped,
/// which keeps the runtime's sealed copy of itself (made for every container) small.
/// `-static-executable`: the C library too (glibc's static archives, libc6-dev), so no
/// dynamic loader runs at start (~0.3 ms of CPU and a third of the page faults of each
/// start here: the shim of the time with no arguments, 0.94 → 0.65 ms, 146 → 103 faults).
/// None of them resolves users, groups or hosts through NSS, the one thing a static glibc cannot do
/// without the shared libraries of its own version (the linker warns of the calls
/// FoundationEssentials and NIO contain).
let staticSwift: [LinkerSetting] = [
    .unsafeFlags(["-static-executable"]),
    .unsafeFlags(["-Xlinker", "--gc-sections", "-Xlinker", "--strip-all"], .when(configuration: .release)),
    .linkedLibrary("_FoundationCollections"),
    .linkedLibrary("_FoundationCShims"),
    .linkedLibrary("swiftSynchronization"),
]

/// berth-runtime, berth-shim and berthctl are linked as position-dependent executables,
/// as Debian builds runc, ctr and containerd-shim-runc-v2: a PIE with a static Swift
/// runtime carries ~50,000 relative relocations that the loader applies at every start
/// (~1.5 ms; twice per container for the runtime, once per command for berthctl) and
/// that turn its read-only data into private dirty pages in every copy (~0.5 MiB per
/// shim). Shared libraries, heap and stacks are still placed at random. berthd, which
/// starts once and serves every client, stays a PIE.
let positionDependent: [LinkerSetting] = [
    .unsafeFlags(["-Xclang-linker", "-no-pie"]),
]

/// The C++ runtime linked in too (libstdc++.a, and libgcc_eh.a for libgcc_s), for the
/// executables that load no C++ shared library (berthd does: tomlplusplus). The Swift
/// driver asks for -lstdc++ and clang for -lgcc_s; the linker scripts in contrib/link,
/// found first on the library path, turn both into the static archives. Loading
/// libstdc++.so and libgcc_s.so cost ~0.8 ms at every start here (twice per container
/// for the runtime).
let staticCxx: [LinkerSetting] = [
    .unsafeFlags(["-L" + Context.packageDirectory + "/contrib/link"]),
]

/// berth-shim is Embedded Swift: one runs per container, for as long as the container, and
/// a shim built like the other executables (static Swift runtime, FoundationEssentials'
/// JSON, NIO) kept 10.8 MiB resident (8 of it code mapped by fault-around) against the
/// 4 MiB of issue 4. Embedded Swift compiles only what the shim uses, with no runtime
/// metadata; it has no Codable or Foundation, so the shim has its own JSON (BerthShim's
/// JSON.swift) and an epoll loop instead of NIO.
let embeddedSwift: [SwiftSetting] = [
    .enableExperimentalFeature("Embedded"),
    .unsafeFlags(["-wmo"]),
]
let embeddedLink: [LinkerSetting] = [
    .unsafeFlags(["-static-executable"]),
    .unsafeFlags(["-Xlinker", "--gc-sections"]),
    .unsafeFlags(["-Xlinker", "--strip-all"], .when(configuration: .release)),
]

let package = Package(
    name: "berth",
    products: [
        .executable(name: "berthd", targets: ["berthd"]),
        .executable(name: "berthctl", targets: ["berthctl"]),
        .executable(name: "berth-runtime", targets: ["berth-runtime"]),
        .executable(name: "berth-shim", targets: ["berth-shim"]),
        .library(name: "BerthAPI", targets: ["BerthAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // MARK: system bindings
        .target(
            name: "CBerthLinux",
            cSettings: [.define("_GNU_SOURCE"), .define("BERTH_GIT_COMMIT", to: gitCommit)]
        ),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // toml++ (Debian's libtomlplusplus) behind a two-function C API: TOML in, JSON out.
        .target(
            name: "CBerthTOML",
            cxxSettings: [.define("TOML_HEADER_ONLY", to: "0"), .define("TOML_SHARED_LIB", to: "1")],
            linkerSettings: [.linkedLibrary("tomlplusplus")]
        ),

        // libarchive (image layers and archives) and libcrypto (SHA-256): berthd only.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // The runtime's post-fork, namespace-entry and process-setup calls (DESIGN.md §6).
        .target(name: "CBerthRuntime", cSettings: [.define("_GNU_SOURCE")]),

        // MARK: core
        .target(name: "BerthSystem", dependencies: ["CBerthLinux"]),
        .target(name: "BerthOCI"),
        // Content digests (sha256:…) and streaming SHA-256.
        .target(name: "BerthDigest", dependencies: ["CCrypto"]),
        .target(
            name: "BerthAPI",
            dependencies: [
                "BerthOCI", "BerthSystem", "CBerthLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // MARK: runtime
        .target(name: "BerthCgroups", dependencies: ["BerthOCI", "BerthSystem", "CBerthLinux"]),
        .target(
            name: "BerthRuntime",
            dependencies: ["BerthOCI", "BerthCgroups", "BerthSystem", "CBerthRuntime", "CBerthLinux", "CSeccomp"]
        ),

        // berthd's JSON-RPC server side: router, connection handling, the listening socket.
        .target(
            name: "BerthRPC",
            dependencies: [
                "BerthAPI", "BerthSystem", "CBerthLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The per-container shim: owns the container's processes, stdio and exit status.
        // Embedded Swift (see `embeddedSwift`): C modules only, no Foundation, no NIO.
        .target(name: "CBerthShim", cSettings: [.define("_GNU_SOURCE")]),
        .target(
            name: "BerthShim",
            dependencies: ["CBerthShim", "CBerthLinux", "CBerthRuntime"],
            swiftSettings: embeddedSwift
        ),

        // MARK: stores and services
        .target(name: "BerthMetadata", dependencies: ["CSQLite", "BerthAPI", "BerthSystem"]),
        .target(name: "BerthSnapshots", dependencies: ["BerthAPI", "BerthMetadata", "BerthSystem", "CBerthLinux"]),
        // Tar reading and writing; applying an untrusted image layer inside a directory.
        .target(name: "BerthArchive", dependencies: ["BerthDigest", "BerthSystem", "CArchive", "CBerthLinux"]),
        // The content store (blobs by digest, ingests, labels) and leases.
        // BerthEvents for its containerd filter parser (content.list and leases.list filters).
        .target(name: "BerthContent", dependencies: ["BerthAPI", "BerthDigest", "BerthEvents", "BerthMetadata", "BerthSystem"]),
        // Images: store, import, export, unpack into snapshots, garbage collection.
        .target(
            name: "BerthImages",
            dependencies: [
                "BerthAPI", "BerthArchive", "BerthContent", "BerthDigest", "BerthEvents", "BerthMetadata", "BerthOCI",
                "BerthSnapshots", "BerthSystem", "CArchive",
            ]
        ),
        .target(
            name: "BerthEvents",
            dependencies: [
                "BerthAPI", "BerthSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BerthDaemon",
            dependencies: [
                "BerthAPI", "BerthContent", "BerthEvents", "BerthImages", "BerthMetadata", "BerthOCI", "BerthRPC",
                "BerthSnapshots", "BerthSystem", "CBerthLinux", "CBerthTOML",
                "CSeccomp", "CSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BerthCtl",
            dependencies: [
                "BerthAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: executables
        .executableTarget(
            name: "berthd",
            dependencies: [
                "BerthDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "berthctl", dependencies: ["BerthCtl"], linkerSettings: staticSwift + positionDependent + staticCxx),
        .executableTarget(
            name: "berth-shim",
            dependencies: ["BerthShim", "CBerthShim"],
            swiftSettings: embeddedSwift,
            linkerSettings: embeddedLink + positionDependent
        ),
        // The runtime starts twice per container (itself, then as the container's init):
        // it links the Swift runtime statically, for start-up time (MEASURED.md).
        .executableTarget(
            name: "berth-runtime",
            dependencies: ["BerthCgroups", "BerthOCI", "BerthRuntime", "BerthSystem", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: staticSwift + positionDependent + staticCxx
        ),
        .executableTarget(
            name: "berth-bench",
            dependencies: [
                "BerthAPI", "BerthOCI", "BerthSnapshots", "BerthSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "bench/rpc"
        ),

        // MARK: tests
        // Process helpers for the test targets that run the executables.
        // BerthDigest and BerthOCI for the image archives the image tests build.
        .target(name: "BerthTestSupport", dependencies: ["BerthDigest", "BerthOCI", "BerthSystem"], path: "Tests/BerthTestSupport"),
        .testTarget(
            name: "BerthAPITests",
            dependencies: [
                "BerthAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BerthDaemonTests",
            dependencies: [
                "BerthDaemon", "BerthRPC", "BerthAPI", "BerthContent", "BerthDigest", "BerthEvents", "BerthMetadata", "BerthOCI",
                "BerthSystem", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BerthCtlTests",
            dependencies: [
                // BerthContent, BerthDigest, BerthMetadata: the content CLI tests put blobs into the running
                // daemon's store directly (no API method carries blob bytes).
                "BerthAPI", "BerthContent", "BerthDigest", "BerthMetadata", "BerthOCI", "BerthSystem", "BerthTestSupport",
                // BerthCtl and ArgumentParser: QuickRunParseTests compares berthctl's two parsers of `run`.
                "BerthCtl", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The shim's JSON (Embedded Swift, which XCTest and Testing cannot import) compiled again
        // as ordinary Swift through symbolic links, to test it against Foundation.
        .testTarget(name: "BerthShimJSONTests", dependencies: ["CBerthShim"]),
        .testTarget(name: "BerthShimTests", dependencies: ["BerthAPI", "BerthOCI", "BerthSystem", "BerthTestSupport"]),
        .testTarget(name: "BerthCgroupsTests", dependencies: ["BerthCgroups", "BerthOCI", "BerthSystem"]),
        // BerthAPI: SpecQuickDecodeTests also checks the containers.create request berthctl writes by hand.
        .testTarget(name: "BerthRuntimeTests", dependencies: ["BerthRuntime", "BerthOCI", "BerthSystem", "CBerthRuntime", "BerthTestSupport", "BerthAPI"]),
        .testTarget(
            name: "BerthSnapshotsTests",
            dependencies: ["BerthSnapshots", "BerthAPI", "BerthMetadata", "BerthSystem", "CBerthLinux"]
        ),
        .testTarget(
            name: "BerthArchiveTests",
            dependencies: ["BerthArchive", "BerthDigest", "BerthSystem", "BerthTestSupport", "CArchive"]
        ),
        .testTarget(
            name: "BerthContentTests",
            dependencies: ["BerthContent", "BerthAPI", "BerthDigest", "BerthMetadata", "BerthSystem"]
        ),
        .testTarget(
            name: "BerthImagesTests",
            dependencies: [
                "BerthImages", "BerthArchive", "BerthContent", "BerthAPI", "BerthDigest", "BerthMetadata", "BerthOCI",
                "BerthSnapshots", "BerthSystem", "BerthTestSupport", "CArchive",
            ]
        ),
        .testTarget(
            name: "BerthEventsTests",
            dependencies: ["BerthEvents", "BerthAPI", "BerthSystem", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
