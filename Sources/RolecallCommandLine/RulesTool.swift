import ArgumentParser

/// What `rules` says about itself, for both executables: the lean `rules` and `rules-full` (see README,
/// "Two binaries"). The lean binary runs ``leanCommands`` itself and hands any other command to
/// ``fullBinaryName``, found beside it.
package enum RulesTool {
    /// The name commands and messages use, whichever binary runs.
    package static let name = "rules"

    /// The executable holding every command, beside `rules`.
    package static let fullBinaryName = "rules-full"

    package static let abstract = "Check and evaluate Rolecall role-assignment rules."

    package static let discussion = """
        Rule files end in `.rules`. A directory stands for every `.rules` file below it, in path order; \
        with no path, `rules/` is used.

        Exit codes: 0 success, 1 the rules have errors, 2 bad invocation or unreadable input.
        """

    /// The commands the lean `rules` binary runs itself: the ones that read rule files and events and nothing
    /// else, so that `rules eval --events` starts in a few milliseconds, and the language server, which an editor
    /// starts and which needs no more than `check` and `fmt` do.
    package static var leanCommands: [any ParsableCommand.Type] {
        [CheckCommand.self, EvalCommand.self, DiffCommand.self, FmtCommand.self, LSPCommand.self]
    }
}
