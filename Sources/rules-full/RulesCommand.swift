import ArgumentParser
import RolecallCommandLine
import RolecallFiles

/// `rules-full`: every command of `rules`. The lean `rules` binary runs `check`, `eval`, `diff`, `fmt` and `lsp` itself
/// and replaces itself with this one for the others (and for help), keeping its arguments, so messages and help
/// still say `rules`. Run directly, it behaves as `rules` would.
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: RulesTool.name,
        abstract: RulesTool.abstract,
        discussion: RulesTool.discussion,
        version: rolecallVersion,
        subcommands: [
            CheckCommand.self, EvalCommand.self, TestCommand.self, DiffCommand.self, FmtCommand.self, ApplyCommand.self,
            SandboxCommand.self, ServeCommand.self, OutboxCommand.self, LogCommand.self, LSPCommand.self,
        ]
    )
}

/// The entry point: a failed write to standard output is reported and exits 2 however a command ends
/// (``Output/reportFailureAtExit()``), then ArgumentParser runs the command on the arguments as given
/// (``Output/arguments()``: a file name need not be valid UTF-8).
@main
enum RulesFullMain {
    static func main() async {
        Output.reportFailureAtExit()
        await RulesCommand.main(Array(Output.arguments().dropFirst()))
    }
}
