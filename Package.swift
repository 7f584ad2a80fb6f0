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

let package = Package(
    name: "berth",
    products: [
        .executable(name: "berthd", targets: ["berthd"]),
        .executable(name: "berthctl", targets: ["berthctl"]),
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

        // MARK: core
        .target(name: "BerthSystem", dependencies: ["CBerthLinux"]),
        .target(
            name: "BerthAPI",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // MARK: stores and services
        .target(name: "BerthMetadata", dependencies: ["CSQLite", "BerthAPI"]),
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
                "BerthAPI", "BerthEvents", "BerthMetadata", "BerthSystem", "CBerthLinux", "CBerthTOML",
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
        .executableTarget(name: "berthctl", dependencies: ["BerthCtl"]),
        .executableTarget(
            name: "berth-bench",
            dependencies: [
                "BerthAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "bench/rpc"
        ),

        // MARK: tests
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
            dependencies: ["BerthDaemon", "BerthAPI", "BerthEvents", "BerthMetadata", "BerthSystem"]
        ),
        .testTarget(
            name: "BerthEventsTests",
            dependencies: ["BerthEvents", "BerthAPI", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "BerthCtlTests", dependencies: ["BerthAPI", "BerthSystem"]),
    ]
)
