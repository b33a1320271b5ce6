import RolecallJSON
import RolecallRegex

/// Prints rule files in one canonical layout, keeping every comment (`rules fmt`).
///
/// The layout: a rule's name, condition and each action on lines of their own; one blank line between rules;
/// canonical spacing and the fewest parentheses that keep the tree the same; a condition longer than
/// ``lineLength`` broken before each top-level `and`/`or`. Comments on a line of their own stay before the
/// clause (name, condition, action or rule) that follows them, with a blank line after them where the source had
/// one; a comment after code stays at the end of that clause's line. Formatting never changes meaning (the AST is the same) and is idempotent; the tests check both.
public enum Formatter {
    /// Lines longer than this are broken at the condition's top-level `and`/`or`.
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

    struct Printer {
        let file: SourceFile
        let comments: [Span]
        var next = 0
        var out = ""

        init(file: SourceFile, comments: [Span]) {
            self.file = file
            self.comments = comments
        }

        /// A clause: the source it was written as, and the lines it prints as.
        struct Clause {
            var span: Span
            var lines: [String]
        }

        mutating func print(_ declarations: [Declaration]) -> String {
            for (index, declaration) in declarations.enumerated() {
                if index > 0 { out += "\n" }
                emitOwnLineComments(before: declaration.span.start)
                for clause in clauses(declaration) {
                    emitOwnLineComments(before: clause.span.start)
                    var lines = clause.lines
                    // Comments inside the clause or trailing it on its last source line go at the end of its last line.
                    let lastLineEnd = lineEnd(after: clause.span.end)
                    var trailing: [String] = []
                    while next < comments.count, comments[next].start < lastLineEnd,
                        comments[next].start < nextClauseStart(declaration, after: clause) ?? Int.max
                    {
                        trailing.append(file.text(comments[next]))
                        next += 1
                    }
                    if !trailing.isEmpty { lines[lines.count - 1] += "  " + trailing.joined(separator: " ") }
                    out += lines.joined(separator: "\n") + "\n"
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

        func hasBlankLine(from start: Int, to end: Int) -> Bool {
            var newlines = 0
            for byte in file.bytes[start..<min(end, file.bytes.count)] where byte == UInt8(ascii: "\n") {
                newlines += 1
            }
            return newlines >= 2
        }

        /// The offset of the end of the line `offset` is on.
        func lineEnd(after offset: Int) -> Int { file.lineEnd(after: offset) }

        func nextClauseStart(_ declaration: Declaration, after clause: Clause) -> Int? {
            clauses(declaration).map(\.span.start).first { $0 > clause.span.start }
        }

        func clauses(_ declaration: Declaration) -> [Clause] {
            let rule: Rule
            switch declaration {
            case .rule(let written): rule = written
            case .binding(let binding):
                let line = "let \(binding.name) = " + Printer.expression(binding.value)
                return [Clause(span: binding.span, lines: [line])]
            }
            var clauses: [Clause] = []
            if let name = rule.name, let nameSpan = rule.nameSpan {
                clauses.append(
                    Clause(span: Span(rule.span.start, nameSpan.end), lines: ["rule " + Printer.string(name)]))
            }
            if let condition = rule.condition {
                let start = clauses.isEmpty ? rule.span.start : condition.span.start
                clauses.append(Clause(span: Span(start, condition.span.end), lines: Printer.when(condition)))
            }
            for action in rule.actions {
                let text: String
                switch action.kind {
                case .assign(let roles):
                    text = "assign " + roles.map { Printer.string($0.name) }.joined(separator: ", ")
                case .revoke(let roles):
                    text = "revoke " + roles.map { Printer.string($0.name) }.joined(separator: ", ")
                case .revokeAll(let except):
                    text =
                        except.isEmpty
                        ? "revoke all"
                        : "revoke all except " + except.map { Printer.string($0.name) }.joined(separator: ", ")
                case .stop: text = "stop"
                }
                clauses.append(Clause(span: action.span, lines: [text]))
            }
            return clauses
        }

        /// `when CONDITION`, broken before each top-level `and`/`or` when it is too long.
        static func when(_ condition: Expr) -> [String] {
            let line = "when " + expression(condition)
            guard line.count > Formatter.lineLength else { return [line] }
            let (keyword, operands, operandLevel): (String, [Expr], Int)
            switch condition.kind {
            case .or(let items): (keyword, operands, operandLevel) = ("or", items, 2)
            case .and(let items): (keyword, operands, operandLevel) = ("and", items, 3)
            default: return [line]
            }
            return ["when " + expression(operands[0], level: operandLevel)]
                + operands.dropFirst().map { "  \(keyword) " + expression($0, level: operandLevel) }
        }

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

        /// `expr` in canonical form, parenthesised when its level is looser than `level` requires.
        static func expression(_ expr: Expr, level minimum: Int = 1) -> String {
            let text: String
            switch expr.kind {
            case .string(let value): text = string(value)
            case .number(let value): text = JSONText.number(value)
            case .bool(let value): text = String(value)
            case .null: text = "null"
            case .invalid: text = "null"
            case .regex(let pattern, let flags, _):
                let letters: [(String, CompiledRegex.Flags)] = [
                    ("i", .caseInsensitive), ("m", .multiline), ("s", .dotAll), ("x", .extended),
                ]
                text = "/\(pattern)/" + letters.filter { flags.contains($0.1) }.map(\.0).joined()
            case .list(let items): text = "[" + items.map { expression($0) }.joined(separator: ", ") + "]"
            case .path(let segments): text = segments.dotted
            case .call(let name, _, let arguments):
                text = name + "(" + arguments.map { expression($0) }.joined(separator: ", ") + ")"
            case .quantifier(let quantifier, let list, let name, _, let body):
                text = "\(quantifier.rawValue)(\(expression(list)), \(name), \(expression(body)))"
            case .unary(.not, let operand):
                // `not (a in b)` rather than `not a in b`: the same tree, but no reader mistakes it for `not in`.
                text = "not " + expression(operand, level: level(operand) == 4 ? 5 : 3)
            case .unary(.negate, let operand): text = "-" + expression(operand, level: 5)
            case .or(let operands):
                // An operand that is itself an `or` was parenthesised in the source: keep it so.
                text = operands.map { expression($0, level: 2) }.joined(separator: " or ")
            case .and(let operands):
                text = operands.map { expression($0, level: 3) }.joined(separator: " and ")
            case .binary(let op, let left, let right):
                text = expression(left, level: 5) + " \(op.rawValue) " + expression(right, level: 5)
            }
            return level(expr) < minimum ? "(" + text + ")" : text
        }

        /// A string literal in the rule language's own escapes.
        static func string(_ value: String) -> String {
            var out = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
    }
}
