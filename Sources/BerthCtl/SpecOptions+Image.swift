import ArgumentParser
import BerthAPI
import BerthOCI

extension SpecOptions {
    /// The spec for a container of `image` (nil: none), as ctr's `WithImageConfig`: the
    /// command is the image's entrypoint followed by the arguments given, or by its cmd
    /// when none are; its environment goes under berthctl's `--env`; its working
    /// directory and user apply unless `--cwd` or `--user` say otherwise. A user that is
    /// not a plain `uid:gid` is resolved by berthd against the image's `/etc/passwd`
    /// when the task is created (`Container.userLabel`).
    func spec(namespace: String, id: String, args: [String], image: ImageConfig?) throws -> (Spec, [String: String]) {
        guard let config = image?.config ?? image.map({ _ in ImageConfig.RunConfig() }) else {
            return try spec(namespace: namespace, id: id, args: args)
        }
        let command = (config.entrypoint ?? []) + (args.isEmpty ? (config.cmd ?? []) : args)
        guard !command.isEmpty else { throw ValidationError("the image has no entrypoint or cmd: give the command to run") }
        var (spec, labels) = try spec(namespace: namespace, id: id, args: command)
        var process = spec.process!
        // Defaults, then the image's, then --env: a later KEY= wins.
        var env: [(String, String)] = []
        func add(_ entries: [String]) {
            for entry in entries {
                let key = String(entry.split(separator: "=", maxSplits: 1).first ?? "")
                env.removeAll { $0.0 == key }
                env.append((key, entry))
            }
        }
        add(Array((process.env ?? []).dropLast(self.env.count)))
        add(config.env ?? [])
        add(self.env)
        process.env = env.map(\.1)
        if cwd == nil, let dir = config.workingDir, !dir.isEmpty { process.cwd = dir }
        if user == nil, let imageUser = config.user, !imageUser.isEmpty {
            let parts = imageUser.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2, let uid = UInt32(parts[0]), let gid = UInt32(parts[1]) {
                process.user = Spec.User(uid: uid, gid: gid)
            } else {
                labels[Container.userLabel] = imageUser
            }
        }
        spec.process = process
        return (spec, labels)
    }
}
