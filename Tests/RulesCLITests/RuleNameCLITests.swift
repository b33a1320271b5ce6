import Foundation
import Testing

/// An anonymous rule's name through the built binary (issue 7, item 13): the same however its path is spelt,
/// and the same after `rules fmt --write` moves it to other lines, so a suite's `matched` keeps passing.
@Suite struct RuleNameCLITests {
    static let rules = """
        rule "named" when user.email_verified assign "a"
        when logins_count > 3 assign "b"
        """
    static let event = #"{"user": {"email_verified": true}, "stats": {"logins_count": 5}}"#

    @Test func evalNamesTheRuleTheSameForEverySpellingOfItsPath() throws {
        let path = try CLITests.temporary("r.rules", Self.rules)
        let directory = (path as NSString).deletingLastPathComponent
        let event = directory + "/event.json"
        try Self.event.write(toFile: event, atomically: true, encoding: .utf8)
        for spelling in [path, directory + "/./r.rules", directory + "//r.rules", directory] {
            let run = try CLITests.rules(["eval", spelling, "--event", event])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains(#""matched":["named","r.rules#2"]"#), "\(spelling): \(run.stdout)")
        }
    }

    @Test func aSuiteExpectingTheNameStillPassesAfterFormatting() throws {
        let path = try CLITests.temporary("r.rules", Self.rules)
        let directory = (path as NSString).deletingLastPathComponent
        try """
        tests:
          - name: the anonymous rule is matched by its name
            event: {user: {email_verified: true}, stats: {logins_count: 5}}
            expect:
              matched: [named, "r.rules#2"]
        """.write(toFile: directory + "/r.test.yaml", atomically: true, encoding: .utf8)
        let before = try CLITests.rules(["test", directory])
        #expect(before.status == 0, "\(before.stdout)\(before.stderr)")
        let format = try CLITests.rules(["fmt", "--write", path])
        #expect(format.status == 0, "\(format.stderr)")
        let formatted = try String(contentsOfFile: path, encoding: .utf8)
        #expect(formatted != Self.rules)
        let after = try CLITests.rules(["test", directory])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
    }
}
