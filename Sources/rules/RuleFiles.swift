import RolecallEngine
import RolecallLanguage
import RolecallSuites

/// Finds and reads rule files, and prints their diagnostics.
enum RuleFiles {
    /// The `.rules` files named by `paths` (files as given, directories searched recursively), in path order.
    static func load(_ paths: [String]) throws -> [SourceFile] {
        let found: [String]
        do {
            found = try RuleFileFinder.find(paths, suffix: ".rules")
        } catch {
            throw CLIError(error.description)
        }
        if found.isEmpty {
            throw CLIError("no .rules files found in \(paths.isEmpty ? "rules" : paths.joined(separator: ", "))")
        }
        return try found.map { SourceFile(path: $0, bytes: try readFile($0, limit: maxRuleFileBytes)) }
    }

    /// ``load(_:)`` for a command: an unreadable path is reported and ends the command with exit code 2.
    static func loadOrExit(_ paths: [String]) throws -> [SourceFile] {
        do {
            return try load(paths)
        } catch let error as CLIError {
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
    }

    /// Rule files larger than this are refused: no real rule set comes close, and it bounds memory.
    static let maxRuleFileBytes = 16 << 20

    /// Loads and compiles rules, printing their errors to standard error (warnings are `rules check`'s to
    /// report, or here with `--deny-warnings`). Throws the rule-error exit code when they have errors.
    static func compile(_ paths: [String], diagnostics options: DiagnosticOptions) throws -> Program {
        let files = try loadOrExit(paths)
        let (program, diagnostics) = RuleEngine.compile(files)
        options.print(diagnostics.filter { options.denyWarnings || $0.severity == .error }, toStandardError: true)
        guard let program, !(options.denyWarnings && diagnostics.contains { $0.severity == .warning }) else {
            throw ExitStatus.ruleErrors
        }
        return program
    }
}
