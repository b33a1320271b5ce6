import RolecallJSON
import RolecallRegex

/// Prints rule files in one canonical layout, keeping every comment (`rules fmt`).
///
/// The layout: a rule's name, condition and each action on lines of their own; one blank line between
/// declarations; canonical spacing and the fewest parentheses that keep the tree the same. What fits in
/// ``lineLength`` stays on one line; what does not breaks at its loosest structure first, and each part that still
/// does not fit breaks the same way (a Wadler/Prettier-style group layout):
///
/// - An `and`/`or` chain breaks before every operator of that chain, the operator leading its line (as rustfmt
///   and Black do), so each line says how it joins the condition. The lines of a rule's condition are indented two
///   spaces under `when`; an operand that is itself a chain (`a and b` inside an `or`, no parentheses) breaks with
///   its lines two spaces further in.
/// - Parentheses, a list, a call and a quantifier break after their opening bracket and before their closing
///   one, their contents indented two spaces: `and (` / `    b` / `    or c` / `  )`. A list of literals fills
///   its lines (`"AT", "BE", ...`), any other list takes a line per element; a broken list ends its last element
///   with a comma (a call, whose grammar has no trailing comma, does not). A quantifier keeps its list and name on
///   the first line and breaks its condition: `any(user.identities, i,` / `  i.provider == "x"` / `  and ...` / `)`.
/// - `let NAME = VALUE` breaks after `=` with the value indented two spaces, unless the value is a bracketed
///   list, call or quantifier, which breaks inside its brackets instead.
///
/// Comments on a line of their own stay on a line of their own at the same place: before the declaration, clause,
/// operand, element or argument that follows them (with a blank line after them kept between clauses where the
/// source had one); a comment after code stays at the end of the line of the code before it. A comment forces the
/// groups around it to break, since nothing may follow it on its line. A comment written inside a single path or
/// between a keyword and what it introduces moves to the nearest such place; parentheses the layout would drop
/// stay when a comment ends them (`(a or b # why` / `)`), so that the comment stays inside. Formatting never changes meaning (the
/// AST is the same), keeps every comment, is idempotent, and works in loops rather than recursion along a chain, so
/// a chain of 10,000 operands formats like a short one; the tests and the `fuzz-format` target check all of it.
///
/// The contents of a literal are never rewritten, as gofmt, rustfmt and swift-format leave them: a string
/// literal (condition operand, rule name, role, quoted path key) is printed as its source text, escapes staying
/// escapes and literal characters staying literal, and a regex as its pattern written. So `"a\u{202e}b"` keeps
/// its escape rather than becoming a bidirectional control that `rules check` rejects, and
/// `"admin@acme.com\u{200b}"` never turns into text that prints like `"admin@acme.com"`. Only a string with no
/// string literal in the source (a tree built in code) is written from its value, by ``Printer/string(_:)``,
/// which escapes every scalar that is hidden in text, and with them every one the lexer refuses as itself. What
/// the formatter does change: layout, parentheses, the spelling of numbers, the order of a regex's flags, and a
/// quoted key that can be written as a name (`["email"]` becomes `.email`).
public enum Formatter {
    /// Lines longer than this are broken (a comment or a single token may still make a line longer).
    public static let lineLength = 100

    /// The formatted text of `file`, or the syntax errors that keep it from being formatted.
    public static func format(_ file: SourceFile) -> Result<String, FormatFailure> {
        let (declarations, diagnostics) = Parser.parseDeclarations(file)
        if diagnostics.contains(where: { $0.severity == .error }) {
            return .failure(FormatFailure(diagnostics: diagnostics))
        }
        var lexer = Lexer(file: file)
        while lexer.next().kind != .endOfFile {}
        var printer = Printer(file: file, comments: lexer.comments)
        return .success(printer.print(declarations))
    }

    /// Syntax errors that keep a file from being formatted.
    public struct FormatFailure: Error, Sendable {
        /// The errors.
        public var diagnostics: [Diagnostic]
    }

    /// A layout document: text with the places it may break, grouped so that a group breaks all its lines or none.
    indirect enum Doc {
        /// Text without line breaks.
        case text(String)
        /// A space, or a line break when its group is broken.
        case line
        /// Nothing, or a line break when its group is broken.
        case softLine
        /// The text, only when the group is broken (a list's trailing comma).
        case ifBroken(String)
        /// A comment: after the code on the current line (`trailing`), or on a line of its own. Nothing follows
        /// it on its line.
        case comment(String, trailing: Bool)
        /// Literal elements that fill their lines when the group is broken, separated by a space.
        case fill([String])
        /// Documents one after another; `hard` when a comment inside forces a break.
        case concat([Doc], hard: Bool)
        /// The document, its broken lines indented two more spaces.
        case indent(Doc, hard: Bool)
        /// Breaks all its lines or none.
        case group(Doc, hard: Bool)

        /// Whether a comment inside forces every group around it to break.
        var hard: Bool {
            switch self {
            case .comment: true
            case .concat(_, let hard), .indent(_, let hard), .group(_, let hard): hard
            default: false
            }
        }

        static func cat(_ parts: [Doc]) -> Doc { .concat(parts, hard: parts.contains { $0.hard }) }
        static func indented(_ parts: [Doc]) -> Doc {
            let inner = cat(parts)
            return .indent(inner, hard: inner.hard)
        }
        static func grouped(_ parts: [Doc]) -> Doc {
            let inner = cat(parts)
            return .group(inner, hard: inner.hard)
        }
    }

    struct Printer {
        let file: SourceFile
        let comments: [Span]
        var next = 0
        var out = ""

        init(file: SourceFile, comments: [Span]) {
            self.file = file
            self.comments = comments
        }

        /// A clause: where comments before it go, where it ends, and what it is.
        struct Clause {
            enum Kind {
                case name(String)
                case condition(Expr)
                case action(Action)
                case binding(Binding)
            }
            var start: Int
            var end: Int
            var kind: Kind
        }

        mutating func print(_ declarations: [Declaration]) -> String {
            for (index, declaration) in declarations.enumerated() {
                // One blank line between declarations; a run of `let`s written on consecutive lines stays together.
                if index > 0 {
                    let previous = declarations[index - 1]
                    if case .binding = previous, case .binding = declaration,
                        !hasBlankLine(from: previous.span.end, to: declaration.span.start)
                    {
                    } else {
                        out += "\n"
                    }
                }
                emitOwnLineComments(before: declaration.span.start)
                let clauses = Printer.clauses(declaration)
                let following = index + 1 < declarations.count ? declarations[index + 1].span.start : Int.max
                for (position, clause) in clauses.enumerated() {
                    emitOwnLineComments(before: clause.start)
                    var doc = [document(clause)]
                    // Comments left inside the clause, or trailing it on its last source line, end its last line.
                    let nextStart = position + 1 < clauses.count ? clauses[position + 1].start : following
                    doc += claim(before: min(file.lineEnd(after: clause.end), nextStart))
                    out += Renderer.render(.cat(doc)) + "\n"
                }
            }
            // Comments after the last rule.
            if next < comments.count, !declarations.isEmpty { out += "\n" }
            while next < comments.count {
                out += file.text(comments[next]) + "\n"
                next += 1
            }
            return out
        }

        /// Emits the comments that stand before `offset` on lines of their own, keeping (one) blank line where
        /// the source had one after a comment.
        mutating func emitOwnLineComments(before offset: Int) {
            while next < comments.count, comments[next].start < offset {
                let comment = comments[next]
                next += 1
                out += file.text(comment) + "\n"
                let following = next < comments.count && comments[next].start < offset ? comments[next].start : offset
                if hasBlankLine(from: comment.end, to: following) { out += "\n" }
            }
        }

        /// Whether the white space after `start` (up to `end` at most) holds a blank line.
        func hasBlankLine(from start: Int, to end: Int) -> Bool {
            var newlines = 0
            for byte in file.bytes[start..<min(end, file.bytes.count)] {
                if byte == UInt8(ascii: "\n") {
                    newlines += 1
                } else if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\r") {
                    break
                }
            }
            return newlines >= 2
        }

        /// The comments not yet printed that start before `offset`, as documents at the current place.
        mutating func claim(before offset: Int) -> [Doc] {
            var docs: [Doc] = []
            while next < comments.count, comments[next].start < offset {
                let comment = comments[next]
                next += 1
                docs.append(.comment(file.text(comment), trailing: !startsLine(comment.start)))
            }
            return docs
        }

        /// Whether only spaces and tabs stand before `offset` on its line.
        func startsLine(_ offset: Int) -> Bool {
            var index = offset
            let lineStart = file.lineStarts[file.line(of: offset) - 1]
            while index > lineStart {
                index -= 1
                let byte = file.bytes[index]
                if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") { return false }
            }
            return true
        }

        /// Where the comments before `expr` are claimed up to: its start, or for a leaf (which has no place of
        /// its own for a comment, e.g. `user. # x` / `email`) its end, so a comment inside one moves before it.
        static func claimEnd(_ expr: Expr) -> Int {
            switch expr.kind {
            case .string, .number, .bool, .null, .invalid, .regex, .path: expr.span.end
            default: expr.span.start
            }
        }

        /// Where the comments before `expr` are claimed up to: ``claimEnd(_:)`` of its first operand when it starts
        /// with one (a chain, a comparison), which has no place of its own before it. Every place a comment can be
        /// printed claims up to this for what follows it, so the same comments land at the same place when the
        /// output is formatted again.
        static func leadingClaimEnd(_ expr: Expr) -> Int {
            var first = expr
            while true {
                switch first.kind {
                case .or(let operands), .and(let operands): first = operands[0]
                case .binary(_, let left, _): first = left
                default: return claimEnd(first)
                }
            }
        }

        static func clauses(_ declaration: Declaration) -> [Clause] {
            let rule: Rule
            switch declaration {
            case .rule(let written): rule = written
            case .binding(let binding):
                return [Clause(start: binding.span.start, end: binding.span.end, kind: .binding(binding))]
            }
            var clauses: [Clause] = []
            if let name = rule.name, let nameSpan = rule.nameSpan {
                // A comment between `rule` and the name goes before the rule.
                clauses.append(Clause(start: nameSpan.start, end: nameSpan.end, kind: .name(name)))
            }
            if let condition = rule.condition {
                // A comment between `when` and the condition goes before `when`.
                clauses.append(
                    Clause(start: leadingClaimEnd(condition), end: condition.span.end, kind: .condition(condition)))
            }
            for action in rule.actions {
                clauses.append(Clause(start: action.span.start, end: action.span.end, kind: .action(action)))
            }
            return clauses
        }

        mutating func document(_ clause: Clause) -> Doc {
            switch clause.kind {
            case .name(let name):
                return .text("rule " + literal(name, clause.start..<clause.end))
            case .condition(let condition): return .cat([.text("when "), chainOrExpression(condition, hanging: true)])
            case .binding(let binding):
                let value = binding.value
                let comments = claim(before: Printer.leadingClaimEnd(value))
                let head = Doc.text("let \(binding.name) =")
                switch value.kind {
                case _ where commentBeforeDroppedParenthesis(value), .list, .call, .quantifier:
                    return .cat([head] + comments + [comments.isEmpty ? .text(" ") : .line, expression(value)])
                default:
                    return .grouped([head, .indented(comments + [.line, chainOrExpression(value, hanging: false)])])
                }
            case .action(let action):
                switch action.kind {
                case .assign(let roles): return roleList("assign", roles)
                case .revoke(let roles): return roleList("revoke", roles)
                case .revokeAll(let except):
                    if except.isEmpty {
                        let comments = claim(before: action.span.end)
                        return .cat(
                            [.text("revoke")] + comments + [comments.isEmpty ? .text(" ") : .line, .text("all")])
                    }
                    return roleList("revoke all except", except)
                case .stop: return .text("stop")
                }
            }
        }

        /// `KEYWORD "a", "b"`, broken after a comma only where a comment ends a line.
        mutating func roleList(_ keyword: String, _ roles: [Role]) -> Doc {
            var parts: [Doc] = [.text(keyword + " ")]
            for (index, role) in roles.enumerated() {
                if index > 0 { parts.append(.text(",")) }
                let comments = claim(before: role.span.end)
                parts += comments
                if index > 0 { parts.append(comments.isEmpty ? .text(" ") : .line) }
                parts.append(.text(literal(role.name, role.span.start..<role.span.end)))
            }
            return .indented(parts)
        }

        /// `expr` at the top of a condition, a `let` or a bracket: a chain there needs no parentheses, and its
        /// lines hang under the first (`when a` / `  and b`) or stand as a block (`a` / `and b`).
        mutating func chainOrExpression(_ expr: Expr, hanging: Bool, keepingParentheses: Bool = true) -> Doc {
            if keepingParentheses && commentBeforeDroppedParenthesis(expr) { return parenthesised(expr) }
            switch expr.kind {
            case .or(let operands): return chain("or", operands, operandLevel: 2, hanging: hanging)
            case .and(let operands): return chain("and", operands, operandLevel: 3, hanging: hanging)
            default: return expression(expr, keepingParentheses: keepingParentheses)
            }
        }

        /// A chain: on one line, or broken before each `keyword`, comments before an operand kept before it.
        mutating func chain(_ keyword: String, _ operands: [Expr], operandLevel: Int, hanging: Bool) -> Doc {
            var parts: [Doc] = []
            parts.reserveCapacity(operands.count * 3)
            for (index, operand) in operands.enumerated() {
                if index > 0 {
                    parts += claim(before: Printer.leadingClaimEnd(operand))
                    parts += [.line, .text(keyword + " ")]
                } else {
                    parts += claim(before: Printer.leadingClaimEnd(operand))
                }
                parts.append(expression(operand, level: operandLevel))
            }
            return hanging ? .grouped([.indented(parts)]) : .grouped(parts)
        }

        /// `open`, the items each with the comments before them, `close`: on one line, or the items on lines of
        /// their own indented two spaces (`separator` after each but the last, `trailing` after the last).
        mutating func bracketed(
            _ open: String, _ items: [(claimEnd: Int, doc: (inout Printer) -> Doc)], close: String, closeAt: Int,
            trailing: String = ""
        ) -> Doc {
            var inner: [Doc] = []
            for (index, item) in items.enumerated() {
                if index > 0 { inner.append(.text(",")) }
                inner += claim(before: item.claimEnd)
                inner.append(index == 0 ? .softLine : .line)
                inner.append(item.doc(&self))
            }
            if !items.isEmpty && !trailing.isEmpty { inner.append(.ifBroken(trailing)) }
            inner += claim(before: closeAt)
            return .grouped([.text(open), .indented(inner), .softLine, .text(close)])
        }

        /// `expr` in canonical form, parenthesised when its level is looser than `level` requires.
        mutating func expression(_ expr: Expr, level minimum: Int = 1, keepingParentheses: Bool = true) -> Doc {
            if Printer.level(expr) < minimum || (keepingParentheses && commentBeforeDroppedParenthesis(expr)) {
                return parenthesised(expr)
            }
            switch expr.kind {
            case .list(let items):
                if items.isEmpty { return .cat([.text("[")] + claim(before: expr.span.end - 1) + [.text("]")]) }
                let literal = items.allSatisfy { Printer.level($0) >= 5 && Printer.leadingClaimEnd($0) == $0.span.end }
                if literal && !hasComment(before: expr.span.end) {
                    let texts = items.enumerated().map { index, item in
                        flat(item) + (index < items.count - 1 ? "," : "")
                    }
                    return .grouped([
                        .text("["), .indented([.softLine, .fill(texts), .ifBroken(",")]), .softLine, .text("]"),
                    ])
                }
                return bracketed(
                    "[", items.map { item in (Printer.leadingClaimEnd(item), { $0.expression(item) }) }, close: "]",
                    closeAt: expr.span.end - 1, trailing: ",")
            case .call(let name, _, let arguments):
                return bracketed(
                    name + "(", arguments.map { item in (Printer.leadingClaimEnd(item), { $0.expression(item) }) },
                    close: ")", closeAt: expr.span.end - 1)
            case .quantifier(let quantifier, let list, let name, let nameSpan, let body):
                // `any(LIST, NAME,` on the first line, the condition below it.
                var head: [Doc] = [.text(quantifier.rawValue + "(")]
                head += claim(before: Printer.leadingClaimEnd(list))
                head.append(expression(list))
                head.append(.text(","))
                let comments = claim(before: nameSpan.end)
                head += comments + [comments.isEmpty ? .text(" ") : .line, .text(name + ",")]
                var inner = claim(before: Printer.leadingClaimEnd(body))
                inner += [.line, chainOrExpression(body, hanging: false)]
                inner += claim(before: expr.span.end - 1)
                return .grouped(head + [.indented(inner), .softLine, .text(")")])
            case .unary(.not, let operand):
                // `not (a in b)` rather than `not a in b`: the same tree, but no reader mistakes it for `not in`.
                return .cat(
                    [.text("not ")] + claim(before: Printer.leadingClaimEnd(operand))
                        + [expression(operand, level: Printer.level(operand) == 4 ? 5 : 3)])
            case .unary(.negate, let operand):
                return .cat(
                    [.text("-")] + claim(before: Printer.leadingClaimEnd(operand)) + [expression(operand, level: 5)])
            case .or(let operands):
                // An operand that is itself an `or` was parenthesised in the source: keep it so.
                return chain("or", operands, operandLevel: 2, hanging: true)
            case .and(let operands):
                return chain("and", operands, operandLevel: 3, hanging: true)
            case .binary(let op, let left, let right):
                let leftDoc = Doc.cat(claim(before: Printer.leadingClaimEnd(left)) + [expression(left, level: 5)])
                let comments = claim(before: Printer.leadingClaimEnd(right))
                return .cat([leftDoc, .text(" \(op.rawValue) ")] + comments + [expression(right, level: 5)])
            default:
                return .text(flat(expr))
            }
        }

        /// `(expr)`, broken like a bracket: `(` / `  a` / `  or b` / `)`.
        mutating func parenthesised(_ expr: Expr) -> Doc {
            bracketed(
                "(",
                [
                    (
                        Printer.leadingClaimEnd(expr),
                        { $0.chainOrExpression(expr, hanging: false, keepingParentheses: false) }
                    )
                ],
                close: ")", closeAt: expr.span.end - 1)
        }

        /// Whether the source wrote `expr` in parentheses the layout leaves out, with a comment after its last
        /// operand inside them: `(a or b # why` / `)`. The parentheses stay, so the comment keeps its place (and
        /// the file its depth).
        func commentBeforeDroppedParenthesis(_ expr: Expr) -> Bool {
            let last: Expr
            switch expr.kind {
            case .or(let operands), .and(let operands): last = operands[operands.count - 1]
            case .binary(_, _, let right): last = right
            case .unary(_, let operand): last = operand
            default: return false
            }
            guard last.span.end < expr.span.end else { return false }
            // The first comment at or after the last operand's end.
            var low = 0
            var high = comments.count
            while low < high {
                let mid = (low + high) / 2
                if comments[mid].start < last.span.end { low = mid + 1 } else { high = mid }
            }
            return low < comments.count && comments[low].start < expr.span.end
        }

        /// Whether a comment not yet printed starts before `offset`.
        func hasComment(before offset: Int) -> Bool { next < comments.count && comments[next].start < offset }

        /// Precedence levels, loosest first: or 1, and 2, not 3, comparison 4, negation 5, primary 6.
        static func level(_ expr: Expr) -> Int {
            switch expr.kind {
            case .or: 1
            case .and: 2
            case .unary(.not, _): 3
            case .binary: 4
            case .unary(.negate, _): 5
            case .number(let value) where value < 0 || (value == 0 && value.sign == .minus): 5
            default: 6
            }
        }

        /// A leaf (literal or path) as one line of text, its string literals as written.
        func flat(_ expr: Expr) -> String {
            switch expr.kind {
            case .string(let value): return literal(value, expr.span.start..<expr.span.end)
            case .number(let value): return JSONText.number(value)
            case .bool(let value): return String(value)
            case .regex(let pattern, let flags, _):
                let letters: [(String, CompiledRegex.Flags)] = [
                    ("i", .caseInsensitive), ("m", .multiline), ("s", .dotAll), ("x", .extended),
                ]
                return "/\(pattern)/" + letters.filter { flags.contains($0.1) }.map(\.0).joined()
            case .path(let segments):
                var out = ""
                segments.writeDotted(into: &out, source: file)
                return out
            default: return "null"
            }
        }

        /// The string literal `value` was parsed from at `range` of the file, as written; or, when no string
        /// literal stands there (a word reported unquoted), `value` written by ``string(_:)``.
        func literal(_ value: String, _ range: Range<Int>) -> String {
            Printer.sourceLiteral(in: file, range) ?? Printer.string(value)
        }

        /// The text of the string literal at `range` of `file`, if a double-quoted one stands there (a file
        /// that formats has no other: a single-quoted string is an error).
        static func sourceLiteral(in file: SourceFile, _ range: Range<Int>) -> String? {
            let bytes = file.bytes
            guard range.count >= 2, range.lowerBound >= 0, range.upperBound <= bytes.count,
                bytes[range.lowerBound] == UInt8(ascii: "\""), bytes[range.upperBound - 1] == UInt8(ascii: "\"")
            else { return nil }
            return String(decoding: bytes[range], as: UTF8.self)
        }

        /// A string literal of `value` in the rule language's own escapes, for a string that has no source text:
        /// `\"`, `\\`, `\n`, `\t` and `\r` by name, every other scalar that is hidden in text
        /// (``Unicode/Scalar/isHiddenInText``: controls, bidirectional and other format characters, line and
        /// paragraph separators, unusual spaces) as `\u{...}`, so that what prints is what the string holds and
        /// no scalar the lexer refuses as itself is written as itself. Everything else is written as itself.
        static func string(_ value: String) -> String { Spelling.quoted(value) }
    }

    /// Lays a ``Doc`` out in lines of at most ``lineLength``: a group goes on one line when it and what follows it
    /// up to the next possible break fit, and breaks every line of its own otherwise. A loop over an explicit stack,
    /// so a long chain costs no stack depth.
    struct Renderer {
        struct Command {
            var indent: Int
            var broken: Bool
            var doc: Doc
        }

        var lines: [String] = []
        var current = ""
        /// Set after a comment: the next text starts a new line.
        var needsNewline = false
        var endsWithComment = false

        static func render(_ doc: Doc) -> String {
            var renderer = Renderer()
            renderer.run(doc)
            renderer.finishLine()
            return renderer.lines.joined(separator: "\n")
        }

        var hasContent: Bool { current.contains { $0 != " " } }

        mutating func finishLine() {
            if !endsWithComment {
                while current.last == " " { current.removeLast() }
            }
            lines.append(current)
            current = ""
            endsWithComment = false
            needsNewline = false
        }

        mutating func newline(_ indent: Int) {
            if hasContent { finishLine() }
            current = String(repeating: " ", count: indent)
            needsNewline = false
        }

        mutating func write(_ text: String, _ indent: Int) {
            if needsNewline { newline(indent) }
            current += text
        }

        mutating func run(_ doc: Doc) {
            var stack = [Command(indent: 0, broken: true, doc: doc)]
            while let command = stack.popLast() {
                let indent = command.indent
                switch command.doc {
                case .text(let text): write(text, indent)
                case .line: if command.broken { newline(indent) } else { write(" ", indent) }
                case .softLine: if command.broken { newline(indent) }
                case .ifBroken(let text): if command.broken { write(text, indent) }
                case .comment(let text, let trailing):
                    if trailing && hasContent && !endsWithComment {
                        while current.last == " " { current.removeLast() }
                        current += "  " + text
                    } else {
                        if hasContent { finishLine() }
                        current = String(repeating: " ", count: indent) + text
                    }
                    endsWithComment = true
                    needsNewline = true
                case .fill(let items):
                    for (index, item) in items.enumerated() {
                        if index == 0 {
                            write(item, indent)
                        } else if !command.broken || current.count + 1 + item.count <= Formatter.lineLength {
                            write(" " + item, indent)
                        } else {
                            newline(indent)
                            write(item, indent)
                        }
                    }
                case .concat(let parts, _):
                    for part in parts.reversed() {
                        stack.append(Command(indent: indent, broken: command.broken, doc: part))
                    }
                case .indent(let inner, _):
                    stack.append(Command(indent: indent + 2, broken: command.broken, doc: inner))
                case .group(let inner, let hard):
                    let broken = hard || !fits(inner, rest: stack, indent: indent)
                    stack.append(Command(indent: indent, broken: broken, doc: inner))
                }
            }
        }

        /// Whether `doc` on one line, and what follows it up to the next line break, fit in the line.
        func fits(_ doc: Doc, rest: [Command], indent: Int) -> Bool {
            var width = Formatter.lineLength - (needsNewline ? indent : current.count)
            var stack = [(doc, true)]
            var restIndex = rest.count - 1
            while width >= 0 {
                guard let (doc, flat) = stack.popLast() else {
                    guard restIndex >= 0 else { return true }
                    stack.append((rest[restIndex].doc, !rest[restIndex].broken))
                    restIndex -= 1
                    continue
                }
                switch doc {
                case .text(let text): width -= text.count
                case .line: if flat { width -= 1 } else { return true }
                case .softLine: if !flat { return true }
                case .ifBroken(let text): if !flat { width -= text.count }
                case .comment: return true
                case .fill(let items):
                    if !flat { return true }
                    for item in items { width -= item.count + 1 }
                    width += 1
                case .concat(let parts, _): for part in parts.reversed() { stack.append((part, flat)) }
                case .indent(let inner, _): stack.append((inner, flat))
                case .group(let inner, let hard): stack.append((inner, flat && !hard))
                }
            }
            return false
        }
    }
}
