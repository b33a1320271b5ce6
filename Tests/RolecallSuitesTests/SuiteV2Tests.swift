import Foundation
import RolecallEngine
import RolecallJSON
import RolecallSuites
import Testing

/// Version 2 of the suites: subset and disjointness expectations, `now:`, and the warnings.
@Suite struct SuiteV2Tests {
    static let rules = """
        rule "staff" when user.email ends_with "@acme.com" assign "staff"
        rule "admins" when user.app_metadata.admin == true assign "admin", "staff"
        rule "banned" when user.app_metadata.banned == true revoke "admin"
        """

    /// Runs one case of `expect` against ``rules`` with an acme admin's event; the mismatches.
    func mismatches(_ expect: String) throws -> [String] {
        let scratch = try Scratch([
            "r.rules": Self.rules,
            "r.test.yaml": """
            tests:
              - name: case
                event: {user: {email: a@acme.com, app_metadata: {admin: true}}, authorization: {roles: [old]}}
                expect: \(expect)
            """,
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        #expect(report.problems.isEmpty, "\(report.problems)")
        return try #require(report.results.first).mismatches
    }

    @Test(arguments: [
        "{assign_includes: [admin]}", "{assign_includes: [admin, staff]}", "{assign_includes: []}",
        "{assign_excludes: [member, old]}", "{roles_includes: [old, admin]}", "{roles_excludes: [member]}",
        "{assign: [admin, staff], assign_includes: [staff], roles_excludes: [guest]}",
    ])
    func newExpectKeysPass(expect: String) throws {
        #expect(try mismatches(expect) == [])
    }

    @Test(arguments: [
        (
            "{assign_includes: [admin, member, guest]}",
            #"assign_includes: expected to include ["admin", "guest", "member"], got ["admin", "staff"] (missing ["guest", "member"])"#
        ),
        (
            "{assign_excludes: [staff, member]}",
            #"assign_excludes: expected none of ["member", "staff"], got ["admin", "staff"] (unexpected ["staff"])"#
        ),
        (
            "{roles_includes: [old, member]}",
            #"roles_includes: expected to include ["member", "old"], got ["admin", "old", "staff"] (missing ["member"])"#
        ),
        (
            "{roles_excludes: [old, admin, guest]}",
            #"roles_excludes: expected none of ["admin", "guest", "old"], got ["admin", "old", "staff"] (unexpected ["admin", "old"])"#
        ),
    ])
    func newExpectKeysFailWithWhatIsMissingOrUnexpected(expect: String, message: String) throws {
        #expect(try mismatches(expect) == [message])
    }

    @Test func newExpectKeysMustBeLists() {
        let suite = SuiteLoader.parse(
            "tests:\n  - name: a\n    event: {}\n    expect: {roles_excludes: admin}\n", path: "s.test.yaml",
            directory: ".")
        #expect(suite.problems.map(\.message) == ["`roles_excludes` must be a list"])
        #expect(suite.problems.map(\.line) == [4])
    }

    // MARK: now:

    @Test func nowAtSuiteAndCaseLevelCaseWins() throws {
        let suite = SuiteLoader.parse(
            """
            now: 2026-11-30T09:15:00Z
            tests:
              - {name: suite clock, event: {}, expect: {}}
              - {name: own clock, event: {}, now: "2026-12-01T00:00:00.500+01:00", expect: {}}
            """, path: "s.test.yaml", directory: ".")
        #expect(suite.problems.isEmpty, "\(suite.problems)")
        #expect(suite.now == Timestamp.seconds("2026-11-30T09:15:00Z"))
        #expect(suite.cases.map(\.now) == [1_796_030_100, 1_796_079_600.5])
        #expect(Timestamp.format(try #require(suite.cases[1].now)) == "2026-11-30T23:00:00.500Z")
    }

    @Test func nowMayFollowTheTests() {
        let suite = SuiteLoader.parse(
            "tests:\n  - {name: a, event: {}, expect: {}}\nnow: 2026-11-30T09:15:00Z\n", path: "s.test.yaml",
            directory: ".")
        #expect(suite.problems.isEmpty, "\(suite.problems)")
        #expect(suite.cases.map(\.now) == [1_796_030_100])
    }

    @Test func withoutNowACaseHasNoClockOfItsOwn() {
        let suite = SuiteLoader.parse(
            "tests:\n  - {name: a, event: {}, expect: {}}\n", path: "s.test.yaml", directory: ".")
        #expect(suite.now == nil)
        #expect(suite.cases.map(\.now) == [nil])
    }

    @Test(arguments: [
        ("now: yesterday\ntests:\n  - {name: a, event: {}, expect: {}}\n", 1, 0),
        ("tests:\n  - name: a\n    event: {}\n    now: 2026-13-01T00:00:00Z\n    expect: {}\n", 4, 0),
        ("tests:\n  - name: a\n    event: {}\n    now: 2026-11-30\n    expect: {}\n", 4, 0),
        ("tests:\n  - name: a\n    event: {}\n    now: [2026]\n    expect: {}\n", 4, 0),
        ("tests:\n  - {name: a, event: {}, now: 1796030100, expect: {}}\n  - {name: b, event: {}, expect: {}}\n", 2, 1),
    ])
    func badNowIsALoadErrorWithItsLine(text: String, line: Int, cases: Int) throws {
        let suite = SuiteLoader.parse(text, path: "s.test.yaml", directory: ".")
        let problem = try #require(suite.problems.first)
        #expect(problem.line == line)
        #expect(
            problem.message.hasPrefix("`now` must be an RFC 3339 timestamp such as `2026-11-30T09:15:00Z`"),
            "\(problem.message)")
        #expect(suite.cases.count == cases)
    }

    /// `days_since` against each case's clock: the case's `now:`, the suite's, then the runner's (`--now`).
    @Test func daysSinceCountsToTheCaseClock() throws {
        let scratch = try Scratch([
            "a/r.rules": #"rule "veteran" when days_since(user.created_at) >= 30 assign "veteran""#,
            "a/r.test.yaml": """
            now: 2026-12-31T00:00:00Z
            tests:
              - {name: suite clock, event: {user: {created_at: "2026-11-01T00:00:00Z"}}, expect: {assign: [veteran]}}
              - name: case clock
                now: 2026-11-15T00:00:00Z
                event: {user: {created_at: "2026-11-01T00:00:00Z"}}
                expect: {assign: []}
            """,
            "b/r.rules": #"rule "veteran" when days_since(user.created_at) >= 30 assign "veteran""#,
            "b/r.test.yaml": """
            tests:
              - {name: runner clock, event: {user: {created_at: "2026-11-01T00:00:00Z"}}, expect: {assign: [veteran]}}
            """,
        ])
        let report = SuiteRunner(now: Timestamp.seconds("2027-01-01T00:00:00Z")).run([
            scratch.path + "/a/r.test.yaml", scratch.path + "/b/r.test.yaml",
        ])
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        #expect(report.failed == 0, "\(report.results.map(\.mismatches))")
        #expect(report.passed == 3)
    }

    // MARK: warnings

    @Test func unknownPatchKeysAreWarningsWithADidYouMean() throws {
        let suite = SuiteLoader.parse(
            """
            tests:
              - name: a
                event: {}
                patch:
                  user: {emial: x@y.z, app_metadata: {anything: [1]}, user_metadata: {free: true}}
                  stats: {logins_cout: 1}
                  logins_count: 1
                  rolecall_now: 2026-11-30T09:15:00Z
                  reqest: {}
                  request: {geoip: {countrycode: NO}, query: {x: 1}}
                  connection: {metadata: {any_key: v}}
                  custom_claims: {}
                expect: {}
            """, path: "s.test.yaml", directory: ".")
        #expect(suite.problems.isEmpty, "\(suite.problems)")
        #expect(suite.cases.count == 1)
        let shown = suite.warnings.map { "\($0.line):\($0.column): \($0.message)" }
        #expect(
            shown == [
                "5:14: unknown field `user.emial` in `patch`; did you mean `user.email`?",
                "6:15: unknown field `stats.logins_cout` in `patch`; did you mean `stats.logins_count`?",
                "7:7: unknown field `logins_count` in `patch`; did you mean `stats.logins_count`? "
                    + "(`logins_count` is a shorthand of the rule language only)",
                "8:7: `rolecall_now` in a suite's event is not read (only replays read it); set the case's `now:` "
                    + "instead",
                "9:7: unknown field `reqest` in `patch`; did you mean `request`?",
                "10:25: unknown field `request.geoip.countrycode` in `patch`; did you mean "
                    + "`request.geoip.countryCode`?",
                "12:7: unknown field `custom_claims` in `patch`: the post-login event has no such field",
            ])
        #expect(suite.warnings.allSatisfy { $0.caseName == "a" })
        #expect(suite.warnings.first?.description == "s.test.yaml:5:14: warning: " + suite.warnings[0].message)
    }

    @Test func patchKeysInsideListsAreChecked() {
        let suite = SuiteLoader.parse(
            """
            tests:
              - name: a
                event: {}
                patch: {user: {identities: [{provider: x, conection: y}]}}
                expect: {}
            """, path: "s.test.yaml", directory: ".")
        #expect(
            suite.warnings.map(\.message) == [
                "unknown field `user.identities[0].conection` in `patch`; did you mean `user.identities[0].connection`?"
            ])
    }

    @Test func expectedRolesNoRuleProducesAreWarnings() throws {
        let scratch = try Scratch([
            "r.rules": Self.rules,
            "r.test.yaml": """
            tests:
              - name: typo
                event: {user: {email: a@acme.com}}
                expect:
                  assign: [staf]
                  roles_includes: [old, legacy]
                  assign_excludes: [nobody]
                  roles_excludes: [nobody]
              - name: held by the event
                event: {user: {email: a@acme.com}, authorization: {roles: [legacy]}}
                expect: {roles: [legacy, staff], assign_includes: [legacy]}
            """,
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        let shown = report.warnings.map { "\($0.line):\($0.column): \($0.caseName ?? ""): \($0.message)" }
        #expect(
            shown == [
                "5:16: typo: no rule assigns `staf`, so `assign` expecting it cannot pass; did you mean `staff`?",
                "6:24: typo: no rule assigns `old` and the event's `authorization.roles` does not hold it, so "
                    + "`roles_includes` expecting it cannot pass",
                "6:29: typo: no rule assigns `legacy` and the event's `authorization.roles` does not hold it, so "
                    + "`roles_includes` expecting it cannot pass",
                "11:56: held by the event: no rule assigns `legacy`, so `assign_includes` expecting it cannot pass",
            ])
        // Warnings fail nothing by themselves: the first case fails on its own mismatches, the second passes...
        #expect(report.results.map(\.passed) == [false, false])
        // ...except that `assign_includes: [legacy]` cannot hold.
        #expect(report.results[1].mismatches.first?.hasPrefix("assign_includes:") == true)
    }

    @Test func theRuleSetsWarningsAreReported() throws {
        let scratch = try Scratch([
            "r.rules": #"rule "first" when logins_count == 1 assign "member""#,
            "r.test.yaml": "tests:\n  - {name: a, event: {stats: {logins_count: 1}}, expect: {assign: [member]}}\n",
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        #expect(report.failed == 0)
        #expect(report.ruleWarnings.map(\.code.rawValue) == ["first-login-count"])
        #expect(report.diagnostics.isEmpty)
    }

    /// A key repeated in one mapping was reported at 1:1 with the whole file as context.
    @Test func aRepeatedKeyIsLocatedAndNamed() throws {
        let scratch = try Scratch([
            "r.rules": Self.rules,
            "r.test.yaml": """
            tests:
              - name: two
                event: {}
                expect: {assign: []}
                expect: {assign: [x]}
            """,
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        let problem = try #require(report.problems.first)
        #expect((problem.line, problem.column) == (4, 5))
        #expect(problem.message.contains("the key `expect` appears twice in one mapping"), "\(problem.message)")
        #expect(!problem.message.contains("tests:"))
    }
}
