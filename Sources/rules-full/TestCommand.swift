import ArgumentParser
import Foundation
import RolecallCommandLine
import RolecallEngine
import RolecallFiles
import RolecallLanguage
import RolecallSuites

/// `rules test`: run YAML test suites against the rule sets beside them.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run *.test.yaml suites against the rules beside them.",
        discussion: """
            Each suite tests the rule set of its own directory (every .rules file below it). Prints one line per \
            case, the expected and actual decision and the trace of each failure, and ends with \
            `N passed, M failed`. Exits 1 when any case failed or any suite could not be read.

            Warnings fail nothing: those of the rules go to standard error, rendered as `rules check` renders \
            them; those of the suites (a `patch` key the post-login event does not have, an expected role that \
            no rule assigns) are printed with their file and line before the results.

            A case decides at the `now:` of the case, else of its suite, else at --now, else at the wall clock.
            """
    )

    @Argument(help: "Suite files or directories to search for *.test.yaml (default: rules/).")
    var paths: [String] = []

    @Option(help: "Run only cases whose name, or `SUITE: NAME`, contains this text.")
    var filter: String?

    @Option(help: "Also write the results as JUnit XML to this file.")
    var junit: String?

    @Flag(help: "Report which rules fired and which conditions were seen both true and false.")
    var coverage = false

    @Option(help: "Write coverage as JSON to this file.")
    var coverageJson: String?

    @Flag(help: "Print only failures and the summary.")
    var quiet = false

    @OptionGroup var clock: ClockOption

    func run() throws {
        let suites: [String]
        do {
            suites = try RuleFileFinder.find(paths, suffix: ".test.yaml")
        } catch {
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
        if suites.isEmpty {
            Output.standardError("rules: error: no *.test.yaml suites found\n")
            throw ExitStatus.badInput
        }
        let report = SuiteRunner(filter: filter, now: clock.seconds).run(suites)
        if !report.ruleWarnings.isEmpty { Output.standardError(DiagnosticRenderer.human(report.ruleWarnings)) }
        var out = ""
        if !report.diagnostics.isEmpty { out += DiagnosticRenderer.human(report.diagnostics) + "\n" }
        for problem in report.problems { out += "\(problem)\n" }
        for warning in report.warnings { out += "\(warning)\n" }
        for result in report.results {
            if result.passed {
                if !quiet { out += "ok    \(FileName.visible(result.suite)): \(Spelling.visible(result.name))\n" }
                continue
            }
            out += "FAIL  \(FileName.visible(result.suite)):\(result.line): \(Spelling.visible(result.name))\n"
            for mismatch in result.mismatches { out += "      \(mismatch)\n" }
            if let trace = result.explanation?.text {
                out += "      trace:\n"
                out += trace.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                    .map { "        \($0)\n" }.joined()
            }
        }
        if coverage {
            for item in report.coverage { out += "\n" + item.text }
        }
        out += "\n\(report.passed) passed, \(report.failed) failed\n"
        Output.standardOutput(out)
        do {
            if let junit { try FileWriter.write(JUnitReport.xml(report), to: junit) }
            if let coverageJson {
                try FileWriter.write("[" + report.coverage.map(\.json).joined(separator: ",") + "]\n", to: coverageJson)
            }
        } catch {
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
        if report.failed > 0 || !report.diagnostics.isEmpty { throw ExitStatus.ruleErrors }
    }
}
