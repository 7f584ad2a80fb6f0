#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthAPI
import BerthEvents
import BerthSystem
import CBerthTOML
#if canImport(Glibc)
import Glibc
#endif

/// berthd's configuration: defaults, overlaid by the TOML file, overlaid by flags.
///
/// Keys are snake_case in TOML (`[api] max_frame_bytes`); `contrib/berthd.toml` lists
/// each with its default. An unknown key or a value of the wrong type is an error that
/// names it, so a typo never silently leaves a default in force.
public struct DaemonConfig: Sendable, Equatable {
    public static let defaultPath = "/etc/berth/config.toml"

    public var root = "/var/lib/berth"
    public var state = "/run/berth"
    /// nil: `<state>/berthd.sock`.
    public var address: String?
    /// A group (name or gid) whose members may use the socket besides root.
    public var group: String?
    public var maxFrameBytes = Frame.defaultMaxPayload
    public var frameTimeoutSeconds: Double = 30
    public var maxConnections = 1024
    /// Deadline of each call berthd makes into a shim.
    public var shimTimeoutSeconds: Double = 10
    /// `[tasks] spare_shim`: keep one shim started ahead of the next task (SpareShim).
    public var spareShim = true
    public var logLevel = "info"
    /// Bound on the event journal's size (`<root>/events/`).
    public var eventsJournalMaxBytes = 64 << 20
    /// Events older than this many hours leave the journal.
    public var eventsJournalMaxAgeHours: Double = 168
    /// How many events a subscriber that does not read may fall behind before it is
    /// dropped with `events.overflow`.
    public var eventsSubscriberQueue = 1024
    /// Most bytes one image layer may decompress to: a layer past it (a decompression
    /// bomb) fails its import and its snapshot is removed.
    public var imagesMaxLayerBytes: Int64 = 64 << 30

    public init() {}

    public var socketPath: String { address ?? state + "/berthd.sock" }

    /// The event exchange's settings: the journal under `<root>/events`.
    public var exchangeOptions: Exchange.Options {
        Exchange.Options(
            journal: Journal.Options(directory: root + "/events", maxBytes: eventsJournalMaxBytes,
                                     maxAgeSeconds: eventsJournalMaxAgeHours * 3600),
            subscriberQueue: eventsSubscriberQueue)
    }

    /// The file's shape; every field optional so absent keys keep their defaults.
    struct File: Decodable {
        struct API: Decodable {
            var address: String?
            var group: String?
            var maxFrameBytes: Int?
            var frameTimeoutSeconds: Double?
            var maxConnections: Int?
            var shimTimeoutSeconds: Double?
        }
        struct Log: Decodable { var level: String? }
        struct Events: Decodable {
            var journalMaxBytes: Int?
            var journalMaxAgeHours: Double?
            var subscriberQueue: Int?
        }
        var root: String?
        var state: String?
        var api: API?
        var log: Log?
        var events: Events?
        struct Images: Decodable { var maxLayerBytes: Int64? }
        var images: Images?
        struct Tasks: Decodable { var spareShim: Bool? }
        var tasks: Tasks?

        static let knownKeys: [String: Set<String>] = [
            "": ["root", "state", "api", "log", "events", "images", "tasks"],
            "api": ["address", "group", "max_frame_bytes", "frame_timeout_seconds", "max_connections", "shim_timeout_seconds"],
            "log": ["level"],
            "events": ["journal_max_bytes", "journal_max_age_hours", "subscriber_queue"],
            "images": ["max_layer_bytes"],
            "tasks": ["spare_shim"],
        ]
    }

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads `path` over the defaults. A missing file is fine only when `required` is
    /// false (the default path); a named file that is missing is an error.
    public static func load(path: String, required: Bool) throws -> DaemonConfig {
        var config = DaemonConfig()
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: 1 << 20)
        } catch let error as SystemError where error.errno == ENOENT && !required {
            return config
        } catch {
            throw LoadError(description: "config \(path): \(error)")
        }
        try config.apply(toml: bytes, source: path)
        return config
    }

    /// Applies a TOML document over this configuration.
    public mutating func apply(toml bytes: [UInt8], source: String) throws {
        var errorText: UnsafeMutablePointer<CChar>?
        let json = bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { berth_toml_to_json($0.baseAddress, UInt($0.count), &errorText) }
        }
        guard let json else {
            let message = errorText.map { String(cString: $0) } ?? "unreadable"
            free(errorText)
            throw LoadError(description: "config \(source): \(message)")
        }
        let jsonBytes = Array(UnsafeRawBufferPointer(start: json, count: strlen(json)))
        free(json)
        try Self.checkKeys(jsonBytes, source: source)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let file: File
        do {
            file = try decoder.decode(File.self, from: Data(jsonBytes))
        } catch let error as DecodingError {
            let (field, message) = WireJSON.describe(error)
            let text = message.hasPrefix(field) ? Self.snakeCase(field) + message.dropFirst(field.count) : message
            throw LoadError(description: "config \(source): \(text)")
        }
        if let v = file.root { root = v }
        if let v = file.state { state = v }
        if let v = file.api?.address { address = v }
        if let v = file.api?.group, !v.isEmpty { group = v }
        if let v = file.api?.maxFrameBytes { maxFrameBytes = v }
        if let v = file.api?.frameTimeoutSeconds { frameTimeoutSeconds = v }
        if let v = file.api?.maxConnections { maxConnections = v }
        if let v = file.api?.shimTimeoutSeconds { shimTimeoutSeconds = v }
        if let v = file.tasks?.spareShim { spareShim = v }
        if let v = file.log?.level { logLevel = v }
        if let v = file.events?.journalMaxBytes { eventsJournalMaxBytes = v }
        if let v = file.events?.journalMaxAgeHours { eventsJournalMaxAgeHours = v }
        if let v = file.events?.subscriberQueue { eventsSubscriberQueue = v }
        if let v = file.images?.maxLayerBytes { imagesMaxLayerBytes = v }
        try validate(source: source)
    }

    /// Checks ranges and paths; called after every layer is applied.
    public func validate(source: String = "configuration") throws {
        func fail(_ text: String) -> LoadError { LoadError(description: "\(source): \(text)") }
        guard root.hasPrefix("/") else { throw fail("root must be an absolute path, not \"\(root)\"") }
        guard state.hasPrefix("/") else { throw fail("state must be an absolute path, not \"\(state)\"") }
        guard socketPath.hasPrefix("/") else { throw fail("api.address must be an absolute path, not \"\(socketPath)\"") }
        guard socketPath.utf8.count < 108 else { throw fail("api.address is \(socketPath.utf8.count) bytes; a UNIX socket path must be under 108") }
        guard (1024...(1 << 30)).contains(maxFrameBytes) else { throw fail("api.max_frame_bytes must be between 1024 and 1073741824, not \(maxFrameBytes)") }
        guard frameTimeoutSeconds > 0 else { throw fail("api.frame_timeout_seconds must be positive") }
        guard maxConnections > 0 else { throw fail("api.max_connections must be positive") }
        guard shimTimeoutSeconds > 0 else { throw fail("api.shim_timeout_seconds must be positive") }
        guard imagesMaxLayerBytes >= 1 << 20 else { throw fail("images.max_layer_bytes must be at least 1048576, not \(imagesMaxLayerBytes)") }
        guard Self.logLevels.contains(logLevel) else {
            throw fail("log.level must be one of \(Self.logLevels.joined(separator: ", ")), not \"\(logLevel)\"")
        }
        if let group, lookupGroup(group) == nil { throw fail("api.group \"\(group)\" is not a known group") }
        guard ((64 << 10)...(1 << 40)).contains(eventsJournalMaxBytes) else {
            throw fail("events.journal_max_bytes must be between 65536 and 1099511627776, not \(eventsJournalMaxBytes)")
        }
        guard eventsJournalMaxAgeHours > 0 else { throw fail("events.journal_max_age_hours must be positive") }
        guard (16...(1 << 20)).contains(eventsSubscriberQueue) else {
            throw fail("events.subscriber_queue must be between 16 and 1048576, not \(eventsSubscriberQueue)")
        }
    }

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    private static func checkKeys(_ json: [UInt8], source: String) throws {
        guard let top = try? WireJSON.decode(KeyShape.self, from: json) else { return }
        for (key, value) in top.keys {
            guard File.knownKeys[""]!.contains(key) else {
                throw LoadError(description: "config \(source): unknown key \"\(key)\"")
            }
            if let known = File.knownKeys[key] {
                for sub in value.keys.keys.sorted() where !known.contains(sub) {
                    throw LoadError(description: "config \(source): unknown key \"\(key).\(sub)\"")
                }
            }
        }
    }

    /// The keys of a JSON object, one level at a time (scalars have none).
    private struct KeyShape: Decodable {
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var keys: [String: KeyShape] = [:]
        init(from decoder: any Decoder) throws {
            guard let c = try? decoder.container(keyedBy: AnyKey.self) else { return }
            for key in c.allKeys {
                keys[key.stringValue] = (try? c.decode(KeyShape.self, forKey: key)) ?? KeyShape()
            }
        }
        init() {}
    }

    private static func snakeCase(_ text: String) -> String {
        var out = ""
        for c in text {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}
