import CSystemd

/// systemd integration through libsystemd: readiness notifications and socket
/// activation. Each call is a no-op when systemd did not start us (no NOTIFY_SOCKET,
/// no LISTEN_FDS), so berthd runs the same by hand.
public enum Systemd {
    /// Sends `state` (`READY=1`, `STATUS=…`, `STOPPING=1`) to NOTIFY_SOCKET.
    /// Returns whether a notification was sent.
    @discardableResult
    public static func notify(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    /// The one UNIX stream socket passed by socket activation, or nil when none was
    /// passed. Throws when systemd passed something else.
    public static func activatedSocket() throws -> Int32? {
        let count = sd_listen_fds(1)
        if count <= 0 { return nil }
        let fd = berth_sd_listen_fds_start()
        guard count == 1, sd_is_socket_unix(fd, 1 /* SOCK_STREAM */, 1, nil, 0) > 0 else {
            throw ActivationError(description: "socket activation passed \(count) descriptors; berthd needs exactly one listening UNIX stream socket")
        }
        return fd
    }

    public static var booted: Bool { sd_booted() > 0 }

    public struct ActivationError: Error, CustomStringConvertible {
        public let description: String
    }
}
