import Foundation
import Testing

/// A wire-level client outside berthctl, as a third-party engine would write one: a
/// short Python program that sends one frame and prints the reply frame's JSON. It can
/// run as another user (through setpriv), which berthctl-the-test-process cannot.
enum RawClient {
    /// What to send.
    enum Frame {
        /// A `system.version` request with id 1.
        case version
        /// The same request padded with spaces to exactly `bytes` of payload.
        case paddedVersion(bytes: Int)
        /// Only a header declaring `bytes` of payload, no payload.
        case declaredLength(bytes: Int)

        var argument: String {
            switch self {
            case .version: "version"
            case let .paddedVersion(bytes): "padded:\(bytes)"
            case let .declaredLength(bytes): "declare:\(bytes)"
            }
        }
    }

    /// argv: address, frame, "check-close" or "-". Prints the reply JSON on one line,
    /// then, with check-close, CLOSED or OPEN for the connection afterwards.
    static let script = #"""
        import json, socket, struct, sys
        address, action, check_close = sys.argv[1], sys.argv[2], sys.argv[3] == "check-close"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(address)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "system.version", "params": {}}).encode()
        if action == "version":
            frame = struct.pack(">I", len(body)) + body
        elif action.startswith("padded:"):
            size = int(action[len("padded:"):])
            frame = struct.pack(">I", size) + body + b" " * (size - len(body))
        elif action.startswith("declare:"):
            frame = struct.pack(">I", int(action[len("declare:"):]))
        else:
            sys.exit("unknown action " + action)
        try:
            s.sendall(frame)
        except OSError as e:
            print("send failed:", e, file=sys.stderr)
        def read(n):
            data = b""
            while len(data) < n:
                chunk = s.recv(n - len(data))
                if not chunk:
                    raise EOFError("closed after %d of %d bytes" % (len(data), n))
                data += chunk
            return data
        (length,) = struct.unpack(">I", read(4))
        print(read(length).decode())
        if check_close:
            s.settimeout(5)
            try:
                print("CLOSED" if s.recv(1) == b"" else "OPEN")
            except ConnectionResetError:
                print("CLOSED")
            except socket.timeout:
                print("OPEN")
        """#

    /// Sends `frame` to `address`; with `setpriv` flags (e.g. `--reuid=65534 …`) the
    /// client runs as that user.
    static func send(_ frame: Frame, to address: String, setpriv: [String]? = nil, checkClose: Bool = false) async throws -> CommandResult {
        let python = ["/usr/bin/python3", "-I", "-c", script, address, frame.argument, checkClose ? "check-close" : "-"]
        if let setpriv {
            return try await runProgram("/usr/bin/setpriv", setpriv + python)
        }
        return try await runProgram(python[0], Array(python.dropFirst()))
    }

    /// The reply frame's JSON object (the first stdout line).
    static func reply(_ result: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let line = try #require(result.stdout.split(separator: "\n").first, "no reply: \(result)", sourceLocation: sourceLocation)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(object as? [String: Any], "not an object: \(line)", sourceLocation: sourceLocation)
    }

    /// `error.data.kind` of a reply, if it is an error.
    static func errorKind(_ reply: [String: Any]) -> String? {
        ((reply["error"] as? [String: Any])?["data"] as? [String: Any])?["kind"] as? String
    }

    /// Whether the client saw the server close the connection after its reply.
    static func sawClose(_ result: CommandResult) -> Bool {
        result.stdout.split(separator: "\n").last == "CLOSED"
    }
}
