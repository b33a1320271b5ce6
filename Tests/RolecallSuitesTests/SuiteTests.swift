import Foundation
import RolecallEngine
import RolecallLanguage
import RolecallSuites
import Testing

/// A temporary directory with files, removed when the value is gone.
final class Scratch {
    let path: String

    init(_ files: [String: String]) throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("rolecall-suites-\(UUID().uuidString)").path
        for (name, contents) in files {
            let file = path + "/" + name
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct SuiteLoaderTests {
    @Test func readsCasesWithFileAndInlineEventsAndPatches() throws {
        let scratch = try Scratch([
            "e.json":
                #"{"user": {"email": "a@x.com", "app_metadata": {"plan": "pro", "groups": ["a"]}}, "stats": {"logins_count": 3}}"#
        ])
        let suite = SuiteLoader.parse(
            """
            tests:
              - name: from a file, patched
                event: e.json
                patch: {user: {app_metadata: {plan: enterprise}}, stats: {logins_count: 1}}
                expect: {assign: [a, b], matched: [x, y], errors: 0}
              - name: inline
                event: {request: {geoip: {countryCode: NO}}, user: {email_verified: true, count: 1.5, none: null}}
                expect: {roles: []}
            """, path: "s.test.yaml", directory: scratch.path)
        #expect(suite.problems.isEmpty, "\(suite.problems)")
        #expect(suite.cases.map(\.name) == ["from a file, patched", "inline"])
        #expect(
            suite.cases[0].event.serialized
                == #"{"user":{"email":"a@x.com","app_metadata":{"plan":"enterprise","groups":["a"]}},"stats":{"logins_count":1}}"#
        )
        #expect(suite.cases[0].expect.assign == [ExactString("a"), ExactString("b")])
        #expect(suite.cases[0].expect.matched == ["x", "y"])
        #expect(suite.cases[0].expect.errors == 0)
        #expect(suite.cases[0].line == 2)
        // YAML 1.2 core schema: NO (Norway) is a string, not false.
        #expect(
            suite.cases[1].event.serialized
                == #"{"request":{"geoip":{"countryCode":"NO"}},"user":{"email_verified":true,"count":1.5,"none":null}}"#
        )
    }

    @Test(arguments: [
        ("tests:\n  - name: a\n    event: {}\n    expct: {}\n", 4, "unknown key `expct`; did you mean `expect`?"),
        ("tests:\n  - name: a\n    event: missing.json\n    expect: {}\n", 3, "cannot read event file `missing.json`"),
        ("tests:\n  - name: a\n    event: {}\n    expect: {assign: x}\n", 4, "`assign` must be a list"),
        ("tests:\n  - name: a\n    event: {}\n    expect: {errors: two}\n", 4, "`errors` is the number"),
        ("tests:\n  - name: a\n    event: {}\n", 2, "test `a` needs `expect`"),
        ("tests:\n  - event: {}\n    expect: {}\n", 2, "each test needs a `name`"),
        ("tests: [\n", 2, "invalid YAML"),
        ("cases: []\n", 1, "unknown key `cases`"),
        ("tests:\n  - name: a\n    event: bad.json\n    expect: {}\n", 3, "is not valid JSON"),
    ])
    func malformedSuitesAreReportedWithTheirLine(text: String, line: Int, message: String) throws {
        let scratch = try Scratch(["bad.json": "{\"a\": }"])
        let suite = SuiteLoader.parse(text, path: "s.test.yaml", directory: scratch.path)
        let problem = try #require(suite.problems.first, "no problem reported")
        #expect(problem.line == line)
        #expect(problem.message.contains(message), "\(problem.message)")
    }

    @Test func oneBadCaseDoesNotHideTheOthers() {
        let suite = SuiteLoader.parse(
            """
            tests:
              - {name: good, event: {}, expect: {}}
              - {name: bad, event: {}, expect: {nope: 1}}
              - {name: also good, event: {}, expect: {}}
            """, path: "s.test.yaml", directory: ".")
        #expect(suite.cases.map(\.name) == ["good", "also good"])
        #expect(suite.problems.map(\.caseName) == ["bad"])
    }
}

@Suite struct SuiteRunnerTests {
    static let rules = """
        rule "staff" when user.email ends_with "@acme.com" and user.email_verified assign "staff"
        rule "first" when logins_count == 1 assign "member"
        rule "blocked" when user.app_metadata.blocked == true revoke "staff" stop
        """

    @Test func passesFailsAndExplains() throws {
        let scratch = try Scratch([
            "r.rules": Self.rules,
            "r.test.yaml": """
            tests:
              - name: staff
                event: {user: {email: a@acme.com, email_verified: true}, stats: {logins_count: 1}}
                expect: {assign: [staff, member], matched: [staff, first], errors: 0}
              - name: wrong case
                event: {user: {email: a@ACME.com, email_verified: true}}
                expect: {assign: [staff]}
            """,
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        #expect(report.passed == 1)
        #expect(report.failed == 1)
        let failure = try #require(report.results.first { !$0.passed })
        #expect(failure.mismatches == [#"assign: expected ["staff"], got [] (missing ["staff"])"#])
        let step = try #require(failure.explanation?.rules.first?.steps.first)
        #expect(step.hint == "would be true ignoring letter case")
    }

    @Test func filterSelectsCases() throws {
        let scratch = try Scratch([
            "r.rules": Self.rules,
            "r.test.yaml": """
            tests:
              - {name: one, event: {}, expect: {assign: []}}
              - {name: two, event: {}, expect: {assign: [x]}}
            """,
        ])
        let report = SuiteRunner(filter: "one").run([scratch.path + "/r.test.yaml"])
        #expect(report.results.map(\.name) == ["one"])
        #expect(report.failed == 0)
    }

    @Test func aRuleSetWithErrorsFailsItsCasesAndReportsWhy() throws {
        let scratch = try Scratch([
            "r.rules": "when logins_count == \"1\" assign \"x\"",
            "r.test.yaml": "tests:\n  - {name: one, event: {}, expect: {assign: []}}\n",
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        #expect(report.failed == 1)
        #expect(report.diagnostics.map(\.code.rawValue) == ["type-mismatch"])
    }

    @Test func coverageCountsFiringsAndFlips() throws {
        let scratch = try Scratch([
            "r.rules": Self.rules,
            "r.test.yaml": """
            tests:
              - {name: a, event: {user: {email: a@acme.com, email_verified: true}}, expect: {}}
              - {name: b, event: {user: {email: a@acme.com, email_verified: false}}, expect: {}}
              - {name: c, event: {user: {email: b@x.com}, stats: {logins_count: 1}}, expect: {}}
            """,
        ])
        let coverage = try #require(SuiteRunner().run([scratch.path + "/r.test.yaml"]).coverage.first)
        #expect(coverage.cases == 3)
        #expect(coverage.rules.map(\.fired) == [1, 1, 0])
        let staff = coverage.rules[0].conditions
        #expect(staff.map(\.source) == [#"user.email ends_with "@acme.com""#, "user.email_verified"])
        #expect(staff.map(\.trueCount) == [2, 1])
        #expect(staff.map(\.falseCount) == [1, 1])
        #expect(coverage.flippedCount == 3)  // both staff conditions and logins_count == 1
        #expect(coverage.text.contains("rules never fired:\n  \(scratch.path)/r.rules:3  \"blocked\""))
        #expect(coverage.text.contains("user.app_metadata.blocked == true  (only false)"))
        #expect(coverage.json.contains(#""fired":1"#))
    }

    /// A suite's problems and warnings quote its own text (a key, a case name, a patch field): `rules test` printed
    /// U+202E and ESC from it as themselves. They are written out, as in the rest of its output.
    @Test func problemsAndWarningsWriteTheHiddenScalarsOfTheSuiteOut() throws {
        let scratch = try Scratch([
            "r.rules": Self.rules,
            "r.test.yaml": """
            tests:
              - {name: a, event: {}, expect: {"wh\\u202Eat": 1}}
              - {name: b, event: {}, patch: {user: {"na\\e[2Jme": 1}}, expect: {}}
            """,
        ])
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        let shown = (report.problems.map(\.description) + report.warnings.map(\.description)).joined(separator: "\n")
        #expect(!shown.unicodeScalars.contains { $0 == "\u{202E}" || $0 == "\u{1B}" }, "\(shown)")
        #expect(shown.contains(#"error: unknown key `wh\u{202e}at`"#), "\(shown)")
        #expect(shown.contains(#"warning: unknown field `user.na\u{1b}[2Jme` in `patch`"#), "\(shown)")
    }

    /// `rules test --coverage` named rules as JSON quotes them and paths as they are, so U+202E in either reached
    /// the terminal as itself; they are shown as the rest of `rules test` shows them. The JSON keeps them exact.
    @Test func coverageWritesTheHiddenScalarsOfRuleNamesAndPathsOut() throws {
        let scratch = try Scratch([
            "d\u{202E}/r.rules": #"rule "n\u{202e}" when user.email_verified assign "x""#,
            "d\u{202E}/r.test.yaml": "tests:\n  - {name: a, event: {}, expect: {}}\n",
        ])
        let coverage = try #require(SuiteRunner().run([scratch.path + "/d\u{202E}/r.test.yaml"]).coverage.first)
        // Quoted, as FileName.visible quotes a name it has to escape.
        let path = "\"" + scratch.path + #"/d\u{202e}/r.rules""#
        #expect(!coverage.text.unicodeScalars.contains("\u{202E}"), "\(coverage.text)")
        #expect(coverage.text.contains(#"rules never fired:\#n  \#(path):1  "n\u{202e}""#), "\(coverage.text)")
        #expect(coverage.text.contains(#"  \#(path):1:"#), "\(coverage.text)")
        #expect(coverage.json.contains("\"name\":\"n\u{202E}\""), "\(coverage.json)")
    }

    @Test func junitReportsEveryCaseAndEscapes() throws {
        let scratch = try Scratch([
            "r.rules": Self.rules,
            "r.test.yaml": """
            tests:
              - {name: "<ok> & fine", event: {}, expect: {assign: []}}
              - {name: broken, event: {}, expect: {assign: [staff]}}
              - {name: unreadable, event: {}, expect: {what: 1}}
              - {name: "not xml \\uFFFE\\uFFFF\\u0001", event: {}, expect: {}}
            """,
        ])
        let xml = JUnitReport.xml(SuiteRunner().run([scratch.path + "/r.test.yaml"]))
        #expect(xml.contains(#"<testsuites name="rules test" tests="4" failures="2">"#))
        // Characters XML 1.0 cannot hold (U+FFFE and U+FFFF too, not only controls) are written as escapes.
        #expect(xml.contains(#"<testcase name="not xml \u{fffe}\u{ffff}\u{1}""#), "\(xml)")
        #expect(xml.contains(#"<testcase name="&lt;ok&gt; &amp; fine""#))
        #expect(
            xml.contains(
                #"<failure message="assign: expected [&quot;staff&quot;], got [] (missing [&quot;staff&quot;])">"#))
        #expect(xml.contains(#"<error message="unknown key `what`"#))
    }

    /// Found by an attacker: a case name or suite path holding U+202E or ESC went into the XML as itself, for a CI
    /// page or a terminal to show. They are spelled as `rules test` prints them, and the XML stays well-formed.
    @Test func junitWritesHiddenCharactersOfNamesAndPathsAsEscapes() throws {
        let scratch = try Scratch([
            "r\u{202E}x/r.rules": Self.rules,
            "r\u{202E}x/s\u{1B}[2J.test.yaml": """
            tests:
              - {name: "red \\e[31m one \\u202E two", event: {}, expect: {assign: []}}
              - {name: "bad \\u202E", event: {}, expect: {assign: [staff]}}
              - {name: "odd \\u202E", event: {}, expect: {what: 1}}
            """,
        ])
        let xml = JUnitReport.xml(SuiteRunner().run([scratch.path + "/r\u{202E}x/s\u{1B}[2J.test.yaml"]))
        #expect(!xml.unicodeScalars.contains { $0 == "\u{202E}" || $0 == "\u{1B}" }, "\(xml)")
        // Nothing XML 1.0 forbids, and no other control but the newline.
        #expect(
            !xml.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || $0.value == 0xFFFE || $0.value == 0xFFFF })
        // Quoted, as FileName.visible quotes a name it has to escape (the quotes written as XML writes them).
        let suite = "&quot;" + scratch.path + #"/r\u{202e}x/s\u{1b}[2J.test.yaml&quot;"#
        #expect(xml.contains(#"<testsuite name="\#(suite)""#), "\(xml)")
        #expect(
            xml.contains(#"<testcase name="red \u{1b}[31m one \u{202e} two" classname="\#(suite)" file="\#(suite)""#),
            "\(xml)")
        #expect(xml.contains(#"<testcase name="bad \u{202e}" classname="\#(suite)""#), "\(xml)")
        #expect(xml.contains(#"<testcase name="odd \u{202e}" classname="\#(suite)""#), "\(xml)")
        #expect(xml.contains(#"`roles_excludes`">\#(suite):4:46: error: unknown key `what`"#), "\(xml)")
    }
}
