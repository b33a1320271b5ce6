import ArgumentParser

/// Exit codes shared by every subcommand.
package enum ExitStatus {
    /// The rules have errors (or, with `--deny-warnings`, warnings).
    package static let ruleErrors = ExitCode(1)
    /// Bad invocation, unreadable input, or standard output that cannot be written (``Output``).
    package static let badInput = ExitCode(2)
}
