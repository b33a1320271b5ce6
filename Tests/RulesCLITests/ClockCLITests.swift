import Foundation
import Testing

/// Language v2 in the commands: `--now`, the clock of a replayed log line, and warnings printed by every command.
@Suite struct ClockCLITests {
    static let event = #"{"user":{"user_id":"auth0|1","email":"a@acme.com"}}"#
    static let clean = #"rule "staff" when user.email ends_with "@acme.com" assign "staff""#
    /// One warning: `first-login-count`.
    static let warned = clean + "\n" + #"rule "first" when logins_count == 1 assign "member""#
    /// A rule that reads the clock: users created less than a day before it are "new".
    static let timed = #"rule "new" when days_since(user.created_at) < 1 assign "new""#

    // MARK: --now

    @Test(arguments: [
        ["eval", "--event", "-"], ["eval", "--events", "-"], ["apply", "--dry-run", "--event", "-"],
    ])
    func nowIsAcceptedByEvalAndApply(command: [String]) throws {
        let rules = try CLITests.temporary("r.rules", Self.clean)
        let run = try CLITests.rules(
            [command[0], rules] + command.dropFirst() + ["--now", "2026-11-30T09:15:00.5+01:00"],
            input: Data(Self.event.utf8))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("staff"), "\(run.stdout)")
    }

    @Test func nowIsTheClockOfDaysSince() throws {
        let rules = try CLITests.temporary("r.rules", Self.timed)
        let event = Data(#"{"user":{"user_id":"auth0|1","created_at":"2026-11-30T00:00:00Z"}}"#.utf8)
        for (now, assigned) in [("2026-11-30T23:59:59Z", true), ("2026-12-01T00:00:00Z", false)] {
            for command in [["eval", rules, "--event", "-"], ["eval", rules, "--events", "-"]] {
                let run = try CLITests.rules(command + ["--now", now], input: event)
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.stdout.contains(#""assign":["new"]"#) == assigned, "\(command) \(now): \(run.stdout)")
            }
        }
    }

    @Test(arguments: ["yesterday", "2026-11-30", "2026-11-30T25:00:00Z", "1796030100", ""])
    func anInvalidNowIsAUsageError(value: String) throws {
        let rules = try CLITests.temporary("r.rules", Self.clean)
        for command in [
            ["eval", rules, "--event", "-"], ["test", rules], ["apply", rules, "--dry-run", "--event", "-"],
        ] {
            let run = try CLITests.rules(command + ["--now", value], input: Data(Self.event.utf8))
            #expect(run.status == 64, "\(command): \(run.stderr)")
            #expect(
                run.stderr.contains("--now must be an RFC 3339 timestamp such as 2026-11-30T09:15:00Z"),
                "\(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
    }

    @Test func testAcceptsNowAndASuiteUsesIt() throws {
        let rules = try CLITests.temporary("r.rules", Self.clean)
        let directory = (rules as NSString).deletingLastPathComponent
        try """
        now: 2026-11-30T09:15:00Z
        tests:
          - {name: staff, event: {user: {email: a@acme.com}}, expect: {assign_includes: [staff]}}
          - {name: own clock, now: 2026-12-01T00:00:00Z, event: {}, expect: {assign_excludes: [staff]}}
        """.write(toFile: directory + "/r.test.yaml", atomically: true, encoding: .utf8)
        let run = try CLITests.rules(["test", directory, "--now", "2027-01-01T00:00:00Z"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.hasSuffix("2 passed, 0 failed\n"), "\(run.stdout)")
    }

    // MARK: the clock of a replay

    /// `--events` reads each line's `rolecall_now` (as `rules log export` writes it): one that is not a timestamp
    /// makes that line invalid, which shows the clock is read. `--now` and `--event` do not read it.
    @Test func eventsReadTheLinesOwnClockUnlessNowIsGiven() throws {
        let rules = try CLITests.temporary("r.rules", Self.clean)
        let lines =
            #"{"rolecall_now":"2026-11-30T09:15:00.000Z","user":{"email":"a@acme.com"}}"# + "\n"
            + #"{"rolecall_now":"last tuesday","user":{"email":"a@acme.com"}}"# + "\n"
        let replay = try CLITests.rules(["eval", rules, "--events", "-"], input: Data(lines.utf8))
        #expect(replay.status == 2)
        let output = replay.stdout.split(separator: "\n").map(String.init)
        #expect(output.count == 2)
        #expect(output.first?.contains(#""assign":["staff"]"#) == true, "\(replay.stdout)")
        #expect(
            output.last
                == #"{"error":{"line":2,"message":"invalid event: `rolecall_now` must be an RFC 3339 timestamp, found \"last tuesday\" at byte 16"}}"#,
            "\(replay.stdout)")

        let fixed = try CLITests.rules(
            ["eval", rules, "--events", "-", "--now", "2026-11-30T09:15:00Z"], input: Data(lines.utf8))
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")

        // Each line decides at its own clock; `--now` overrides every line's.
        let timed = try CLITests.temporary("r.rules", Self.timed)
        let logged =
            #"{"rolecall_now":"2026-11-30T09:15:00.000Z","user":{"created_at":"2026-11-30T09:00:00Z"}}"# + "\n"
            + #"{"rolecall_now":"2026-12-05T09:15:00.000Z","user":{"created_at":"2026-11-30T09:00:00Z"}}"# + "\n"
        let own = try CLITests.rules(["eval", timed, "--events", "-"], input: Data(logged.utf8))
        #expect(own.stdout.split(separator: "\n").map { $0.contains(#""assign":["new"]"#) } == [true, false])
        let overridden = try CLITests.rules(
            ["eval", timed, "--events", "-", "--now", "2026-11-30T10:00:00Z"], input: Data(logged.utf8))
        #expect(overridden.stdout.split(separator: "\n").map { $0.contains(#""assign":["new"]"#) } == [true, true])
        let single = try CLITests.rules(
            ["eval", rules, "--event", "-"], input: Data(#"{"rolecall_now":"last tuesday"}"#.utf8))
        #expect(single.status == 0, "\(single.stderr)")
    }

    // MARK: warnings in every command

    @Test(arguments: [
        (clean, "ok"), (warned, "ok, 1 warning"),
        (warned + "\n" + #"rule "e" when user.emial == "x" assign "x""#, "ok, 2 warnings"),
    ])
    func checkCountsItsWarnings(rules: String, verdict: String) throws {
        let path = try CLITests.temporary("r.rules", rules)
        let run = try CLITests.rules(["check", path])
        #expect(run.status == 0, "\(run.stdout)")
        let count = rules.components(separatedBy: "rule ").count - 1
        #expect(
            run.stdout.hasSuffix("checked \(count) rule\(count == 1 ? "" : "s") in 1 file: \(verdict)\n"),
            "\(run.stdout)")
    }

    @Test func evalPrintsTheWarningsAndStillDecides() throws {
        let path = try CLITests.temporary("r.rules", Self.warned)
        let run = try CLITests.rules(["eval", path, "--event", "-"], input: Data(Self.event.utf8))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(#""assign":["staff"]"#))
        #expect(run.stderr.contains("\(path):2:19: warning: `logins_count == 1` can miss a user's first login"))
        #expect(run.stderr.hasSuffix("1 warning generated\n"), "\(run.stderr)")
        let denied = try CLITests.rules(
            ["eval", path, "--event", "-", "--deny-warnings"], input: Data(Self.event.utf8))
        #expect(denied.status == 1)
        #expect(denied.stdout.isEmpty)
    }

    @Test func testPrintsBothKindsOfWarningsAndStillPasses() throws {
        let rules = try CLITests.temporary("r.rules", Self.warned)
        let directory = (rules as NSString).deletingLastPathComponent
        try """
        tests:
          - name: staff
            event: {user: {email: a@acme.com}}
            patch: {user: {emial: b@acme.com}}
            expect: {assign: [staff], roles_excludes: [stafff]}
          - name: typo
            event: {user: {email: a@acme.com}}
            expect: {assign_includes: [stafff]}
        """.write(toFile: directory + "/r.test.yaml", atomically: true, encoding: .utf8)
        let run = try CLITests.rules(["test", directory])
        let suite = directory + "/r.test.yaml"
        #expect(run.status == 1, "the typo case fails: \(run.stdout)")
        #expect(run.stderr.contains("\(rules):2:19: warning: `logins_count == 1` can miss"), "\(run.stderr)")
        #expect(
            run.stdout.contains(
                "\(suite):4:20: warning: unknown field `user.emial` in `patch`; did you mean `user.email`?\n"),
            "\(run.stdout)")
        #expect(
            run.stdout.contains(
                "\(suite):8:32: warning: no rule assigns `stafff`, so `assign_includes` expecting it cannot pass; "
                    + "did you mean `staff`?\n"),
            "\(run.stdout)")
        #expect(!run.stdout.contains("`roles_excludes` expecting"), "excluding an unknown role is harmless")
        #expect(run.stdout.contains("ok    \(suite): staff\n"))
        #expect(run.stdout.hasSuffix("1 passed, 1 failed\n"))
    }
}
