import RolecallEngine
import RolecallLanguage

extension LanguageServer {
    /// Checks the workspace and publishes every file's diagnostics: each open document's (an empty list when
    /// it has none), each other file's that has some, and an empty list for each file whose problems are gone.
    mutating func checkAndPublish() {
        workspace.check()
        guard let checked = workspace.checked else { return }
        var byURI: [String: [Diagnostic]] = [:]
        for diagnostic in checked.diagnostics {
            guard let uri = workspace.uri(of: diagnostic.file) else { continue }
            byURI[uri, default: []].append(diagnostic)
        }
        var now: Set<String> = []
        for (uri, file) in workspace.files.sorted(by: { $0.key < $1.key }) {
            let found = byURI[uri] ?? []
            guard !found.isEmpty || published.contains(uri) || workspace.documents[uri] != nil else { continue }
            if !found.isEmpty { now.insert(uri) }
            publish(
                uri: uri, version: file.version,
                diagnostics: found.prefix(Self.maxDiagnosticsPerFile).map {
                    lspDiagnostic($0, lines: file.lines)
                })
        }
        // Files that left the rule set (closed and not on disk, or deleted) keep no diagnostics.
        for uri in published.subtracting(now) where workspace.files[uri] == nil {
            publish(uri: uri, version: nil, diagnostics: [])
        }
        published = now
    }

    mutating func publish(uri: String, version: Int?, diagnostics: [JSONValue]) {
        var params: [(key: String, value: JSONValue)] = [("uri", .text(uri))]
        if let version { params.append(("version", .int(version))) }
        params.append(("diagnostics", .array(diagnostics)))
        outbox.append(
            .members([
                "jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": .object(params),
            ]))
    }

    /// A diagnostic as LSP has it: the checker's code and message, `source` `rolecall`, and the range in UTF-16
    /// positions. The `help:` line is appended to the message on a line of its own, as `rules check` prints it
    /// (LSP has no field for advice); a note pointing at source becomes `relatedInformation`, one without a
    /// place is appended as a `note:` line.
    func lspDiagnostic(_ diagnostic: Diagnostic, lines: LineIndex) -> JSONValue {
        var message = diagnostic.message
        if let help = diagnostic.help { message += "\nhelp: " + help }
        var related: [JSONValue] = []
        for note in diagnostic.notes {
            if let file = note.file, let span = note.span, let uri = workspace.uri(of: file),
                let noteLines = workspace.files[uri]?.lines
            {
                related.append(
                    .members([
                        "location": .members(["uri": .text(uri), "range": noteLines.range(span)]),
                        "message": .text(note.message),
                    ]))
            } else {
                message += "\nnote: " + note.message
            }
        }
        let severity =
            switch diagnostic.severity {
            case .error: 1
            case .warning: 2
            case .note: 3
            }
        var members: [(key: String, value: JSONValue)] = [
            ("range", lines.range(diagnostic.span)), ("severity", .int(severity)),
            ("code", .text(diagnostic.code.rawValue)), ("source", "rolecall"), ("message", .text(message)),
        ]
        if !related.isEmpty { members.append(("relatedInformation", .array(related))) }
        return .object(members)
    }
}
