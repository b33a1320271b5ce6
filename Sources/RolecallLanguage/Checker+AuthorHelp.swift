/// Diagnostics for the mistakes first-time authors make, written as the fix in their own code: a word where a
/// string was meant, `or "b"` after a comparison, a string looked for in a list of objects.
///
/// Each hook wraps a step of the checker and rewrites the diagnostic that step would have given, so the checker's
/// own logic stays as it is.
extension Checker {
    /// The right operand of a comparison. A bare word there (`connection.name == acme`, `== True`) is an unknown
    /// root for ``checkPath(_:_:)``; it is reported as a string without quotes instead, with the comparison fixed.
    mutating func checkOperand(_ right: Expr, of op: BinaryOperator, after left: Expr) -> (CheckedExpr, StaticType) {
        let before = diagnostics.count
        let result = check(right)
        // The right side of `in` is a list: a word there may be a `let` name misspelt, not a string.
        guard op != .in, op != .notIn, let word = bareWord(right, since: before) else { return result }
        let fixed = "\(file.text(left.span)) \(op.rawValue) \(Checker.quoted(word))"
        diagnostics[before] = .unquotedString(word, fixed: fixed, file, right.span)
        return result
    }

    /// `user.email ends_with ("@a.com" or "@b.com")`: `or`/`and` between literal values, as the right side of a
    /// comparison. One error, whose help writes the comparison out for each value (or `in [...]` for `==`),
    /// instead of one error per value and one for the comparison.
    mutating func joinedValues(_ op: BinaryOperator, _ left: Expr, _ right: Expr) -> (CheckedExpr, StaticType)? {
        let keyword: String
        let values: [Expr]
        switch right.kind {
        case .or(let items): (keyword, values) = ("or", items)
        case .and(let items): (keyword, values) = ("and", items)
        default: return nil
        }
        guard values.allSatisfy(\.isLiteral) else { return nil }
        _ = check(left)
        let subject = file.text(left.span)
        let written = values.map { file.text($0.span) }
        let fixed: String
        if keyword == "or", op == .equal {
            fixed = "\(subject) in [\(written.joined(separator: ", "))]"
        } else {
            fixed = written.map { "\(subject) \(op.rawValue) \($0)" }.joined(separator: " \(keyword) ")
        }
        report(.joinedValues(keyword, fixed: fixed, file, right.span))
        return (CheckedExpr(kind: .constant(.null), span: right.span), .bool)
    }

    /// The elements of a list literal. Bare words among them (`[DE, FR]`) give one diagnostic, at the first,
    /// whose help quotes them all (`["DE", "FR"]`).
    mutating func checkElements(_ elements: [Expr], of list: Expr) -> [(CheckedExpr, StaticType)] {
        var checked: [(CheckedExpr, StaticType)] = []
        checked.reserveCapacity(elements.count)
        var words: [(index: Int, span: Span, word: String)] = []
        for element in elements {
            let before = diagnostics.count
            checked.append(check(element))
            if let word = bareWord(element, since: before) { words.append((before, element.span, word)) }
        }
        guard let first = words.first else { return checked }
        var fixed = ""
        var cursor = list.span.start
        for word in words {
            fixed += file.text(Span(cursor, word.span.start)) + Checker.quoted(word.word)
            cursor = word.span.end
        }
        fixed += file.text(Span(cursor, list.span.end))
        diagnostics[first.index] = .unquotedString(first.word, fixed: fixed, file, first.span)
        for word in words.dropFirst().reversed() {
            diagnostics.remove(at: word.index)
            errorCount -= 1
        }
        return checked
    }

    /// The word, when `expr` is one name that the checker has just reported (its only diagnostic since
    /// `before`) as an unknown root.
    func bareWord(_ expr: Expr, since before: Int) -> String? {
        guard case .path(let segments) = expr.kind, segments.count == 1, case .key(let name, _) = segments[0],
            diagnostics.count == before + 1, diagnostics[before].code == .unknownRoot
        else { return nil }
        return name
    }

    /// A word as the literal it stands for: `"acme"`, or `true` for `True`.
    static func quoted(_ word: String) -> String {
        let lower = word.lowercased()
        return ["true", "false", "null"].contains(lower) ? lower : Formatter.Printer.string(word)
    }

    /// An operand of `and`/`or` must be a boolean. A literal right after a comparison
    /// (`user.email ends_with "@acme.com" or "@acme.de"`) means the comparison was meant to repeat: say so,
    /// with the comparison written out, instead of suggesting `"@acme.de" != null` (always true).
    mutating func requireLogicalOperand(
        _ type: StaticType, _ operand: Expr, after earlier: ArraySlice<Expr>, isAnd: Bool
    ) {
        let keyword = isAnd ? "and" : "or"
        if type == .string || type == .number, operand.isLiteral,
            // Bounded look-back past earlier literals (`== "a" or "b" or "c"`), so a long chain stays linear.
            let comparison = earlier.suffix(16).last(where: { !$0.isLiteral }),
            case .binary(let op, let left, let right) = comparison.kind
        {
            let text = file.text(operand.span)
            var fixed = "\(file.text(left.span)) \(op.rawValue) \(text)"
            let addToList = (op == .in || op == .notIn) && { if case .list = right.kind { true } else { false } }()
            if addToList {
                let list = file.text(right.span)
                let inner = String(list.dropFirst().dropLast()).split(whereSeparator: \.isWhitespace)
                    .joined(separator: " ")
                fixed = "\(file.text(left.span)) \(op.rawValue) [\(inner.isEmpty ? "" : inner + ", ")\(text)]"
            }
            report(.literalAfterComparison(keyword, text, fixed: fixed, addToList: addToList, file, operand.span))
            return
        }
        requireBoolean(type, operand, context: "this operand of `\(keyword)`")
    }

    /// For a string looked for in a list of objects (`"admin" in user.identities`): a quantifier over the list
    /// that tests a string field of each element, as help.
    func quantifierHelp(list: Expr, value: Expr) -> String? {
        guard case .path(let written) = list.kind,
            case .list(.object(let fields)) = EventSchema.type(of: written),
            case .key(let last, _) = written[written.count - 1]
        else { return nil }
        let preferred = ["provider", "connection", "name", "type", "id"]
        let stringFields = fields.filter { $0.value == .string }.keys.sorted()
        guard let field = preferred.first(where: stringFields.contains) ?? stringFields.first else { return nil }
        let name = last.first.map { String($0).lowercased() } ?? "x"
        let fixed = "any(\(written.dotted), \(name), \(name).\(field) == \(file.text(value.span)))"
        return Diagnostic.quantifierHelp(fixed)
    }
}

extension EventSchema {
    /// The schema type at a path as written (aliases expanded), or nil when the schema does not know it.
    static func type(of written: [PathSegment]) -> FieldType? {
        guard case .key(let rootName, let rootSpan) = written.first else { return nil }
        var segments = written
        if let alias = aliases[rootName] {
            segments = alias.map { PathSegment.key($0, span: rootSpan) } + written.dropFirst()
        }
        return Checker.quietWalk(segments[...], from: root)
    }
}
