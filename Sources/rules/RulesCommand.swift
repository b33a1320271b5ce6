import ArgumentParser
import RolecallServer

/// `rules`: check, evaluate and (in later versions) test and apply Rolecall rule files.
@main
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check and evaluate Rolecall role-assignment rules.",
        discussion: """
            Rule files end in `.rules`. A directory stands for every `.rules` file below it, in path order; \
            with no path, `rules/` is used.

            Exit codes: 0 success, 1 the rules have errors, 2 bad invocation or unreadable input.
            """,
        version: rolecallVersion,
        subcommands: [
            CheckCommand.self, EvalCommand.self, TestCommand.self, DiffCommand.self, FmtCommand.self, ApplyCommand.self,
            SandboxCommand.self, ServeCommand.self, OutboxCommand.self, LogCommand.self,
        ]
    )
}

/// Exit codes shared by every subcommand.
enum ExitStatus {
    /// The rules have errors (or, with `--deny-warnings`, warnings).
    static let ruleErrors = ExitCode(1)
    /// Bad invocation or unreadable input.
    static let badInput = ExitCode(2)
}
