import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A busybox root file system for containers, built from the host's busybox-static.
func makeBusyboxRootfs(in scratch: Scratch) throws -> String {
    let root = scratch("rootfs")
    let fm = FileManager.default
    for dir in ["bin", "proc", "dev", "sys", "tmp", "etc", "run"] {
        try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
    }
    try fm.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
    for applet in ["sh", "echo", "sleep", "cat", "id", "ls", "true", "false", "hostname", "ps", "grep", "yes", "head", "env"] {
        try fm.createSymbolicLink(atPath: root + "/bin/" + applet, withDestinationPath: "busybox")
    }
    try "root:x:0:0:root:/:/bin/sh\n".write(toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
    try "root:x:0:\n".write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
    return root
}

/// The tasks berthd lists, by container id.
func taskStatuses(_ address: String) async throws -> [String: String] {
    let ls = try await berthctl("tasks", "ls", "--format", "json", address: address)
    struct Task: Decodable { let id: String; let status: String }
    let tasks = (try? JSONDecoder().decode([Task].self, from: Data(ls.stdout.utf8))) ?? []
    return Dictionary(uniqueKeysWithValues: tasks.map { ($0.id, $0.status) })
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(_ timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// The pid of the serving shim of a container, from its bundle's bootstrap.json.
func shimPid(state: String, namespace: String = "default", id: String) -> Int32? {
    guard let data = FileManager.default.contents(atPath: "\(state)/tasks/\(namespace)/\(id)/bootstrap.json") else { return nil }
    struct Bootstrap: Decodable { let shimPid: Int32? }
    return (try? JSONDecoder().decode(Bootstrap.self, from: data))?.shimPid
}

/// Kills every shim and container process a test's berthd started (by the pids recorded
/// under its state directory), so a failed test leaves nothing running.
func killTasks(state: String) {
    let tasks = state + "/tasks"
    for ns in (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? [] {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: "\(tasks)/\(ns)")) ?? [] {
            if let data = FileManager.default.contents(atPath: "\(tasks)/\(ns)/\(id)/init.pid"),
               let pid = Int32(String(decoding: data, as: UTF8.self)) { kill(pid, SIGKILL) }
            if let pid = shimPid(state: state, namespace: ns, id: id) { kill(pid, SIGKILL) }
            removeCgroup(of: "\(tasks)/\(ns)/\(id)/config.json")
        }
    }
}

/// Removes the cgroup (every hierarchy) named by a bundle's `linux.cgroupsPath`: after a
/// SIGKILL nobody runs `delete`, and an empty cgroup would stay behind. Waits up to 2 s
/// for the killed processes to leave it.
func removeCgroup(of configPath: String) {
    guard let data = FileManager.default.contents(atPath: configPath),
          let spec = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let linux = spec["linux"] as? [String: Any], let path = linux["cgroupsPath"] as? String,
          !path.isEmpty, !path.contains("..") else { return }
    let relative = path.hasPrefix("/") ? String(path.dropFirst()) : path
    var directories = ["/sys/fs/cgroup/" + relative]
    for controller in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
        directories.append("/sys/fs/cgroup/\(controller)/\(relative)")
    }
    for directory in directories where FileManager.default.fileExists(atPath: directory) {
        for _ in 0..<40 {
            if rmdir(directory) == 0 || errno == ENOENT { break }
            usleep(50_000)
        }
    }
}
