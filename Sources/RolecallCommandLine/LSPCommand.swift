import ArgumentParser
import RolecallLSP

/// `rules lsp`: the language server editors start, speaking LSP over standard input and output.
package struct LSPCommand: ParsableCommand {
    package init() {}

    package static let configuration = CommandConfiguration(
        commandName: "lsp",
        abstract: "Run the language server for editors (LSP over standard input and output).",
        discussion: """
            Publishes `rules check`'s diagnostics for every open document and every .rules file under the \
            workspace folders, checked as one rule set, and offers quick fixes for did-you-mean suggestions, \
            formatting, document symbols, completion, hover, and go to definition (from a role name to the rules \
            that assign it, from a `let` name to its definition). Exits 0 after the client's `shutdown` and \
            `exit`, 1 when the input ends or `exit` comes without `shutdown`, 2 when standard input cannot be \
            read.
            """
    )

    @Flag(help: "Speak over standard input and output (the only transport; accepted for LSP clients that pass it).")
    var stdio = false

    @Option(name: .customLong("clientProcessId"), help: .hidden)
    var clientProcessID: Int?

    package func run() throws {
        let status = LanguageServer.runStandardIO()
        if status != 0 { throw ExitCode(status) }
    }
}
