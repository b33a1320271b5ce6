import Foundation
import Testing

/// The lean `rules` parses `rules eval`'s everyday arguments itself, without ArgumentParser (a third of a
/// one-event run's start-up), and hands every other form to ArgumentParser. `rules-full` parses them all with
/// ArgumentParser, so each form must do exactly what it does there: the same decisions, messages and exit code.
@Suite struct EvalArgumentsTests {
    static let rules = "rules/company.rules"
    static let events = "rules/events/batch.jsonl"
    static let event = "rules/events/acme-admin.json"
    /// A trace shows `days_since`, which counts to the wall clock without `--now`.
    static let now = "2026-11-30T09:15:00Z"
    /// `bench/roles.rules` has a warning, for `--deny-warnings`, `--format` and `--max-diagnostics`.
    static let warned = "bench/roles.rules"

    static var fullBinary: String {
        URL(fileURLWithPath: CLITests.binary).deletingLastPathComponent().appendingPathComponent("rules-full").path
    }

    /// Forms the lean binary parses itself.
    static let plain: [[String]] = [
        [rules, "--events", events],
        ["--events=\(events)", rules],
        [rules, "--events", events, "--jobs", "1"],
        ["--jobs=2", rules, "--events", events],
        [rules, "--events", events, "--jobs", "+1"],
        [rules, "--event", event],
        [rules, "--event", event, "--explain", "--now", now],
        ["--explain", "--events", events, rules, "--now", now],
        [rules, "--events", events, "--now", "2020-01-01T00:00:00Z"],
        [rules, "--events", events, "--now=2031-06-01T12:00:00+01:00"],
        [rules, "--events", events, "--max-event-bytes", "100"],
        [warned, "--events", events, "--deny-warnings"],
        [warned, "--events", events, "--format", "json", "--max-diagnostics", "0"],
        [warned, "--events", events, "--format=human", "--no-color", "--max-diagnostics=1"],
        [rules, "company-missing.rules", "--events", events],
        ["--events", events],
        [rules, "--events", "-"],
    ]

    /// Forms left to ArgumentParser: errors, help, and what the lean parser does not take.
    static let handedOver: [[String]] = [
        [],
        [rules],
        [rules, "--events"],
        [rules, "--events", events, "--jobs", "0"],
        [rules, "--events", events, "--jobs", "x"],
        [rules, "--events", events, "--jobs", "-1"],
        [rules, "--events", events, "--events", events],
        [rules, "--event", event, "--events", events],
        [rules, "--events", events, "--now", "yesterday"],
        [rules, "--events", events, "--format", "xml"],
        [rules, "--events", events, "--max-event-bytes", "0"],
        [rules, "--events", events, "--explain", "--explain", "--now", now],
        [rules, "--explain=yes", "--events", events],
        [rules, "--events=", events],
        [rules, "--events", "--jobs", "1"],
        [rules, "--bogus", "--events", events],
        [rules, "--events", events, "--help"],
        [rules, "-h"],
        [rules, "help"],
        [rules, "--version"],
        [rules, "--", "--events", events],
        [rules, "-", "--events", events],
        [rules, "", "--events", events],
    ]

    @Test(arguments: plain + handedOver)
    func theLeanBinaryDoesWhatArgumentParserDoes(arguments: [String]) throws {
        let input = Data(try String(contentsOfFile: CLITests.root + "/" + Self.events, encoding: .utf8).utf8)
        let lean = try CLITests.rules(["eval"] + arguments, input: input)
        let full = try CLITests.rules(["eval"] + arguments, input: input, executable: Self.fullBinary)
        #expect(lean.stdout == full.stdout, "\(arguments)")
        #expect(lean.stderr == full.stderr, "\(arguments)")
        #expect(lean.status == full.status, "\(arguments)")
    }

    /// The plain forms do something worth comparing: they decide, or fail in a way of their own.
    @Test func thePlainFormsAreNotAllOneOutcome() throws {
        let outcomes = try Self.plain.map { arguments in
            let run = try CLITests.rules(["eval"] + arguments, input: Data())
            return "\(run.status) \(run.stdout) \(run.stderr)"
        }
        #expect(Set(outcomes).count >= 10, "\(outcomes)")
    }
}
