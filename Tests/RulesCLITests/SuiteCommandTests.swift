import Foundation
import Testing

/// Issue 7, items 5 and 15: `rules test` finds a suite's events and rules beside the suite, wherever it is run
/// from, and loads rule sets as every other command does.
@Suite struct SuiteCommandTests {
    @Test func aSuiteRunFromItsOwnDirectoryFindsItsEvents() throws {
        let run = try CLITests.rules(["test", "company.test.yaml"], directory: CLITests.root + "/rules")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("looked for"), "\(run.stdout)")
        #expect(run.stdout.hasSuffix(" passed, 0 failed\n"), "\(run.stdout)")
    }

    @Test func anUnreadableRuleFileFailsTheSuiteLikeEvalDoes() throws {
        let suite = try CLITests.temporary("r.test.yaml", "tests:\n  - {name: one, event: {}, expect: {assign: [m]}}\n")
        let directory = (suite as NSString).deletingLastPathComponent
        try #"rule "m" assign "m""#.write(toFile: directory + "/r.rules", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/gone.rules", withDestinationPath: directory + "/nowhere")
        let message = "cannot open \(directory)/gone.rules: No such file or directory"
        let test = try CLITests.rules(["test", suite])
        #expect(test.status == 1)
        #expect(test.stdout.contains(message), "\(test.stdout)")
        let eval = try CLITests.rules(["eval", directory, "--event", "-"], input: Data("{}".utf8))
        #expect(eval.status == 2)
        #expect(eval.stderr.contains(message), "\(eval.stderr)")
    }
}
