import RolecallEngine
import RolecallLanguage

extension LanguageServer {
    /// The file of the last check that `params.textDocument.uri` names.
    func document(_ params: JSONValue?) -> Result<Workspace.CheckedFile, ResponseError> {
        guard let uri = params?["textDocument"]?["uri"]?.string else {
            return .failure(.invalidParams("expected params.textDocument.uri"))
        }
        guard let file = workspace.files[uri] else { return .failure(.invalidParams("unknown document `\(uri)`")) }
        return .success(file)
    }

    /// The byte offset of `params.position` in `file`.
    func offset(_ params: JSONValue?, in file: Workspace.CheckedFile) -> Result<Int, ResponseError> {
        guard let position = Position(params?["position"]) else {
            return .failure(.invalidParams("expected params.position with line and character"))
        }
        return .success(file.lines.offset(of: position))
    }

    /// `textDocument/codeAction`: a `quickfix` for each diagnostic in the range that has a did-you-mean, writing
    /// the suggestion over the misspelt name.
    func codeActions(_ params: JSONValue?) -> Result<JSONValue, ResponseError> {
        let file: Workspace.CheckedFile
        switch document(params) {
        case .success(let found): file = found
        case .failure(let error): return .failure(error)
        }
        guard let start = Position(params?["range"]?["start"]), let end = Position(params?["range"]?["end"]) else {
            return .failure(.invalidParams("expected params.range"))
        }
        let from = file.lines.offset(of: start)
        let to = file.lines.offset(of: end)
        var actions: [JSONValue] = []
        for diagnostic in workspace.checked?.diagnostics ?? [] where diagnostic.file === file.file {
            guard let fix = diagnostic.fix, diagnostic.span.start <= to, diagnostic.span.end >= from else { continue }
            let edit: JSONValue = .members(["range": file.lines.range(fix.span), "newText": .text(fix.replacement)])
            actions.append(
                .members([
                    "title": .text("change `\(file.file.text(fix.span))` to `\(fix.replacement)`"),
                    "kind": "quickfix",
                    "diagnostics": .array([lspDiagnostic(diagnostic, lines: file.lines)]),
                    "isPreferred": true,
                    "edit": .members(["changes": .object([(key: file.uri, value: .array([edit]))])]),
                ]))
        }
        return .success(.array(actions))
    }

    /// `textDocument/formatting`: the whole document in `rules fmt`'s layout, as one edit; no edits when it is
    /// formatted already or has syntax errors (which the diagnostics show).
    func formatting(_ params: JSONValue?) -> Result<JSONValue, ResponseError> {
        let file: Workspace.CheckedFile
        switch document(params) {
        case .success(let found): file = found
        case .failure(let error): return .failure(error)
        }
        guard case .success(let text) = Formatter.format(file.file), !Array(text.utf8).elementsEqual(file.file.bytes)
        else { return .success(.array([])) }
        return .success(.array([.members(["range": file.lines.wholeRange, "newText": .text(text)])]))
    }

    /// `textDocument/documentSymbol`: each rule (a function, named as decisions name it) and each `let` (a
    /// variable), in source order. A rule's name and the roles in its detail are shown as messages show them, with
    /// their hidden scalars written out (``Spelling/visible(_:)``, ``Spelling/quoted(_:)``): an outline is read,
    /// and a `\u{202e}` in a name must not reverse the text the editor shows around it.
    func documentSymbols(_ params: JSONValue?) -> Result<JSONValue, ResponseError> {
        let file: Workspace.CheckedFile
        switch document(params) {
        case .success(let found): file = found
        case .failure(let error): return .failure(error)
        }
        var symbols: [(start: Int, symbol: JSONValue)] = []
        for rule in workspace.checked?.rules ?? [] where rule.rule.file === file.file {
            let span = rule.rule.span
            symbols.append(
                (
                    span.start,
                    .members([
                        "name": .text(Spelling.visible(rule.name)), "detail": .text(Self.summary(rule.rule.actions)),
                        "kind": .int(12),
                        "range": file.lines.range(span),
                        "selectionRange": file.lines.range(rule.rule.nameSpan ?? Span(span.start, span.start)),
                    ])
                ))
        }
        for case .binding(let binding) in Parser.parseDeclarations(file.file).declarations {
            symbols.append(
                (
                    binding.span.start,
                    .members([
                        "name": .text(binding.name), "kind": .int(13), "range": file.lines.range(binding.span),
                        "selectionRange": file.lines.range(binding.nameSpan),
                    ])
                ))
        }
        return .success(.array(symbols.sorted { $0.start < $1.start }.map(\.symbol)))
    }

    /// What a rule does, for a symbol's detail: `assign "staff", revoke "guest"; stop`.
    static func summary(_ actions: [Action]) -> String {
        func quoted(_ roles: [Role]) -> String {
            roles.map { Spelling.quoted($0.name) }.joined(separator: ", ")
        }
        return actions.map { action in
            switch action.kind {
            case .assign(let roles): "assign " + quoted(roles)
            case .revoke(let roles): "revoke " + quoted(roles)
            case .revokeAll(let except): except.isEmpty ? "revoke all" : "revoke all except " + quoted(except)
            case .stop: "stop"
            }
        }.joined(separator: " ")
    }
}
