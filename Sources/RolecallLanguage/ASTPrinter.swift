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
        switch expr.kind {
        case .string(let text): return JSONText.quote(text)
        case .number(let value): return JSONText.number(value)
        case .bool(let value): return String(value)
        case .null: return "null"
        case .regex(let pattern, let flags, _):
            let letters: String = [
                ("i", CompiledRegex.Flags.caseInsensitive), ("m", .multiline), ("s", .dotAll), ("x", .extended),
            ]
            .filter { flags.rawValue & $0.1.rawValue != 0 }.map(\.0).joined()
            return "/\(pattern)/\(letters)"
        case .list(let items): return "[" + items.map(print).joined(separator: " ") + "]"
        case .path(let segments): return segments.dotted
        case .call(let name, _, let arguments): return "(\(name) " + arguments.map(print).joined(separator: " ") + ")"
        case .quantifier(let quantifier, let list, let name, _, let body):
            return "(\(quantifier.rawValue) \(print(list)) \(name) \(print(body)))"
        case .unary(let op, let operand): return "(\(op.rawValue) \(print(operand)))"
        case .and(let operands): return "(and " + operands.map(print).joined(separator: " ") + ")"
        case .or(let operands): return "(or " + operands.map(print).joined(separator: " ") + ")"
        case .binary(let op, let left, let right): return "(\(op.rawValue) \(print(left)) \(print(right)))"
        case .invalid: return "<invalid>"
        }
    }
}
