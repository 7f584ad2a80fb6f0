import BerthAPI

/// The events published after `afterSeq` (matching `filters`) up to the first for
/// which `stop` holds; throws if none does within 10 s.
func collectEvents(_ address: String, afterSeq: UInt64 = 0, filters: [String] = [],
                   until stop: @escaping @Sendable (Event) -> Bool) async throws -> [Event] {
    let client = try await BerthClient.connect(to: address)
    defer { client.close() }
    let subscription = try await client.subscribeEvents(filters: filters, afterSeq: afterSeq)
    return try await withThrowingTaskGroup(of: [Event].self) { group in
        group.addTask {
            var seen: [Event] = []
            for try await event in subscription {
                seen.append(event)
                if stop(event) { break }
            }
            return seen
        }
        group.addTask {
            try await Task.sleep(for: .seconds(10))
            throw TestFailure("no matching event within 10 s")
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}
