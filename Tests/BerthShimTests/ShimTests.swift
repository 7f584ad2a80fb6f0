import Testing

/// Every shim suite, run one test at a time: each starts real shims and containers, and
/// one machine's two cores make timing-sensitive checks unfair when they all run at once.
/// `StartTests` starts shims concurrently on purpose.
@Suite(.serialized)
enum ShimTests {}
