/// A seccomp profile the compiler refuses, before libseccomp is asked anything.
///
/// libseccomp's own failures (a rule it rejects, an export that fails) are thrown as
/// `SystemError` with the errno libseccomp returned and a stage naming the call and the
/// syscall (`seccomp_rule_add_array mkdir: EINVAL`). Classify by case, never by text.
public enum SeccompError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The profile is not valid OCI: an unknown action, architecture, operator or flag,
    /// an argument index above 5, an `errnoRet` on an action that returns none, an
    /// empty syscall name. The message names the offending value.
    case invalidArgument(String)
    /// Valid OCI that Berth does not implement (yet): `SCMP_ACT_NOTIFY` and
    /// `listenerPath`, `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`, an architecture this
    /// libseccomp does not know.
    case unsupported(String)

    public var description: String {
        switch self {
        case let .invalidArgument(message): "invalid seccomp profile: \(message)"
        case let .unsupported(message): "unsupported seccomp profile: \(message)"
        }
    }
}
