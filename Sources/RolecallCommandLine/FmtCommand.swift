import ArgumentParser
import RolecallFiles
import RolecallLanguage

/// `rules fmt`: one canonical layout for rule files, comments kept.
package struct FmtCommand: ParsableCommand {
    package init() {}

    package static let configuration = CommandConfiguration(
        commandName: "fmt",
        abstract: "Format rule files in the canonical layout, keeping comments.",
        discussion: """
            Without a flag, prints the formatted files. --check lists the files that would change and exits 1 \
            if there are any (for CI); --write rewrites them in place, atomically, through symbolic links and keeping each file's mode; a \
            read-only file is refused. Files with syntax errors are \
            reported and left alone. Formatting never changes what rules mean.
            """
    )

    @Argument(help: "Rule files or directories (default: rules/).")
    var paths: [String] = []

    @Flag(help: "List files that are not formatted and exit 1 if there are any.")
    var check = false

    @Flag(help: "Rewrite files in place.")
    var write = false

    package func validate() throws {
        if check && write { throw ValidationError("use either --check or --write") }
    }

    package func run() throws {
        let files = try RuleFiles.loadOrExit(paths)
        var unformatted = 0
        var broken = 0
        for file in files {
            switch Formatter.format(file) {
            case .failure(let failure):
                broken += 1
                Output.standardError(DiagnosticRenderer.human(failure.diagnostics))
            case .success(let text):
                let changed = !Array(text.utf8).elementsEqual(file.bytes)
                if check {
                    if changed {
                        unformatted += 1
                        Output.standardOutput("\(FileName.visible(file.path))\n")
                    }
                } else if write {
                    guard changed else { continue }
                    do {
                        try FileWriter.write(text, to: file.path)
                    } catch {
                        Output.standardError("rules: error: \(error)\n")
                        throw ExitStatus.badInput
                    }
                    Output.standardError("formatted \(FileName.visible(file.path))\n")
                } else {
                    Output.standardOutput(text)
                }
            }
        }
        if broken > 0 || unformatted > 0 { throw ExitStatus.ruleErrors }
    }
}
