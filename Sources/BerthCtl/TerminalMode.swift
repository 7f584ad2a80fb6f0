import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// berthctl's own terminal while it runs a container with `-t`: raw mode (every key
/// goes to the container, Ctrl-C included), restored on exit; size changes forwarded.
final class TerminalMode: @unchecked Sendable {
    private var saved = termios()
    private var active = false
    private var winch: (any DispatchSourceSignal)?

    /// Puts fd 0 in raw mode when it is a terminal.
    func enterRaw() {
        guard isatty(0) == 1, tcgetattr(0, &saved) == 0 else { return }
        var raw = saved
        // cfmakeraw(3), spelled out (it is not in Swift's Glibc module).
        raw.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        raw.c_oflag &= ~tcflag_t(OPOST)
        raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN)
        raw.c_cflag &= ~tcflag_t(CSIZE | PARENB)
        raw.c_cflag |= tcflag_t(CS8)
        active = tcsetattr(0, TCSANOW, &raw) == 0
    }

    func restore() {
        if active { tcsetattr(0, TCSANOW, &saved) }
        active = false
        winch?.cancel()
    }

    /// The terminal's size (width, height), if fd 0 or 1 is a terminal.
    static func size() -> (UInt32, UInt32)? {
        var ws = winsize()
        for fd in [Int32(0), 1] where ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 {
            return (UInt32(ws.ws_col), UInt32(ws.ws_row))
        }
        return nil
    }

    /// Calls `body` with the new size on every SIGWINCH.
    func onResize(_ body: @escaping @Sendable (UInt32, UInt32) -> Void) {
        signal(SIGWINCH, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: DispatchQueue(label: "berthctl.winch"))
        source.setEventHandler { if let (w, h) = TerminalMode.size() { body(w, h) } }
        source.resume()
        winch = source
    }
}

/// Copies berthctl's stdin into the container's stdin FIFO on a thread of its own.
func forwardStdin(to fifo: String) {
    // O_RDWR: opening never waits for the shim's reader (a FIFO may be opened so on Linux).
    let fd = open(fifo, O_RDWR | O_CLOEXEC)
    guard fd >= 0 else { return }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(FDBox(fd)).toOpaque()
    pthread_create(&thread, nil, { raw in
        let out = Unmanaged<FDBox>.fromOpaque(raw!).takeRetainedValue().fd
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            _ = buffer.withUnsafeBytes { write(out, $0.baseAddress, n) }
        }
        close(out)
        return nil
    }, box)
    pthread_detach(thread)
}

private final class FDBox {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
}
