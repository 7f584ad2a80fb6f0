import BerthAPI
import BerthSystem
@testable import BerthEvents
import Foundation
import Testing

/// A batch reaches subscribers before its `fdatasync`; the reservation is what keeps a
/// machine crash in that window from giving a seen seq to another event.
@Suite struct JournalReservationTests {
    static func reservation(_ dir: String) throws -> (boot: String, seq: UInt64) {
        let (boot, seq) = try #require(Journal.readReservation(dir + "/" + Journal.reservationFile))
        return (boot, seq)
    }

    /// What a crash of the machine leaves: the journal's records and a reservation made
    /// in another boot (berthd never closed the journal).
    static func pretendTheMachineRebooted(_ dir: String) throws {
        let (_, seq) = try reservation(dir)
        let fd = open(dir + "/" + Journal.reservationFile, O_RDWR)
        #expect(fd >= 0)
        defer { close(fd) }
        try Journal.writeReservation(fd, bootID: "00000000-0000-0000-0000-000000000000", through: seq)
    }

    /// A journal that held events 1...5 when the machine went down, as the next boot
    /// finds it. Returned open: closing it would record a clean stop.
    static func crashedBeforeAReboot(_ options: Journal.Options) throws -> Journal {
        let crashed = try Journal(options)
        try crashed.append(JournalTests.records(1...5))
        try pretendTheMachineRebooted(options.directory)
        return crashed
    }

    @Test func appendsAreCoveredByADurableReservationOfThisBoot() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(Journal.Options(directory: dir.path))
        defer { journal.close() }
        try journal.append(JournalTests.records(1...10))
        let (boot, seq) = try Self.reservation(dir.path)
        #expect(boot == Journal.currentBootID())
        #expect(seq == 10 + Journal.reservationBlock)
        // Renewed only when an append passes it.
        try journal.append(JournalTests.records(11...(10 + Journal.reservationBlock)))
        #expect(try Self.reservation(dir.path).seq == 10 + Journal.reservationBlock)
        let next = 11 + Journal.reservationBlock
        try journal.append(JournalTests.records(next...next))
        #expect(try Self.reservation(dir.path).seq == next + Journal.reservationBlock)
    }

    @Test func aRestartInTheSameBootContinuesRightAfterTheLastRecord() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Journal.Options(directory: dir.path)
        let crashed = try Journal(options) // never closed before the restart: a killed berthd
        defer { crashed.close() }
        try crashed.append(JournalTests.records(1...5))
        let restarted = try Journal(options)
        defer { restarted.close() }
        #expect(restarted.recovery.lastSeq == 5)
        #expect(restarted.recovery.skipped == 0)
    }

    @Test func aRebootAfterAnUncleanStopResumesAfterTheReservationNeverReusingASeq() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Journal.Options(directory: dir.path)
        let crashed = try Self.crashedBeforeAReboot(options)
        defer { crashed.close() }
        let rebooted = try Journal(options)
        defer { rebooted.close() }
        let reserved = 5 + Journal.reservationBlock
        #expect(rebooted.recovery.lastSeq == reserved)
        #expect(rebooted.recovery.skipped == Journal.reservationBlock)
        // Numbering resumes above every seq that may have been seen; the records kept
        // read back with the gap, and a replay from inside the gap starts after it.
        try rebooted.append(JournalTests.records((reserved + 1)...(reserved + 2)))
        #expect(try JournalTests.readAll(rebooted) == [1, 2, 3, 4, 5, reserved + 1, reserved + 2])
        #expect(try JournalTests.readAll(rebooted, after: 7) == [reserved + 1, reserved + 2])
        let reopened = try Journal(options)
        defer { reopened.close() }
        #expect(reopened.recovery.lastSeq == reserved + 2 && reopened.recovery.skipped == 0)
    }

    @Test func theJumpAfterARebootOutlivesARestartBeforeTheFirstEvent() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Journal.Options(directory: dir.path)
        let crashed = try Self.crashedBeforeAReboot(options)
        defer { crashed.close() }
        let reserved = 5 + Journal.reservationBlock
        do {
            let rebooted = try Journal(options)
            #expect(rebooted.recovery.lastSeq == reserved)
            rebooted.close() // stopped cleanly before publishing anything
        }
        let restarted = try Journal(options) // the same boot
        defer { restarted.close() }
        #expect(restarted.recovery.lastSeq == reserved && restarted.recovery.skipped == 0)
        try restarted.append(JournalTests.records((reserved + 1)...(reserved + 1)))
        #expect(try JournalTests.readAll(restarted) == [1, 2, 3, 4, 5, reserved + 1])
    }

    @Test func aRebootAfterACleanCloseLeavesNoGap() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Journal.Options(directory: dir.path)
        let journal = try Journal(options)
        try journal.append(JournalTests.records(1...5))
        journal.close()
        #expect(try Self.reservation(dir.path).seq == 5)
        try Self.pretendTheMachineRebooted(dir.path)
        let rebooted = try Journal(options)
        defer { rebooted.close() }
        #expect(rebooted.recovery.lastSeq == 5 && rebooted.recovery.skipped == 0)
    }

    @Test func aClosedJournalRefusesAppends() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(Journal.Options(directory: dir.path))
        try journal.append(JournalTests.records(1...2))
        journal.close()
        #expect(throws: SystemError.self) { try journal.append(JournalTests.records(3...3)) }
        let reopened = try Journal(Journal.Options(directory: dir.path))
        defer { reopened.close() }
        #expect(reopened.recovery.lastSeq == 2)
        #expect(try JournalTests.readAll(reopened) == [1, 2])
    }
}
