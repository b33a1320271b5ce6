import RolecallRegex

/// A value known when the rules load: a literal or a folded constant expression.
public indirect enum Constant: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([Constant])

    /// Deep JSON equality: `1 == 1.0`, lists element by element.
    public static func == (lhs: Constant, rhs: Constant) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
        case (.list(let a), .list(let b)): a == b
        default: false
        }
    }
}

/// The functions rules can call.
public enum Function: String, Sendable, CaseIterable {
    /// `lower(s)`: the string in lower case (Unicode), `null` for `null`.
    case lower
    /// `upper(s)`: the string in upper case (Unicode), `null` for `null`.
    case upper
    /// `length(x)`: Unicode scalars of a string, elements of a list, members of an object; `null` for `null`.
    case length
    /// `days_since(t)`: days (fractional) from the RFC 3339 timestamp string `t` to the evaluation clock;
    /// `null` for `null`.
    case daysSince = "days_since"
}

/// A type-checked expression, ready to compile: paths resolved from the root, regexes compiled,
/// constants folded. Every node keeps its source span for errors and traces.
public struct CheckedExpr: Sendable {
    /// What the node computes.
    public indirect enum Kind: Sendable {
        case constant(Constant)
        /// A field of the event, from the root (aliases expanded).
        case path([PathSegment])
        /// A list literal with at least one non-constant element.
        case list([CheckedExpr])
        case call(Function, CheckedExpr)
        case not(CheckedExpr)
        case negate(CheckedExpr)
        /// Two or more operands, left to right.
        case and([CheckedExpr])
        /// Two or more operands, left to right.
        case or([CheckedExpr])
        /// Any comparison but `matches`.
        case compare(BinaryOperator, CheckedExpr, CheckedExpr)
        /// `subject matches pattern`, the pattern compiled at load.
        case matches(CheckedExpr, CompiledRegex)
        /// `any(list, name, body)` / `all(...)`: `variable` numbers the bound name by nesting depth within the
        /// rule (0 for the outermost quantifier), `name` is as written.
        case quantifier(Quantifier, list: CheckedExpr, variable: Int, name: String, body: CheckedExpr)
        /// The element bound by an enclosing quantifier (`variable` as there), and the path below it
        /// (`m.name` is `local(0, [.key("name")])`; `m` alone has an empty path).
        case local(Int, name: String, [PathSegment])
        /// A `let` name used in a rule: the binding's checked expression, expanded where it is used (so lints and
        /// coverage see through it), and the binding's file, since its spans are in that file.
        case named(String, CheckedExpr, file: SourceFile)
    }

    /// What the node computes.
    public var kind: Kind
    /// Where it was written.
    public var span: Span
}

/// A rule after checking: its condition checked, its actions gathered.
public struct CheckedRule: Sendable {
    /// The parsed rule.
    public var rule: Rule
    /// The name decisions report (the written name, or `FILE:LINE`).
    public var name: String
    /// The checked condition; nil when the rule always fires.
    public var condition: CheckedExpr?
    /// Each role this rule assigns or revokes, in the order written.
    public var effects: [(role: String, assign: Bool)]
    /// For `revoke all [except R, ...]`: the roles excepted (empty for a plain `revoke all`); nil without one.
    /// It applies before the rule's own ``effects``, so `revoke all` and `assign "x"` in one rule leave `x`.
    public var revokeAll: [String]?
    /// Whether the rule ends evaluation when it fires.
    public var stops: Bool
}

/// The result of checking a rule set: the rules (usable only when there are no errors) and every diagnostic.
public struct CheckedRuleSet: Sendable {
    /// The checked rules, in evaluation order.
    public var rules: [CheckedRule]
    /// Every error and warning, sorted by file and position.
    public var diagnostics: [Diagnostic]
    /// The files, in rule-set order.
    public var files: [SourceFile]

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}
