import RolecallEngine
import RolecallFiles
import RolecallLanguage

/// Finds and reads rule files, and prints their diagnostics.
package enum RuleFiles {
    /// The `.rules` files named by `paths`, read by the library's one loader (``RuleSetLoader``).
    package static func load(_ paths: [String]) throws -> [SourceFile] {
        do {
            return try RuleSetLoader.load(paths)
        } catch {
            throw CLIError(error.description)
        }
    }

    /// ``load(_:)`` for a command: an unreadable path is reported and ends the command with exit code 2.
    package static func loadOrExit(_ paths: [String]) throws -> [SourceFile] {
        do {
            return try load(paths)
        } catch let error as CLIError {
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
    }

    /// Loads and compiles rules, printing their errors and warnings to standard error (standard output holds the
    /// command's own output). Throws the rule-error exit code when they have errors, or warnings with
    /// `--deny-warnings`.
    package static func compile(_ paths: [String], diagnostics options: DiagnosticOptions) throws -> Program {
        try compileFiles(paths, diagnostics: options.plain).program
    }

    /// ``compile(_:diagnostics:)`` with the options as plain values.
    package static func compile(_ paths: [String], diagnostics options: DiagnosticSettings) throws -> Program {
        try compileFiles(paths, diagnostics: options).program
    }

    /// ``compile(_:diagnostics:)``, with the files the program was compiled from (the server hashes them).
    package static func compileFiles(_ paths: [String], diagnostics options: DiagnosticOptions) throws -> (
        files: [SourceFile], program: Program
    ) {
        try compileFiles(paths, diagnostics: options.plain)
    }

    /// ``compileFiles(_:diagnostics:)`` with the options as plain values.
    package static func compileFiles(_ paths: [String], diagnostics options: DiagnosticSettings) throws -> (
        files: [SourceFile], program: Program
    ) {
        let files = try loadOrExit(paths)
        let (program, diagnostics) = RuleEngine.compile(files)
        options.print(diagnostics, toStandardError: true)
        guard let program, !(options.denyWarnings && diagnostics.contains { $0.severity == .warning }) else {
            throw ExitStatus.ruleErrors
        }
        return (files, program)
    }
}
