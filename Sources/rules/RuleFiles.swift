import Foundation
import RolecallEngine
import RolecallLanguage

/// Finds and reads rule files, and prints their diagnostics.
enum RuleFiles {
    /// The `.rules` files named by `paths` (files as given, directories searched recursively), in path order.
    static func load(_ paths: [String]) throws -> [SourceFile] {
        var files: [SourceFile] = []
        for path in paths.isEmpty ? ["rules"] : paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CLIError("no such file or directory: \(path)")
            }
            if isDirectory.boolValue {
                let found = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".rules") }.sorted()
                for relative in found {
                    let full = path.hasSuffix("/") ? path + relative : path + "/" + relative
                    files.append(SourceFile(path: full, bytes: try readFile(full, limit: maxRuleFileBytes)))
                }
            } else {
                files.append(SourceFile(path: path, bytes: try readFile(path, limit: maxRuleFileBytes)))
            }
        }
        if files.isEmpty {
            throw CLIError("no .rules files found in \(paths.isEmpty ? "rules" : paths.joined(separator: ", "))")
        }
        return files
    }

    /// Rule files larger than this are refused: no real rule set comes close, and it bounds memory.
    static let maxRuleFileBytes = 16 << 20

    /// Loads and compiles rules, printing diagnostics (errors and warnings) to standard error.
    /// Throws the rule-error exit code when they have errors.
    static func compile(_ paths: [String], diagnostics options: DiagnosticOptions) throws -> Program {
        let files = try load(paths)
        let (program, diagnostics) = RuleEngine.compile(files)
        options.print(diagnostics, toStandardError: true)
        guard let program, !(options.denyWarnings && diagnostics.contains { $0.severity == .warning }) else {
            throw ExitStatus.ruleErrors
        }
        return program
    }
}
