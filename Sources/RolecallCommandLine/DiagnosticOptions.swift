import ArgumentParser
import RolecallLanguage

/// How diagnostics are printed, shared by every command that loads rules.
package struct DiagnosticOptions: ParsableArguments {
    package init() {}

    /// Output format for diagnostics.
    package enum Format: String, ExpressibleByArgument, CaseIterable {
        case human, json
    }

    @Option(help: "How to print diagnostics: `human` (with source excerpts) or `json`.")
    package var format: Format = DiagnosticOptions.defaultFormat

    @Option(help: "Show at most this many diagnostics; the rest are counted.")
    package var maxDiagnostics: Int = DiagnosticOptions.defaultMaxDiagnostics

    /// `--format` and `--max-diagnostics` when they are not given.
    package static let defaultFormat = Format.human
    package static let defaultMaxDiagnostics = 50

    @Flag(help: "Treat warnings as errors (exit 1 when there are any).")
    package var denyWarnings = false

    @Flag(help: "Do not color diagnostics. (Color is used only on a terminal, and never when NO_COLOR is set.)")
    package var noColor = false

    /// These options as plain values.
    package var plain: DiagnosticSettings {
        DiagnosticSettings(format: format, maxDiagnostics: maxDiagnostics, denyWarnings: denyWarnings, noColor: noColor)
    }

    /// ``DiagnosticSettings/print(_:toStandardError:)`` with these options.
    package func print(_ diagnostics: [Diagnostic], toStandardError: Bool) {
        plain.print(diagnostics, toStandardError: toStandardError)
    }
}

/// ``DiagnosticOptions``' values as plain values (``EventSource`` says why).
package struct DiagnosticSettings {
    package var format: DiagnosticOptions.Format
    package var maxDiagnostics: Int
    package var denyWarnings: Bool
    package var noColor: Bool

    package init(format: DiagnosticOptions.Format, maxDiagnostics: Int, denyWarnings: Bool, noColor: Bool) {
        self.format = format
        self.maxDiagnostics = maxDiagnostics
        self.denyWarnings = denyWarnings
        self.noColor = noColor
    }

    /// Prints diagnostics, capped, to standard error (`rules eval`, whose standard output holds decisions) or
    /// standard output (`rules check`, whose result they are).
    package func print(_ diagnostics: [Diagnostic], toStandardError: Bool) {
        let shown = Array(diagnostics.prefix(max(0, maxDiagnostics)))
        let omitted = diagnostics.count - shown.count
        switch format {
        case .json:
            let text = DiagnosticRenderer.json(shown, omitted: omitted)
            if toStandardError { Output.standardError(text) } else { Output.standardOutput(text) }
        case .human:
            guard !diagnostics.isEmpty else { return }
            let fd: Int32 = toStandardError ? 2 : 1
            let color = !noColor && Output.isTerminal(fd) && Output.environment("NO_COLOR") == nil
            let text = DiagnosticRenderer.human(shown, color: color, omitted: omitted)
            if toStandardError { Output.standardError(text) } else { Output.standardOutput(text) }
        }
    }
}
