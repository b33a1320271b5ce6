import RolecallJSON
import RolecallRegex

/// A canonical, position-free S-expression form of the AST, for tests and debugging.
///
/// `when logins_count == 1 assign "member"` prints as `(rule _ (== logins_count 1) (assign "member"))`.
public enum ASTPrinter {
    /// One line per rule.
    public static func print(_ rules: [Rule]) -> String {
        rules.map(print).joined(separator: "\n")
    }

    /// A rule: `(rule NAME CONDITION ACTION...)`, with `_` for a missing name or condition.
    public static func print(_ rule: Rule) -> String {
        var parts = ["rule", rule.name.map(JSONText.quote) ?? "_", rule.condition.map(print) ?? "_"]
        for action in rule.actions {
            switch action.kind {
            case .assign(let roles):
                parts.append("(assign " + roles.map { JSONText.quote($0.name) }.joined(separator: " ") + ")")
            case .revoke(let roles):
                parts.append("(revoke " + roles.map { JSONText.quote($0.name) }.joined(separator: " ") + ")")
            case .revokeAll(let except):
                parts.append("(revoke-all" + except.map { " " + JSONText.quote($0.name) }.joined() + ")")
            case .stop: parts.append("(stop)")
            }
        }
        return "(" + parts.joined(separator: " ") + ")"
    }

    /// An expression: literals as written canonically, paths dotted, operators prefix.
    public static func print(_ expr: Expr) -> String {
        var out = ""
        write(expr, into: &out)
        return out
    }

    /// `print(_:)` of an expression, appending to one string: the lints print every conjunct of every rule to tell equal
    /// conditions apart, so this avoids the intermediate strings of each node.
    static func write(_ expr: Expr, into out: inout String) {
        func all(_ items: [Expr]) {
            for (position, item) in items.enumerated() {
                if position > 0 { out += " " }
                write(item, into: &out)
            }
        }
        switch expr.kind {
        case .string(let text): quote(text, into: &out)
        case .number(let value): out += JSONText.number(value)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .regex(let pattern, let flags, _):
            let letters: String = [
                ("i", CompiledRegex.Flags.caseInsensitive), ("m", .multiline), ("s", .dotAll), ("x", .extended),
            ]
            .filter { flags.rawValue & $0.1.rawValue != 0 }.map(\.0).joined()
            out += "/\(pattern)/\(letters)"
        case .list(let items):
            out += "["
            all(items)
            out += "]"
        case .path(let segments): segments.writeDotted(into: &out)
        case .call(let name, _, let arguments):
            out += "(\(name) "
            all(arguments)
            out += ")"
        case .quantifier(let quantifier, let list, let name, _, let body):
            out += "(\(quantifier.rawValue) "
            write(list, into: &out)
            out += " \(name) "
            write(body, into: &out)
            out += ")"
        case .unary(let op, let operand):
            out += "(\(op.rawValue) "
            write(operand, into: &out)
            out += ")"
        case .and(let operands):
            out += "(and "
            all(operands)
            out += ")"
        case .or(let operands):
            out += "(or "
            all(operands)
            out += ")"
        case .binary(let op, let left, let right):
            out += "("
            out += op.rawValue
            out += " "
            write(left, into: &out)
            out += " "
            write(right, into: &out)
            out += ")"
        case .invalid: out += "<invalid>"
        }
    }

    /// `JSONText.quote(text)`, appended; a string with nothing to escape (no `"`, `\\` or control character) is
    /// its own text in quotes.
    static func quote(_ text: String, into out: inout String) {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out += "\""
            out += text
            out += "\""
        } else {
            out += JSONText.quote(text)
        }
    }
}
