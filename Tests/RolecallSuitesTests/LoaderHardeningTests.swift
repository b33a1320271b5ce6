import Foundation
import RolecallFiles
import RolecallSuites
import Testing

/// Issue 7, items 11, 13 and 15: one rule-set loader with one set of limits and errors, links followed with
/// cycles cut, and no YAML alias expansion.
@Suite struct LoaderHardeningTests {
    static let rules = #"rule "member" assign "member""#

    /// The 411-byte suite whose event nests aliases nine deep: 9^9 strings if expanded.
    static let aliasBomb = """
        tests:
        - name: nine aliases deep - 9^9 strings
          event:
            a: &a [x,x,x,x,x,x,x,x,x]
            b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
            c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
            d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
            e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
            f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
            g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
            h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
            i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
          expect: {}

        """

    @Test func theAliasBombIsRefusedAtOnce() throws {
        #expect(Self.aliasBomb.utf8.count == 411)
        let clock = ContinuousClock()
        let start = clock.now
        let suite = SuiteLoader.parse(Self.aliasBomb, path: "bomb.test.yaml", directory: ".")
        #expect(clock.now - start < .seconds(5))
        #expect(suite.cases.isEmpty)
        #expect(suite.problems.map(\.message) == ["YAML aliases are not supported in suites"])
        // Refused where the first alias is, before the document is composed.
        #expect(suite.problems.map { [$0.line, $0.column] } == [[5, 12]])
    }

    /// Found by the `suites` fuzz target: aliases used as mapping keys made the composer hash the expanded nodes
    /// (9^8 of them) before the loader could refuse them, a 530-byte suite that ran for hours.
    @Test func aliasesAsMappingKeysAreRefusedBeforeComposing() throws {
        let root = String(#filePath[..<#filePath.range(of: "/Tests/")!.lowerBound])
        let path = root + "/fuzz/crashes-found/suites/alias-as-key-timeout.test.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let suite = SuiteLoader.parse(text, path: "k.test.yaml", directory: ".")
        #expect(suite.cases.isEmpty)
        #expect(suite.problems.map(\.message) == ["YAML aliases are not supported in suites"])
        #expect(suite.problems.map { [$0.line, $0.column] } == [[2, 10]])
    }

    /// An event file is read like a rule file: only a regular file, so `/dev/zero` is an error, not a hang.
    @Test func anEndlessEventFileIsAnErrorNotAHang() throws {
        let suite = SuiteLoader.parse(
            "tests:\n  - {name: zero, event: /dev/zero, expect: {}}\n", path: "z.test.yaml", directory: ".")
        #expect(suite.cases.isEmpty)
        #expect(
            suite.problems.map(\.message) == [
                "cannot read event file `/dev/zero`: /dev/zero is not a regular file"
            ])
    }

    /// Found by an attacker: a FIFO named like a rule file in a rules directory blocked every command.
    @Test func aFIFOInARulesDirectoryIsRefusedNotWaitedOn() throws {
        let scratch = try Scratch(["r.rules": Self.rules])
        #expect(mkfifo(scratch.path + "/f.rules", 0o644) == 0)
        #expect(throws: RuleSetLoader.Failure.self) { try RuleSetLoader.load([scratch.path]) }
        do {
            _ = try RuleSetLoader.load([scratch.path])
        } catch {
            #expect(error.description == "\(scratch.path)/f.rules is not a regular file")
        }
    }

    /// A whole test case is an alias too: refused before it is copied once per use.
    @Test func anAliasedTestCaseIsRefused() throws {
        let suite = SuiteLoader.parse(
            "tests:\n  - &t {name: one, event: {}, expect: {}}\n  - *t\n  - *t\n", path: "t.test.yaml", directory: ".")
        #expect(suite.cases.isEmpty)
        #expect(suite.problems.map { [$0.line, $0.column] } == [[3, 5]])
    }

    /// Found by an attacker: scalars JSON cannot hold were converted silently.
    @Test(arguments: [
        ("{user: {n: 1e999}}", "`1e999` is out of the range of a JSON number"),
        (
            "{user: {b: !!binary YWxpY2U=}}",
            "the YAML tag `tag:yaml.org,2002:binary` is not supported in suites (events are JSON)"
        ),
        ("{user: !custom {a: 1}}", "the YAML tag `!custom` is not supported in suites (events are JSON)"),
    ])
    func scalarsJSONCannotHoldAreErrors(event: String, message: String) throws {
        let suite = SuiteLoader.parse(
            "tests:\n  - {name: one, event: \(event), expect: {}}\n", path: "n.test.yaml", directory: ".")
        #expect(suite.cases.isEmpty)
        #expect(suite.problems.map(\.message) == [message])
    }

    @Test func anchorsWithoutAliasesAreFine() throws {
        let suite = SuiteLoader.parse(
            "tests:\n  - {name: one, event: &e {user: {email: a}}, expect: {}}\n", path: "a.test.yaml", directory: ".")
        #expect(suite.problems.isEmpty)
        #expect(suite.cases.map(\.name) == ["one"])
    }

    @Test func anAliasBetweenCasesIsRefusedToo() throws {
        let suite = SuiteLoader.parse(
            """
            tests:
              - {name: one, event: &shared {user: {email: a}}, expect: {}}
              - {name: two, event: *shared, expect: {}}
            """, path: "s.test.yaml", directory: ".")
        #expect(suite.cases.isEmpty)
        #expect(suite.problems.map(\.message) == ["YAML aliases are not supported in suites"])
    }

    @Test func aRuleFileOneBytePastTheLimitFailsTheSuiteThatNeedsIt() throws {
        let scratch = try Scratch([
            "r.rules": Self.rules + "\n#" + String(repeating: "x", count: RuleSetLoader.maxFileBytes),
            "r.test.yaml": "tests:\n  - {name: one, event: {}, expect: {assign: [member]}}\n",
        ])
        let size = try FileManager.default.attributesOfItem(atPath: scratch.path + "/r.rules")[.size] as? Int
        #expect(size == RuleSetLoader.maxFileBytes + Self.rules.utf8.count + 2)
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        #expect(report.passed == 0)
        #expect(report.failed == 2)  // the load problem and the case
        #expect(report.problems.map(\.message) == ["\(scratch.path)/r.rules is larger than 16777216 bytes"])
    }

    @Test func theLimitIsExactly16MiB() throws {
        let atLimit =
            Self.rules + "\n#" + String(repeating: "x", count: RuleSetLoader.maxFileBytes - 2 - Self.rules.utf8.count)
        let scratch = try Scratch(["a.rules": atLimit, "b.rules": atLimit + "x"])
        #expect(try RuleSetLoader.load([scratch.path + "/a.rules"]).count == 1)
        #expect(throws: RuleSetLoader.Failure.self) { try RuleSetLoader.load([scratch.path + "/b.rules"]) }
    }

    @Test func anUnreadableRuleFileIsAnErrorNotASilentGap() throws {
        let scratch = try Scratch(["r.rules": Self.rules, "r.test.yaml": "tests: []\n"])
        // A dangling link stands for a file that cannot be read, even as root.
        try FileManager.default.createSymbolicLink(
            atPath: scratch.path + "/gone.rules", withDestinationPath: scratch.path + "/missing")
        #expect {
            try RuleSetLoader.load([scratch.path])
        } throws: { error in
            "\(error)" == "cannot open \(scratch.path)/gone.rules: No such file or directory"
        }
        let report = SuiteRunner().run([scratch.path + "/r.test.yaml"])
        #expect(report.problems.map(\.message) == [])  // no cases: the rule set is not loaded at all
        let withCase = try Scratch([
            "r.rules": Self.rules, "r.test.yaml": "tests:\n  - {name: one, event: {}, expect: {assign: [member]}}\n",
        ])
        try FileManager.default.createSymbolicLink(
            atPath: withCase.path + "/gone.rules", withDestinationPath: withCase.path + "/missing")
        let failing = SuiteRunner().run([withCase.path + "/r.test.yaml"])
        #expect(failing.passed == 0)
        #expect(
            failing.problems.map(\.message) == ["cannot open \(withCase.path)/gone.rules: No such file or directory"])
    }

    @Test func linkedDirectoriesAreFollowedOnceAndCyclesAreCut() throws {
        let shared = try Scratch(["policy/base.rules": #"rule "base" assign "base""#])
        let scratch = try Scratch(["a.rules": #"rule "a" assign "a""#])
        let fileManager = FileManager.default
        try fileManager.createSymbolicLink(
            atPath: scratch.path + "/shared", withDestinationPath: shared.path + "/policy")
        try fileManager.createSymbolicLink(
            atPath: scratch.path + "/again", withDestinationPath: shared.path + "/policy")
        try fileManager.createSymbolicLink(atPath: scratch.path + "/loop", withDestinationPath: scratch.path)
        let files = try RuleSetLoader.load([scratch.path]).map(\.path)
        // `again` sorts first, so the shared directory is read through it; `shared` and `loop` reach directories
        // already read.
        #expect(files == [scratch.path + "/a.rules", scratch.path + "/again/base.rules"])
    }
}
