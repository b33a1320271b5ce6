import RolecallJSON
import RolecallRegex

/// What a file declares at its top level, in source order.
public enum Declaration: Sendable, Equatable {
    /// A rule.
    case rule(Rule)
    /// `let NAME = EXPR`.
    case binding(Binding)
}

extension Declaration {
    /// From the declaration's first token to its last.
    public var span: Span {
        switch self {
        case .rule(let rule): rule.span
        case .binding(let binding): binding.span
        }
    }
}

/// `let NAME = EXPR`: a named condition or constant, visible in every file of the rule set.
public struct Binding: Sendable, Equatable {
    /// The name.
    public var name: String
    /// Where the name is written.
    public var nameSpan: Span
    /// The expression it stands for.
    public var value: Expr
    /// The file it is in.
    public var file: SourceFile
    /// From `let` to the end of the expression.
    public var span: Span

    /// Creates a binding.
    public init(name: String, nameSpan: Span, value: Expr, file: SourceFile, span: Span) {
        self.name = name
        self.nameSpan = nameSpan
        self.value = value
        self.file = file
        self.span = span
    }

    public static func == (lhs: Binding, rhs: Binding) -> Bool { lhs.name == rhs.name && lhs.value == rhs.value }
}

/// A parsed rule set: the rules of one or more files, in evaluation order.
public struct RuleSet: Sendable, Equatable {
    /// The rules, in order.
    public var rules: [Rule]

    /// A rule set of `rules`.
    public init(rules: [Rule]) { self.rules = rules }
}

/// One rule: an optional name, an optional condition, and one or more actions.
///
/// Equality ignores source positions (as Cedar's AST does), so tests compare trees without offsets.
public struct Rule: Sendable, Equatable {
    /// The name after `rule`, if one was written.
    public var name: String?
    /// The condition after `when`; nil means the rule always fires.
    public var condition: Expr?
    /// What the rule does when it fires.
    public var actions: [Action]
    /// The file the rule is in.
    public var file: SourceFile
    /// From the rule's first token to its last.
    public var span: Span
    /// The name's string literal, if any.
    public var nameSpan: Span?
    /// The rule's 1-based position among the rules of its file; set when the rule set is checked, 0 before.
    public var ordinal = 0
    /// The file as an anonymous rule's name shows it: its last path component, or as many trailing components
    /// as tell it apart from the other files of the rule set (set when the rule set is checked).
    public var fileLabel: String

    /// Creates a rule.
    public init(name: String?, condition: Expr?, actions: [Action], file: SourceFile, span: Span, nameSpan: Span? = nil)
    {
        self.name = name
        self.condition = condition
        self.actions = actions
        self.file = file
        self.span = span
        self.nameSpan = nameSpan
        self.fileLabel = file.lastComponent
    }

    /// The name decisions and reports use: the written name, or for an anonymous rule ``fileLabel`` and
    /// ``ordinal``, as in `default-roles.rules#3` (the third rule of that file).
    ///
    /// An anonymous rule's name does not depend on how the file's path was spelt (`./r.rules`, `r.rules`, an
    /// absolute path, the directory or the file named on the command line) nor on layout: `rules fmt` moves
    /// rules to other lines but never changes their order. It changes when rules are added or removed above it
    /// in its file; give a rule a name when something outside the rule set refers to it.
    public var displayName: String {
        if let name { return name }
        return "\(fileLabel)#\(ordinal)"
    }

    public static func == (lhs: Rule, rhs: Rule) -> Bool {
        lhs.name == rhs.name && lhs.condition == rhs.condition && lhs.actions == rhs.actions
    }
}

/// An action of a rule.
public struct Action: Sendable, Equatable {
    /// What the action does.
    public enum Kind: Sendable, Equatable {
        /// Adds these roles.
        case assign([Role])
        /// Removes these roles.
        case revoke([Role])
        /// `revoke all` (no exceptions) or `revoke all except R, ...`: removes every role the user has and every
        /// role an earlier fired rule assigned, except these.
        case revokeAll(except: [Role])
        /// Ends evaluation after this rule.
        case stop
    }

    /// What it does.
    public var kind: Kind
    /// From the keyword to the last role.
    public var span: Span

    /// Creates an action.
    public init(_ kind: Kind, span: Span) {
        self.kind = kind
        self.span = span
    }

    public static func == (lhs: Action, rhs: Action) -> Bool { lhs.kind == rhs.kind }
}

/// A role named in an action: a role name, or an Auth0 role id when it starts with `rol_`.
public struct Role: Sendable, Equatable {
    /// The role as written (decoded).
    public var name: String
    /// The string literal.
    public var span: Span

    /// Creates a role reference.
    public init(_ name: String, span: Span) {
        self.name = name
        self.span = span
    }

    public static func == (lhs: Role, rhs: Role) -> Bool { lhs.name == rhs.name }
}

/// An expression node. Equality ignores ``span``.
public struct Expr: Sendable, Equatable {
    /// What the expression is.
    public indirect enum Kind: Sendable, Equatable {
        /// `"text"`
        case string(String)
        /// `42`, `1.5`
        case number(Double)
        /// `true` / `false`
        case bool(Bool)
        /// `null`
        case null
        /// `/pattern/flags`; `patternStart` is the byte offset of the pattern in the source.
        case regex(pattern: String, flags: CompiledRegex.Flags, patternStart: Int)
        /// `[a, b, ...]`
        case list([Expr])
        /// `user.email`, `user.identities[0].provider`, `user.app_metadata["x-team"]`
        case path([PathSegment])
        /// `lower(x)`; `nameSpan` is the function's name.
        case call(name: String, nameSpan: Span, arguments: [Expr])
        /// `any(list, name, condition)` / `all(list, name, condition)`: `name` is bound to each element of
        /// `list` inside `body` only.
        case quantifier(Quantifier, list: Expr, name: String, nameSpan: Span, body: Expr)
        /// `not x`, `-x`
        case unary(UnaryOperator, Expr)
        /// `a and b and ...`: two or more operands, evaluated left to right. A chain is one node, however long.
        case and([Expr])
        /// `a or b or ...`: two or more operands, evaluated left to right.
        case or([Expr])
        /// `a == b`, `a in b`, ...
        case binary(BinaryOperator, Expr, Expr)
        /// Stands in for an expression that failed to parse (an error was already reported).
        case invalid

        public static func == (lhs: Kind, rhs: Kind) -> Bool {
            switch (lhs, rhs) {
            case (.string(let a), .string(let b)): a == b
            case (.number(let a), .number(let b)): a == b
            case (.bool(let a), .bool(let b)): a == b
            case (.null, .null), (.invalid, .invalid): true
            case (.regex(let a, let f, _), .regex(let b, let g, _)): a == b && f == g
            case (.list(let a), .list(let b)): a == b
            case (.path(let a), .path(let b)): a == b
            case (.call(let a, _, let x), .call(let b, _, let y)): a == b && x == y
            case (.quantifier(let q, let l, let n, _, let c), .quantifier(let r, let m, let o, _, let d)):
                q == r && l == m && n == o && c == d
            case (.unary(let o, let a), .unary(let p, let b)): o == p && a == b
            case (.and(let a), .and(let b)), (.or(let a), .or(let b)): a == b
            case (.binary(let o, let a, let c), .binary(let p, let b, let d)): o == p && a == b && c == d
            default: false
            }
        }
    }

    /// What the expression is.
    public var kind: Kind
    /// The source it was parsed from.
    public var span: Span

    /// Creates an expression.
    public init(_ kind: Kind, span: Span) {
        self.kind = kind
        self.span = span
    }

    public static func == (lhs: Expr, rhs: Expr) -> Bool { lhs.kind == rhs.kind }
}

/// One step of a path.
public enum PathSegment: Sendable, Equatable, Hashable {
    /// `.name` or `["name"]`
    case key(String, span: Span)
    /// `[0]`
    case index(Int, span: Span)

    /// Where the segment is written.
    public var span: Span {
        switch self {
        case .key(_, let span), .index(_, let span): span
        }
    }

    public static func == (lhs: PathSegment, rhs: PathSegment) -> Bool {
        switch (lhs, rhs) {
        case (.key(let a, _), .key(let b, _)): a == b
        case (.index(let a, _), .index(let b, _)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .key(let name, _): hasher.combine(name)
        case .index(let index, _): hasher.combine(index)
        }
    }
}

/// A list quantifier.
public enum Quantifier: String, Sendable, Equatable, CaseIterable {
    /// True when the condition holds for at least one element.
    case any
    /// True when the condition holds for every element (`all` of `[]` is true).
    case all
}

/// A prefix operator.
public enum UnaryOperator: String, Sendable, Equatable {
    case not
    case negate = "-"
}

/// A comparison operator (`and` and `or` are n-ary nodes of their own, see ``Expr/Kind/and(_:)``).
public enum BinaryOperator: String, Sendable, Equatable, CaseIterable {
    case equal = "==", notEqual = "!="
    case less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case `in`
    case notIn = "not in"
    case contains
    case startsWith = "starts_with"
    case endsWith = "ends_with"
    case matches
}

extension [PathSegment] {
    /// The path as it would be written, the one path printer (formatter, messages, traces):
    /// `user.identities[0].provider`; a key that is not an identifier, or a keyword at the root, is quoted in
    /// brackets (`user.app_metadata["x-team"]`, `["in"].x`). A negative index, which no rule can write, is every
    /// element of a list, `[*]` (the event reader's messages about the elements of a quantified list).
    public var dotted: String {
        var out = ""
        writeDotted(into: &out)
        return out
    }

    /// ``dotted``, appended to `out` (the lints print a path into the text of its conjunct, for every rule). With
    /// `source`, the file the path was parsed from, a quoted key is written as its string literal there (the
    /// formatter keeps the spelling of every literal).
    func writeDotted(into out: inout String, source: SourceFile? = nil) {
        for (position, segment) in enumerated() {
            switch segment {
            case .key(let name, _):
                let bytes = name.utf8
                let plain =
                    !bytes.isEmpty && Lexer.isIdentifierStart(bytes.first!)
                    && bytes.allSatisfy(Lexer.isIdentifierContinue)
                if plain && (position > 0 || Keyword(spelling: bytes) == nil) {
                    if position > 0 { out += "." }
                    out += name
                } else {
                    let written = source.flatMap { file in
                        segment.span.start < segment.span.end
                            ? Formatter.Printer.sourceLiteral(in: file, segment.span.start..<segment.span.end) : nil
                    }
                    out += "[" + (written ?? Formatter.Printer.string(name)) + "]"
                }
            case .index(let index, _): out += index < 0 ? "[*]" : "[\(index)]"
            }
        }
    }
}

/// The labels that tell the files of a rule set apart in the names of anonymous rules.
enum RuleFileLabels {
    /// A path's components after lexical normalisation: no empty or `.` components, `a/../` removed.
    static func components(of path: String) -> [String] {
        var parts: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else {
                parts.append(String(part))
            }
        }
        return parts
    }

    /// For each path, the shortest run of trailing components that no other file of the set ends with (the
    /// file name alone unless two files share it). The same file named twice gets the same label.
    static func labels(for paths: [String]) -> [String] {
        let components = paths.map(components(of:))
        var labels = components.map { $0.last ?? "" }
        var depth = 1
        var pending = Array(components.indices)
        while !pending.isEmpty {
            // Files whose current label another, different file shares need one more component.
            var owners: [String: Set<[String]>] = [:]
            for index in components.indices { owners[labels[index], default: []].insert(components[index]) }
            pending = pending.filter { (owners[labels[$0]]?.count ?? 0) > 1 && components[$0].count > depth }
            depth += 1
            for index in pending { labels[index] = components[index].suffix(depth).joined(separator: "/") }
        }
        return labels
    }
}
