import ArgumentParser
import RolecallEngine
import RolecallLanguage

/// `rules check`: report every error and warning in a rule set, like a compiler.
package struct CheckCommand: ParsableCommand {
    package init() {}

    package static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check rule files and print every error and warning.",
        discussion: """
            Exits 0 when there are no errors (warnings allowed unless --deny-warnings), 1 otherwise. The last line \
            says `ok` when there is nothing to report, and `ok, N warnings` when there are only warnings.
            """
    )

    @Argument(help: "Rule files or directories (default: rules/).")
    var paths: [String] = []

    @OptionGroup var diagnostics: DiagnosticOptions

    package func run() throws {
        let files = try RuleFiles.loadOrExit(paths)
        let (program, found) = RuleEngine.compile(files)
        diagnostics.print(found, toStandardError: false)
        let failed = program == nil || (diagnostics.denyWarnings && found.contains { $0.severity == .warning })
        if diagnostics.format == .human, !failed {
            let rules = program?.ruleCount ?? 0
            let warnings = found.filter { $0.severity == .warning }.count
            let verdict = warnings == 0 ? "ok" : "ok, \(warnings) warning\(warnings == 1 ? "" : "s")"
            Output.standardOutput(
                "checked \(rules) rule\(rules == 1 ? "" : "s") in \(files.count) file\(files.count == 1 ? "" : "s"): "
                    + verdict + "\n")
        }
        if failed { throw ExitStatus.ruleErrors }
    }
}
