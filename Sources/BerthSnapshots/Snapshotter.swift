import BerthAPI

/// A snapshotter keeps the file systems containers run on, as containerd's
/// `snapshots.Snapshotter`: a set of directories arranged in parent–child chains,
/// each named by a string key, and returns the mounts that show them. It never
/// mounts anything itself; the caller (a test, the shim) performs the mounts,
/// normally with `MountExecutor`.
///
/// ## Kinds
///
/// - **active**: created by `prepare(key, parent)`. Writable: mount what `prepare` (or
///   `mounts`) returns, change files, unmount, then `commit(name, key)` turns it into a
///   committed snapshot called `name` (the key is gone afterwards). An active snapshot
///   can also simply be removed (a container's root file system is an active snapshot
///   that is removed when the container is).
/// - **view**: created by `view(key, parent)`. A read-only look at `parent`; mounting
///   it gives exactly the parent's contents and writes fail. A view cannot be committed.
/// - **committed**: immutable. Only committed snapshots can be parents, and they are
///   never mounted directly: make a view of them.
///
/// ## Keys, names and parents
///
/// `key` names an active or view snapshot, `name` a committed one; both live in one
/// namespace per snapshotter and per Berth namespace, so `prepare("a")` fails with
/// `AlreadyExists` if `a` is taken by a snapshot of any kind. A key is a string in the
/// database and never a path: `../../x` is a valid key and creates nothing outside the
/// snapshotter's root (directories are numbered). `parent` is the name of a committed
/// snapshot; a snapshot sees its parent's files, the parent's parent's, and so on, with
/// the nearest layer winning and deletions in an upper layer hiding lower files.
///
/// Unpacking an image layer is, in containerd's words:
///
/// ```
/// mounts = prepare("extract-1", parent: "layer-0")   // an active on the previous layer
/// mount(mounts, at: dir); apply(diff, to: dir); unmount(dir)
/// commit("layer-1", key: "extract-1")                 // now a parent for the next one
/// ```
///
/// and a container's root file system is `prepare("ctr-rootfs", parent: topLayer)`,
/// mounted by the shim, removed with the container.
///
/// ## Rules
///
/// - `remove` of a snapshot that has children fails with `FailedPrecondition`.
/// - `commit` of a view or a committed snapshot fails with `FailedPrecondition`;
///   `mounts` of a committed snapshot too.
/// - Every change is atomic on disk and in the metadata: a new snapshot is built in a
///   temporary directory and renamed into place in the same transaction that records
///   it; data is synced before a commit is recorded. `cleanup` removes directories
///   that no metadata points at, which is what a crash can leave behind.
/// - `usage` counts the snapshot's own data only, never its parents'.
///
/// Methods take the Berth namespace explicitly (containerd carries it in the context);
/// the same key in two namespaces names two snapshots.
public protocol Snapshotter: Sendable {
    /// The snapshotter's name (`overlayfs`, `native`), as calls select it.
    var name: String { get }

    /// The snapshot's info. `NotFound` if there is no such key or name.
    func stat(namespace: String, key: String) throws -> SnapshotInfo

    /// Changes the labels of a snapshot (only labels may change): `fieldPaths` as
    /// `labels` or `labels.<k>`; empty replaces all labels. Returns the new info.
    func update(namespace: String, info: SnapshotInfo, fieldPaths: [String]) throws -> SnapshotInfo

    /// Disk space and inodes used by this snapshot alone (its parents excluded).
    /// Live for active snapshots, recorded at commit for committed ones.
    func usage(namespace: String, key: String) throws -> SnapshotUsage

    /// The mounts of an active or view snapshot (`FailedPrecondition` for committed).
    func mounts(namespace: String, key: String) throws -> [Mount]

    /// Creates an active snapshot on `parent` (a committed name, or none for an empty
    /// base) and returns its mounts.
    func prepare(namespace: String, key: String, parent: String?, labels: [String: String]) throws -> [Mount]

    /// Creates a read-only view of `parent` and returns its mounts.
    func view(namespace: String, key: String, parent: String?, labels: [String: String]) throws -> [Mount]

    /// Turns active snapshot `key` into committed snapshot `name` with `labels`; `key`
    /// no longer exists afterwards. The data is synced first.
    func commit(namespace: String, name: String, key: String, labels: [String: String]) throws

    /// Removes a snapshot of any kind that has no children.
    func remove(namespace: String, key: String) throws

    /// Every snapshot of the namespace matching one of `filters` (all when empty),
    /// sorted by name. Filters are containerd's: `name`, `parent`, `kind`, `labels.<k>`.
    func list(namespace: String, filters: [String]) throws -> [SnapshotInfo]

    /// Removes directories no metadata points at (left by a crash); returns them.
    func cleanup() throws -> [String]

    /// Releases the snapshotter; later calls fail. Closing twice is not an error.
    func close()
}

extension Snapshotter {
    /// Calls `body` with each snapshot of the namespace that matches `filters`.
    public func walk(namespace: String, filters: [String] = [], _ body: (SnapshotInfo) throws -> Void) throws {
        for info in try list(namespace: namespace, filters: filters) { try body(info) }
    }
}
