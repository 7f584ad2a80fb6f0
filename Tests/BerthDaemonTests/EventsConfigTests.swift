@testable import BerthDaemon
import Foundation
import Testing

/// The `[events]` section of the config.
@Suite struct EventsConfigTests {
    func apply(_ toml: String) throws -> DaemonConfig {
        var config = DaemonConfig()
        try config.apply(toml: Array(toml.utf8), source: "test.toml")
        return config
    }

    @Test func defaults() {
        let config = DaemonConfig()
        #expect(config.eventsJournalMaxBytes == 64 << 20)
        #expect(config.eventsJournalMaxAgeHours == 168)
        #expect(config.eventsSubscriberQueue == 1024)
        #expect(config.exchangeOptions.journal.directory == "/var/lib/berth/events")
        #expect(config.exchangeOptions.journal.maxAgeSeconds == 168 * 3600)
    }

    @Test func everyKeyIsRead() throws {
        let config = try apply("""
            root = "/srv/b"
            [events]
            journal_max_bytes = 1048576
            journal_max_age_hours = 0.5
            subscriber_queue = 64
            """)
        #expect(config.eventsJournalMaxBytes == 1 << 20 && config.eventsJournalMaxAgeHours == 0.5 && config.eventsSubscriberQueue == 64)
        let options = config.exchangeOptions
        #expect(options.journal.directory == "/srv/b/events" && options.journal.maxBytes == 1 << 20)
        #expect(options.journal.maxAgeSeconds == 1800 && options.subscriberQueue == 64)
    }

    @Test(arguments: [
        ("[events]\njournal_max_byte = 1", "unknown key \"events.journal_max_byte\""),
        ("[events]\njournal_max_bytes = 100", "events.journal_max_bytes must be between"),
        ("[events]\njournal_max_age_hours = 0", "events.journal_max_age_hours must be positive"),
        ("[events]\nsubscriber_queue = 1", "events.subscriber_queue must be between"),
        ("[events]\nsubscriber_queue = \"many\"", "subscriber_queue"),
    ])
    func badValuesNameTheKey(_ toml: String, _ mentioned: String) {
        let error = #expect(throws: DaemonConfig.LoadError.self) { try apply(toml) }
        #expect(error?.description.contains(mentioned) == true, "\(error?.description ?? "no error")")
    }

    /// contrib/berthd.toml lists every key of the section, commented out at its default.
    @Test func theSampleConfigShowsTheDefaults() throws {
        let sample = try String(contentsOfFile: #filePath.components(separatedBy: "/Tests/")[0] + "/contrib/berthd.toml", encoding: .utf8)
        for line in ["[events]", "#journal_max_bytes = 67108864", "#journal_max_age_hours = 168", "#subscriber_queue = 1024"] {
            #expect(sample.contains(line), "contrib/berthd.toml lacks \(line)")
        }
        let uncommented = sample.split(separator: "\n").map { line -> String in
            // `#key = value` lines become settings; prose comments stay comments.
            let isSetting = line.hasPrefix("#") && line.dropFirst().first?.isLetter == true && line.contains(" = ")
            return isSetting ? String(line.dropFirst()) : String(line)
        }.joined(separator: "\n")
        _ = try apply(uncommented) // the sample, every key set, still loads
    }

    @Test func imagesMaxLayerBytes() throws {
        #expect(DaemonConfig().imagesMaxLayerBytes == 64 << 30)
        #expect(try apply("[images]\nmax_layer_bytes = 1048576").imagesMaxLayerBytes == 1 << 20)
        let error = #expect(throws: DaemonConfig.LoadError.self) { try apply("[images]\nmax_layer_bytes = 10") }
        #expect(error?.description.contains("images.max_layer_bytes must be at least") == true)
        let sample = try String(contentsOfFile: #filePath.components(separatedBy: "/Tests/")[0] + "/contrib/berthd.toml", encoding: .utf8)
        #expect(sample.contains("[images]") && sample.contains("#max_layer_bytes = 68719476736"))
    }
}
