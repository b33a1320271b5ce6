import Foundation
import Testing

/// Issue 7, items 4 and 13: `--max-event-bytes` holds for every line in batch mode, and an absurd value is a usage
/// error, not a trap.
@Suite struct BatchLimitTests {
    /// An event of exactly `size` bytes.
    static func event(bytes size: Int) -> String {
        let frame = #"{"stats":{"logins_count":1},"pad":""}"#
        let padded =
            #"{"stats":{"logins_count":1},"pad":""# + String(repeating: "x", count: size - frame.utf8.count)
            + #""}"#
        precondition(padded.utf8.count == size)
        return padded
    }

    @Test func aLineOneByteOverTheLimitIsRefusedAndOneAtTheLimitIsAccepted() throws {
        let input = [Self.event(bytes: 100), Self.event(bytes: 101), Self.event(bytes: 100), Self.event(bytes: 101)]
            .joined(separator: "\n")  // the last line ends at the end of input, without a newline
        let run = try CLITests.rules(
            ["eval", "rules/default-roles.rules", "--events", "-", "--max-event-bytes", "100"],
            input: Data(input.utf8))
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix(#"{"assign":["member"]"#))
        #expect(lines[1] == #"{"error":{"line":2,"message":"event is 101 bytes, more than --max-event-bytes 100"}}"#)
        #expect(lines[2].hasPrefix(#"{"assign":["member"]"#))
        #expect(lines[3] == #"{"error":{"line":4,"message":"event is 101 bytes, more than --max-event-bytes 100"}}"#)
        #expect(run.status == 2)
    }

    /// Found by an attacker: a CRLF line's `\r` counted toward the limit, and so did an `--event` file's final
    /// newline. The line end is not part of the event.
    @Test func lineEndsDoNotCountTowardTheLimit() throws {
        let input = [Self.event(bytes: 100), Self.event(bytes: 101), Self.event(bytes: 100)].joined(separator: "\r\n")
        let run = try CLITests.rules(
            ["eval", "rules/default-roles.rules", "--events", "-", "--max-event-bytes", "100"],
            input: Data((input + "\r\n").utf8))
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix(#"{"assign":["member"]"#))
        #expect(lines[1] == #"{"error":{"line":2,"message":"event is 101 bytes, more than --max-event-bytes 100"}}"#)
        #expect(lines[2].hasPrefix(#"{"assign":["member"]"#))
        for (size, lineEnd, status) in [(100, "\n", Int32(0)), (100, "\r\n", 0), (101, "\n", 2)] {
            let file = try CLITests.temporary("e.json", Self.event(bytes: size) + lineEnd)
            let single = try CLITests.rules(
                ["eval", "rules/default-roles.rules", "--event", file, "--max-event-bytes", "100"])
            #expect(single.status == status, "\(size) \(single.stderr)")
        }
    }

    @Test func applyHoldsEveryLineToTheLimitToo() throws {
        let input = Self.event(bytes: 101) + "\n"
        let run = try CLITests.rules(
            ["apply", "--dry-run", "rules/default-roles.rules", "--events", "-", "--max-event-bytes", "100"],
            input: Data(input.utf8))
        #expect(run.status == 2)
        #expect(run.stderr.contains("rules: event 1: larger than --max-event-bytes 100"), "\(run.stderr)")
    }

    @Test(arguments: ["9223372036854775807", "1073741825", "0"])
    func anOutOfRangeLimitIsAUsageError(limit: String) throws {
        let run = try CLITests.rules(
            ["eval", "rules/default-roles.rules", "--events", "-", "--max-event-bytes", limit], input: Data())
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--max-event-bytes must be between 1 and 1073741824"), "\(run.stderr)")
    }
}
