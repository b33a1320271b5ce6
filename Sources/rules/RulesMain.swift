import ArgumentParser
import RolecallCommandLine
import RolecallFiles

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The `rules` executable: the commands that read rule files and events (`check`, `eval`, `diff`, `fmt`), the
/// language server editors start (`lsp`, which needs nothing more), and `--version`, in a binary that starts in a
/// few milliseconds; every other command is `rules-full`'s.
///
/// Why two binaries: a process's start-up is mostly the dynamic loader binding the libraries it links, and
/// `rules serve`, `apply` and `test` need Foundation, ICU, libcurl (with gnutls, krb5 and LDAP), SQLite, NIO and
/// Hummingbird. Linked into one binary they cost every `rules eval --events` about 13 ms before the first event,
/// as much as evaluating 7,000 events. So this binary links the engine and ArgumentParser only, with the Swift
/// runtime linked statically (a test runs `ldd` on it), and starts in 3 ms; on a first argument it does not own
/// it replaces itself with `rules-full` from its own directory (`execv`, same arguments, same process id, so
/// signals and exit codes are the full binary's), which holds every command, these five included: one
/// implementation of each, in `RolecallCommandLine`. README, "Two binaries".
@main
enum RulesMain {
    static func main() {
        Output.reportFailureAtExit()
        let arguments = Output.arguments()
        // `rules eval` in its everyday forms skips ArgumentParser's start-up (a third of a one-event run); any
        // other form, an error or help included, is parsed below as every command is.
        if arguments.count > 1, arguments[1] == "eval",
            let command = EvalCommand.plainInvocation(arguments.dropFirst(2))
        {
            do { try command.run() } catch { LeanRulesCommand.exit(withError: error) }
            return
        }
        if arguments.count > 1, LeanRulesCommand.owns(arguments[1]) {
            LeanRulesCommand.main(Array(arguments.dropFirst()))
            return
        }
        FullBinary.replaceProcess()
    }
}

/// The commands this binary runs itself; `rules --help` is `rules-full`'s, which lists every command.
struct LeanRulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: RulesTool.name,
        abstract: RulesTool.abstract,
        discussion: RulesTool.discussion,
        version: rolecallVersion,
        subcommands: RulesTool.leanCommands
    )

    /// Whether `argument`, the first of the command line, is for this binary: one of its commands, or
    /// `--version`. Help in every form goes to `rules-full`, which lists every command.
    static func owns(_ argument: String) -> Bool {
        argument == "--version" || RulesTool.leanCommands.contains { $0.configuration.commandName == argument }
    }
}
