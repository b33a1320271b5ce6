import RolecallJSON

/// Turns diagnostics into text: compiler-style for people, JSON for tools.
public enum DiagnosticRenderer {
    /// Renders one diagnostic the way swiftc and clang do:
    ///
    /// ```
    /// rules/x.rules:3:6: warning: unknown field `user.emial` [unknown-field]
    ///  3 | when user.emial matches /@acme\.com$/
    ///    |      ^^^^^^^^^^
    /// help: did you mean `user.email`?
    /// ```
    public static func human(_ diagnostic: Diagnostic, color: Bool = false) -> String {
        let location = diagnostic.location
        let severity = diagnostic.severity.rawValue
        let tint = color ? (diagnostic.severity == .error ? "\u{1B}[1;31m" : "\u{1B}[1;33m") : ""
        let bold = color ? "\u{1B}[1m" : ""
        let reset = color ? "\u{1B}[0m" : ""
        var out = "\(bold)\(FileName.visible(diagnostic.file.path)):\(location.line):\(location.column):\(reset) "
        out += "\(tint)\(severity):\(reset) \(bold)\(diagnostic.message)\(reset) [\(diagnostic.code.rawValue)]\n"
        out += excerpt(file: diagnostic.file, span: diagnostic.span, tint: tint, reset: reset)
        if let help = diagnostic.help { out += "\(color ? "\u{1B}[1;36m" : "")help:\(reset) \(help)\n" }
        for note in diagnostic.notes {
            if let file = note.file, let span = note.span {
                let noteLocation = file.location(of: span.start)
                out +=
                    "\(FileName.visible(file.path)):\(noteLocation.line):\(noteLocation.column): note: \(note.message)\n"
                out += excerpt(file: file, span: span, tint: "", reset: "")
            } else {
                out += "note: \(note.message)\n"
            }
        }
        return out
    }

    /// The source line of `span` with a caret underline; multi-line spans underline to the end of the first line.
    ///
    /// A line longer than ``excerptContext`` twice over is cut to the underlined text and that much context on
    /// each side, marked with `...`: a rule file may be one line of megabytes, and printing all of it (and a
    /// caret line as long) for each of fifty diagnostics would print gigabytes.
    static func excerpt(file: SourceFile, span: Span, tint: String, reset: String) -> String {
        let start = file.location(of: span.start)
        let lineRange = file.lineRange(start.line)
        let gutter = String(start.line)
        let pad = String(repeating: " ", count: gutter.count)
        let spanStart = min(max(span.start, lineRange.lowerBound), lineRange.upperBound)
        let underlineEnd = min(max(span.end, spanStart + 1), lineRange.upperBound)
        var shownStart = lineRange.lowerBound
        var shownEnd = lineRange.upperBound
        if lineRange.count > 4 * excerptContext {
            shownStart = file.scalarStart(before: max(lineRange.lowerBound, spanStart - excerptContext))
            // A very long span (a run of 200,000 bad characters) is shown by its start.
            let shownUnderlineEnd = min(underlineEnd, spanStart + 2 * excerptContext)
            shownEnd = file.scalarStart(
                before: min(lineRange.upperBound, max(shownUnderlineEnd, spanStart + 1) + excerptContext),
                limit: lineRange.upperBound)
        }
        let before = shownStart > lineRange.lowerBound ? "..." : ""
        let after = shownEnd < lineRange.upperBound ? "..." : ""
        let text = String(decoding: file.bytes[shownStart..<shownEnd], as: UTF8.self).map { $0 == "\t" ? " " : $0 }
        let width = max(1, file.scalarCount(from: spanStart, to: min(underlineEnd, shownEnd)))
        let column = before.count + file.scalarCount(from: shownStart, to: spanStart)
        let carets = String(repeating: " ", count: column) + String(repeating: "^", count: width)
        return " \(gutter) | \(before)\(String(text))\(after)\n \(pad) | \(tint)\(carets)\(reset)\n"
    }

    /// Bytes of context shown on each side of the underlined text when a line is too long to show whole.
    static let excerptContext = 80

    /// Renders every diagnostic, in order, followed by a summary line when there are any.
    public static func human(_ diagnostics: [Diagnostic], color: Bool = false, omitted: Int = 0) -> String {
        var out = diagnostics.map { human($0, color: color) }.joined(separator: "\n")
        if omitted > 0 { out += "\nnote: \(omitted) more diagnostic\(omitted == 1 ? "" : "s") not shown\n" }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.filter { $0.severity == .warning }.count
        if errors + warnings + omitted > 0 {
            var parts: [String] = []
            if errors > 0 { parts.append("\(errors) error\(errors == 1 ? "" : "s")") }
            if warnings > 0 { parts.append("\(warnings) warning\(warnings == 1 ? "" : "s")") }
            if !parts.isEmpty { out += "\n" + parts.joined(separator: ", ") + " generated\n" }
        }
        return out
    }

    /// One JSON object per diagnostic (with 1-based line and column at both ends of the span), in a document
    /// `{"diagnostics": [...], "errors": N, "warnings": N}`.
    public static func json(_ diagnostics: [Diagnostic], omitted: Int = 0) -> String {
        var items: [String] = []
        for diagnostic in diagnostics {
            let start = diagnostic.location
            let end = diagnostic.file.location(of: diagnostic.span.end)
            var fields = [
                "\"severity\":\(JSONText.quote(diagnostic.severity.rawValue))",
                "\"code\":\(JSONText.quote(diagnostic.code.rawValue))",
                "\"message\":\(JSONText.quote(diagnostic.message))",
                "\"file\":\(JSONText.quote(FileName.visible(diagnostic.file.path)))",
                "\"line\":\(start.line)", "\"column\":\(start.column)",
                "\"endLine\":\(end.line)", "\"endColumn\":\(end.column)",
                "\"text\":\(JSONText.quote(diagnostic.underlinedText))",
            ]
            if let help = diagnostic.help { fields.append("\"help\":\(JSONText.quote(help))") }
            if !diagnostic.notes.isEmpty {
                let notes = diagnostic.notes.map { note -> String in
                    var parts = ["\"message\":\(JSONText.quote(note.message))"]
                    if let file = note.file, let span = note.span {
                        let location = file.location(of: span.start)
                        parts.append("\"file\":\(JSONText.quote(FileName.visible(file.path)))")
                        parts.append("\"line\":\(location.line)")
                        parts.append("\"column\":\(location.column)")
                    }
                    return "{" + parts.joined(separator: ",") + "}"
                }
                fields.append("\"notes\":[" + notes.joined(separator: ",") + "]")
            }
            items.append("{" + fields.joined(separator: ",") + "}")
        }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.filter { $0.severity == .warning }.count
        return "{\"diagnostics\":[" + items.joined(separator: ",")
            + "],\"errors\":\(errors),\"warnings\":\(warnings),\"omitted\":\(omitted)}\n"
    }
}
