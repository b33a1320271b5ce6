import RolecallJSON

/// Stable diagnostic codes. They never change meaning; new ones are added as the language grows.
public enum DiagnosticCode: String, Sendable, Hashable, CaseIterable {
    // lexer
    case invalidUTF8 = "invalid-utf8"
    case unexpectedCharacter = "unexpected-character"
    case bidiControl = "bidi-control"
    case hiddenCharacter = "hidden-character"
    case unterminatedString = "unterminated-string"
    case invalidEscape = "invalid-escape"
    case unterminatedRegex = "unterminated-regex"
    case invalidRegexFlag = "invalid-regex-flag"
    case singleEquals = "single-equals"
    case invalidNumber = "invalid-number"
    case singleQuotedString = "single-quoted-string"
    // parser
    case syntax = "syntax"
    case unknownKeyword = "unknown-keyword"
    case chainedComparison = "chained-comparison"
    case nestingTooDeep = "nesting-too-deep"
    case emptyRole = "empty-role"
    case unquotedString = "unquoted-string"
    // checker
    case unknownRoot = "unknown-root"
    case unknownField = "unknown-field"
    case unknownFunction = "unknown-function"
    case wrongArity = "wrong-arity"
    case typeMismatch = "type-mismatch"
    case invalidRegex = "invalid-regex"
    case patternNotLiteral = "pattern-not-literal"
    case duplicateRule = "duplicate-rule"
    case assignAndRevoke = "assign-and-revoke"
    case unreachableRule = "unreachable-rule"
    case duplicateBinding = "duplicate-binding"
    case invalidName = "invalid-name"
    case recursiveBinding = "recursive-binding"
    case unusedBinding = "unused-binding"
    case duplicateRevokeAll = "duplicate-revoke-all"
    case invalidTimestamp = "invalid-timestamp"
    case exceptByID = "except-by-id"
    case constantCondition = "constant-condition"
    // lints
    case firstLoginCount = "first-login-count"
    case contradiction = "contradiction"
    case overriddenEffect = "overridden-effect"
    case userEditableField = "user-editable-field"
    case anchorAlternation = "anchor-alternation"
    case unanchoredDomain = "unanchored-domain"
    case unescapedDot = "unescaped-dot"
}

/// Every message the lexer, parser and checker print, in one place, so the wording stays consistent:
/// lowercase, no final period, user input in backticks, advice in `help`.
extension Diagnostic {
    // MARK: lexer

    static func invalidUTF8(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .invalidUTF8, "invalid UTF-8 byte in rule file", file: file, span: span,
            help: "rule files must be UTF-8 text")
    }

    static func bidiControl(in place: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        let scalar = file.text(span).unicodeScalars.first.map { String($0.value, radix: 16, uppercase: true) } ?? "?"
        return Diagnostic(
            .error, .bidiControl,
            "bidirectional control character U+\(scalar) in \(place): the text can read differently than it runs",
            file: file, span: span,
            help: place == "a string"
                ? "write it as an escape, `\\u{\(scalar.lowercased())}`, if it is meant" : "remove it")
    }

    /// A control, format, line-separating or unusual space character written as itself in a string: it prints
    /// as nothing or as something else (a lone carriage return can make the rest of a line look like the next
    /// one), so the string would not be what it looks like.
    /// `place`: "a string" or "a regex", whose escapes differ (`\u{200b}` in a string, PCRE2's `\x{200b}` in a
    /// pattern).
    static func hiddenCharacter(_ scalar: Unicode.Scalar, in place: String, _ file: SourceFile, _ span: Span)
        -> Diagnostic
    {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let escape =
            place == "a regex" ? "\\x{\(String(scalar.value, radix: 16))}" : HumanText.escape(scalar)
        return Diagnostic(
            .error, .hiddenCharacter,
            "invisible character U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex) in \(place): the text "
                + "can read differently than it runs",
            file: file, span: span,
            help: "write it as an escape, `\(escape)`, if it is meant")
    }

    static func unexpectedCharacter(_ file: SourceFile, _ span: Span) -> Diagnostic {
        let text = file.text(span)
        let scalars = text.unicodeScalars.count
        let message =
            switch scalars {
            case 1: "unexpected character `\(text)`"
            case 2...16: "unexpected characters `\(text)`"
            default: "\(scalars) unexpected characters, starting `\(String(text.unicodeScalars.prefix(16)))`"
            }
        return Diagnostic(.error, .unexpectedCharacter, message, file: file, span: span)
    }

    static func unterminatedString(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .unterminatedString, "unterminated string", file: file, span: span,
            help: "add a closing `\"` before the end of the line")
    }

    static func invalidEscape(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .invalidEscape, "invalid escape `\(file.text(span))` in string", file: file, span: span,
            help: "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\u{...}`")
    }

    static func invalidUnicodeEscape(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .invalidEscape, "invalid unicode escape `\(file.text(span))`", file: file, span: span,
            help: "write 1 to 6 hex digits of a Unicode scalar value, e.g. `\\u{e9}`")
    }

    static func unterminatedRegex(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .unterminatedRegex, "unterminated regex", file: file, span: span,
            help: "add a closing `/` before the end of the line; write `\\/` for a slash inside the pattern")
    }

    static func invalidRegexFlag(_ file: SourceFile, _ span: Span, flag: Character) -> Diagnostic {
        Diagnostic(
            .error, .invalidRegexFlag, "invalid regex flag `\(flag)`", file: file, span: span,
            help: "the flags are `i`, `m`, `s` and `x`, each at most once")
    }

    static func singleEquals(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .singleEquals, "`=` is not an operator", file: file, span: span,
            help: "use `==` to compare values")
    }

    static func bangNotOperator(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .unexpectedCharacter, "`!` is not an operator", file: file, span: span,
            help: "use `not` to negate, or `!=` to compare")
    }

    /// `&&`, `||` (or one `&`, `|`): `keyword` is the word the language uses instead.
    static func symbolicLogicalOperator(_ keyword: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .unexpectedCharacter, "`\(file.text(span))` is not an operator", file: file, span: span,
            help: "write `\(keyword)`")
    }

    /// `'admin'`: `value` is the string's contents.
    static func singleQuotedString(_ value: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .singleQuotedString, "strings are written in double quotes", file: file, span: span,
            help: "write `\(Formatter.Printer.string(value))`")
    }

    static func invalidNumber(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(.error, .invalidNumber, "invalid number `\(file.text(span))`", file: file, span: span)
    }

    static func numberOutOfRange(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(.error, .invalidNumber, "number `\(file.text(span))` is too large", file: file, span: span)
    }

    // MARK: parser

    static func expected(_ what: String, found: Token, _ file: SourceFile) -> Diagnostic {
        Diagnostic(
            .error, .syntax, "expected \(what), found \(found.display)", file: file, span: found.span,
            help: keywordSuggestion(found, among: Keyword.allCases),
            fix: keywordFix(found, among: Keyword.allCases, file))
    }

    static func expectedRuleStart(found: Token, _ file: SourceFile) -> Diagnostic {
        if let misspelled = misspelledKeyword(found, among: Keyword.structural, file) { return misspelled }
        var help: String?
        if found.kind == .keyword(.assign) || found.kind == .keyword(.revoke) || found.kind == .keyword(.stop) {
            help = "a rule without a condition needs a name: `rule \"name\" \(Token.spelling(found.kind)) ...`"
        }
        return Diagnostic(
            .error, .syntax, "expected `rule` or `when` to start a rule, found \(found.display)",
            file: file, span: found.span, help: help)
    }

    static func expectedAction(found: Token, afterCondition: Bool, _ file: SourceFile) -> Diagnostic {
        let what =
            afterCondition ? "an operator or `assign`, `revoke` or `stop`" : "`when`, `assign`, `revoke` or `stop`"
        let candidates = (afterCondition ? Keyword.infix + Keyword.structural : [.when] + Keyword.structural)
        if let misspelled = misspelledKeyword(found, among: candidates, file) { return misspelled }
        return Diagnostic(
            .error, .syntax, "expected \(what), found \(found.display)", file: file, span: found.span,
            help: found.kind == .endOfFile ? "every rule needs at least one action" : nil)
    }

    /// `when ... then assign ...`; `fixed` is the rule's start without `then`, once its action is known.
    static func thenAfterCondition(_ file: SourceFile, _ span: Span, fixed: String?) -> Diagnostic {
        let shown = fixed.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        return Diagnostic(
            .error, .syntax, "rules read `when ... assign ...`, without `then`", file: file, span: span,
            help: shown.map { $0.count <= 100 ? "remove `then`: `\($0)`" : nil } ?? "remove `then`")
    }

    /// A rule that ends (at the next rule or the end of the file) before any action; `span` is its `when`, or its
    /// name when it has no condition.
    static func missingAction(_ file: SourceFile, _ span: Span, hasCondition: Bool) -> Diagnostic {
        Diagnostic(
            .error, .syntax, "rule has no action", file: file, span: span,
            help: "end it with `assign \"ROLE\"`, `revoke \"ROLE\"` or `stop`"
                + (hasCondition ? " after the condition" : ""))
    }

    /// A word where a string was meant (`acme-okta`, `DE`), or `True`, `False`, `NULL`; `fixed` is the code
    /// around it with the word quoted (or the literal in lower case).
    static func unquotedString(_ word: String, fixed: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        if ["true", "false", "null"].contains(word.lowercased()) {
            return Diagnostic(
                .error, .unquotedString, "`\(word)` is not a literal: `true`, `false` and `null` are lower case",
                file: file, span: span, help: "write `\(fixed)`")
        }
        return Diagnostic(
            .error, .unquotedString, "`\(word)` is not a field: strings need quotes", file: file, span: span,
            help: "write `\(fixed)`")
    }

    static func expectedAfterActions(found: Token, _ file: SourceFile) -> Diagnostic {
        if let misspelled = misspelledKeyword(found, among: Keyword.structural, file) { return misspelled }
        return Diagnostic(
            .error, .syntax, "expected `assign`, `revoke`, `stop` or a new rule, found \(found.display)",
            file: file, span: found.span,
            help: found.kind == .string ? "separate role names with `,`" : nil)
    }

    static func expectedAfterBinding(found: Token, _ file: SourceFile) -> Diagnostic {
        if let misspelled = misspelledKeyword(found, among: Keyword.structural, file) { return misspelled }
        return Diagnostic(
            .error, .syntax, "expected a new rule or `let` after the expression, found \(found.display)",
            file: file, span: found.span,
            help: "`let NAME = EXPR` names one expression; combine conditions with `and` / `or`")
    }

    static func quantifierName(_ quantifier: String, found: Token, _ file: SourceFile) -> Diagnostic {
        Diagnostic(
            .error, .syntax, "expected a name for each element of the list, found \(found.display)",
            file: file, span: found.span,
            help: "write `\(quantifier)(LIST, NAME, CONDITION)`, e.g. "
                + "`\(quantifier)(user.identities, i, i.provider == \"google-oauth2\")`")
    }

    static func quantifierCondition(_ quantifier: String, name: String, found: Token, _ file: SourceFile)
        -> Diagnostic
    {
        Diagnostic(
            .error, .syntax,
            "expected `,` and a condition after the name `\(name)`, found \(found.display)", file: file,
            span: found.span,
            help: "`\(quantifier)` takes the list, a name for each element, then the condition: "
                + "`\(quantifier)(user.identities, \(name), \(name).provider == \"google-oauth2\")`")
    }

    /// "unknown keyword" with a did-you-mean, when `found` is an identifier spelt like one of `keywords`.
    static func misspelledKeyword(_ found: Token, among keywords: [Keyword], _ file: SourceFile) -> Diagnostic? {
        guard let help = keywordSuggestion(found, among: keywords) else { return nil }
        return Diagnostic(
            .error, .unknownKeyword, "unknown keyword `\(found.text)`", file: file, span: found.span, help: help,
            fix: keywordFix(found, among: keywords, file))
    }

    static func expectedExpression(found: Token, _ file: SourceFile) -> Diagnostic {
        Diagnostic(
            .error, .syntax, "expected an expression, found \(found.display)", file: file, span: found.span,
            help: found.kind == .endOfFile || found.kind == .keyword(.assign)
                ? "the condition after `when` is incomplete" : nil)
    }

    static func unclosed(_ bracket: String, opened: Span, found: Token, _ file: SourceFile) -> Diagnostic {
        let closing = bracket == "(" ? ")" : "]"
        return Diagnostic(
            .error, .syntax, "expected `\(closing)`, found \(found.display)", file: file,
            span: found.span, notes: [Note(message: "to match this `\(bracket)`", file: file, span: opened)])
    }

    static func chainedComparison(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .chainedComparison, "comparisons cannot be chained", file: file, span: span,
            help: "join two comparisons with `and`, or add parentheses")
    }

    static func nestingTooDeep(_ file: SourceFile, _ span: Span, limit: Int) -> Diagnostic {
        Diagnostic(
            .error, .nestingTooDeep, "expression nests more than \(limit) levels deep", file: file, span: span,
            help: "split the condition into simpler parts")
    }

    static func badIndex(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .syntax, "list index `\(file.text(span))` is not a non-negative integer", file: file,
            span: span)
    }

    static func emptyRole(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(.error, .emptyRole, "role name is empty", file: file, span: span)
    }

    // MARK: checker

    /// `path` is the whole path as written: `event.user.email` (the Auth0 Action's spelling) gets its own advice.
    static func unknownRoot(
        _ name: String, _ file: SourceFile, _ span: Span, roots: [String], path: [PathSegment] = []
    ) -> Diagnostic {
        if name == "event", path.count >= 2, case .key(let next, let nextSpan) = path[1], roots.contains(next) {
            return Diagnostic(
                .error, .unknownRoot, "rules read the event's fields directly: drop `event.`", file: file,
                span: Span(span.start, nextSpan.start), help: "write `\(Array(path.dropFirst()).dotted)`")
        }
        let guess = suggest(name, among: roots)
        return Diagnostic(
            .error, .unknownRoot, "unknown field `\(name)`", file: file, span: span,
            help: guess.map { "did you mean `\($0)`?" }
                ?? "paths start at a field of the post-login event, such as `user`, `stats` or `request`",
            fix: Diagnostic.Fix.replacing(name, in: file, span, with: guess))
    }

    /// `field` is the unknown name as written at `fieldSpan` and `guess` the known one closest to it, which the
    /// quick fix writes there.
    static func unknownField(
        _ path: String, suggestion: String?, _ file: SourceFile, _ span: Span,
        field: String = "", fieldSpan: Span? = nil, guess: String? = nil
    ) -> Diagnostic {
        Diagnostic(
            .warning, .unknownField, "unknown field `\(path)`", file: file, span: span,
            help: suggestion.map { "did you mean `\($0)`?" }
                ?? "the post-login event has no such field; it reads as `null`",
            fix: fieldSpan.flatMap { Diagnostic.Fix.replacing(field, in: file, $0, with: guess) })
    }

    static func notAnObject(_ path: String, type: String, field: String, _ file: SourceFile, _ span: Span) -> Diagnostic
    {
        Diagnostic(.error, .typeMismatch, "`\(path)` is \(type), it has no field `\(field)`", file: file, span: span)
    }

    static func unknownFunction(_ name: String, _ file: SourceFile, _ span: Span, functions: [String]) -> Diagnostic {
        Diagnostic(
            .error, .unknownFunction, "unknown function `\(name)`", file: file, span: span,
            help: suggest(name, among: functions).map { "did you mean `\($0)`?" }
                ?? "the functions are " + functions.map { "`\($0)`" }.joined(separator: ", "),
            fix: Diagnostic.Fix.replacing(name, in: file, span, with: suggest(name, among: functions)))
    }

    static func wrongArity(_ name: String, expected: Int, found: Int, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .wrongArity,
            "`\(name)` takes \(expected) argument\(expected == 1 ? "" : "s"), found \(found)", file: file, span: span)
    }

    static func typeMismatch(_ message: String, _ file: SourceFile, _ span: Span, help: String? = nil) -> Diagnostic {
        Diagnostic(.error, .typeMismatch, message, file: file, span: span, help: help)
    }

    static func notBoolean(
        _ context: String, _ found: String, text: String, isRegex: Bool, _ file: SourceFile, _ span: Span
    )
        -> Diagnostic
    {
        typeMismatch(
            "\(context) is \(found), not a boolean", file, span,
            // `"admin" != null` would be always true: no such advice for a literal.
            help: isRegex || text.hasPrefix("\"") || Double(text) != nil
                ? nil : "compare it with a value, e.g. `\(text) != null`")
    }

    static func regexOutsideMatches(_ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch("a regex can only be the pattern of `matches`", file, span)
    }

    static func cannotNegate(_ found: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch("cannot negate \(found)", file, span)
    }

    static func listHasNoField(_ path: String, field: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch(
            "`\(path)` is a list, it has no field `\(field)`", file, span,
            help: "pick an element first, e.g. `\(path)[0].\(field)`")
    }

    static func notIndexable(_ path: String, type: String, index: Int, _ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch("`\(path)` is \(type), it cannot be indexed with `[\(index)]`", file, span)
    }

    static func functionTakesString(_ name: String, found: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch("`\(name)` takes a string, not \(found)", file, span)
    }

    static func lengthArgument(found: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch("`length` takes a string, a list or an object, not \(found)", file, span)
    }

    static func quotedNumberHelp(_ text: String?) -> String? {
        text.map { "write `\($0)` without quotes to compare numbers" }
    }

    static func neverEqual(
        _ left: String, _ right: String, notEqual: Bool, quotedNumber: String?, _ file: SourceFile, _ span: Span
    ) -> Diagnostic {
        typeMismatch(
            "comparing \(left) with \(right) is always \(notEqual)", file, span, help: quotedNumberHelp(quotedNumber))
    }

    static func orderingOperand(_ op: String, found: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch("`\(op)` compares numbers or strings, not \(found)", file, span)
    }

    static func orderingMismatch(
        _ op: String, _ left: String, _ right: String, quotedNumber: String?, _ file: SourceFile, _ span: Span
    ) -> Diagnostic {
        typeMismatch("`\(op)` cannot compare \(left) with \(right)", file, span, help: quotedNumberHelp(quotedNumber))
    }

    /// `in` with a non-list on the right; `left` is given when the right side is a string (a substring search).
    static func membershipNeedsList(
        _ op: String, right: String, found: String, left: String?, _ file: SourceFile, _ span: Span
    ) -> Diagnostic {
        typeMismatch(
            "`\(op)` needs a list on the right, `\(right)` is \(found)", file, span,
            help: left.map { "to look for a substring, write `\(right) contains \($0)`" })
    }

    /// `help`: a quantifier to use instead, when the list is a list of objects (see ``quantifierHelp(_:)``).
    static func neverIn(
        _ value: String, _ text: String, list: String, _ file: SourceFile, _ span: Span, help: String? = nil
    ) -> Diagnostic {
        let noun = value.hasPrefix("a ") ? String(value.dropFirst(2)) : value
        return typeMismatch("\(noun) `\(text)` can never be in \(list)", file, span, help: help)
    }

    /// `fixed` tests a field of each element: `any(user.identities, i, i.provider == "admin")`.
    static func quantifierHelp(_ fixed: String) -> String {
        "a list of objects holds no strings; test a field of each element: `\(fixed)`"
    }

    /// `or "@acme.de"` after `user.email ends_with "@acme.com"`: `fixed` repeats the comparison's left side.
    static func literalAfterComparison(
        _ keyword: String, _ text: String, fixed: String, addToList: Bool, _ file: SourceFile, _ span: Span
    ) -> Diagnostic {
        typeMismatch(
            "`\(keyword)` joins conditions, and `\(text)` alone is not one", file, span,
            help: (addToList ? "add it to the list: " : "repeat the left side: ") + "`\(fixed)`")
    }

    static func stringContainsNonString(found: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch("a string can only contain a string, not \(found)", file, span)
    }

    static func listNeverContains(
        _ list: String, _ value: String, _ file: SourceFile, _ span: Span, help: String? = nil
    ) -> Diagnostic {
        typeMismatch("\(list) never contains \(value)", file, span, help: help)
    }

    static func containsNeedsContainer(_ text: String, found: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch("`contains` needs a string or a list on the left, `\(text)` is \(found)", file, span)
    }

    static func affixNeedsStrings(_ op: String, _ text: String, found: String, _ file: SourceFile, _ span: Span)
        -> Diagnostic
    {
        typeMismatch("`\(op)` compares strings, `\(text)` is \(found)", file, span)
    }

    static func matchesNeedsString(_ text: String, found: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        typeMismatch("`matches` searches a string, `\(text)` is \(found)", file, span)
    }

    static func invalidRegex(_ message: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(.error, .invalidRegex, "invalid regex: \(message)", file: file, span: span)
    }

    /// `(*NO_JIT)`, `(*LIMIT_MATCH=1)`, `(*CR)`...: PCRE2 options a pattern would set for itself.
    static func regexStartOption(_ option: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .invalidRegex, "invalid regex: `\(option)` sets a PCRE2 matching option, which rules cannot change",
            file: file, span: span,
            help: "remove `\(option)`; the flags after the closing slash (`i`, `m`, `s`, `x`) are the options rules set"
        )
    }

    static func patternNotLiteral(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .patternNotLiteral, "the pattern of `matches` must be a regex or string literal",
            file: file, span: span,
            help: "patterns are compiled when the rules load, so they cannot come from the event")
    }

    static func duplicateBinding(_ name: String, _ file: SourceFile, _ span: Span, first: Binding) -> Diagnostic {
        Diagnostic(
            .error, .duplicateBinding, "`\(name)` is defined twice", file: file, span: span,
            help: "a `let` name is shared by every file of the rule set; give each definition its own name",
            notes: [Note(message: "first defined here", file: first.file, span: first.nameSpan)])
    }

    /// A `let` or quantifier name that would hide something else: an event field, a function, another name.
    static func nameTaken(_ name: String, by what: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .invalidName, "`\(name)` is \(what) and cannot be used as a name", file: file, span: span,
            help: "choose another name, such as `\(name)_`")
    }

    static func recursiveBinding(_ name: String, through chain: [String], _ file: SourceFile, _ span: Span)
        -> Diagnostic
    {
        let path = chain.map { "`\($0)`" }.joined(separator: " -> ")
        return Diagnostic(
            .error, .recursiveBinding, "`\(name)` refers to itself (\(path))", file: file, span: span,
            help: "a `let` may use other names but not, directly or through them, itself")
    }

    static func unusedBinding(_ name: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .warning, .unusedBinding, "`\(name)` is never used", file: file, span: span,
            help: "remove the `let`, or use it in a rule")
    }

    static func bindingHasNoFields(_ name: String, field: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .typeMismatch, "`\(name)` is not a field of the event, it has no field `\(field)`", file: file,
            span: span, help: "only a `let` that names an event path (`let meta = user.app_metadata`) has fields")
    }

    static func quantifierNeedsList(
        _ quantifier: String, _ text: String, found: String, _ file: SourceFile, _ span: Span
    ) -> Diagnostic {
        Diagnostic(
            .error, .typeMismatch, "`\(quantifier)` takes a list, but `\(text)` is \(found)", file: file, span: span)
    }

    static func notTimestamp(_ text: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .invalidTimestamp, "`\(text)` is not an RFC 3339 timestamp", file: file, span: span,
            help: "write a date and time with its offset, such as `2026-01-31T09:00:00Z`")
    }

    static func joinedValues(_ keyword: String, fixed: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .typeMismatch, "`\(keyword)` joins conditions, not values", file: file, span: span,
            help: "compare with each value: `\(fixed)`")
    }

    static func exceptByID(_ role: String, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .warning, .exceptByID,
            "`\(Spelling.visible(role))` is a role id, but the roles a user has are compared by name",
            file: file, span: span,
            help: "`authorization.roles` holds role names: write the role's name after `except`, or the user "
                + "loses it")
    }

    static func duplicateRevokeAll(_ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .error, .duplicateRevokeAll, "`revoke all` appears twice in one rule", file: file, span: span,
            help: "list every exception after one `revoke all except`")
    }

    /// `firstName`: the name as the first rule spells it. Rule names are compared as text (Swift's canonical
    /// equivalence), unlike role names: two spellings of one name would print alike, so the help then shows both
    /// with their non-ASCII scalars written out.
    static func duplicateRule(
        _ name: String, _ file: SourceFile, _ span: Span, first: Rule, firstName: String, unnamed: Bool = false
    ) -> Diagnostic {
        var help = "rule names identify rules in decisions and tests; give each a different one"
        var note = "first used here"
        if ExactString(name) != ExactString(firstName) {
            help =
                "\(Spelling.literal(firstName)) and \(Spelling.literal(name)) differ only in how their characters are "
                + "encoded, and rule names are compared as text; give each a different one"
            if unnamed && first.nameSpan == nil {
                // Both names come from their files' names (`café.rules#1`), which print alike: spell the files out.
                help =
                    "the files \(FileName.literal(first.file.path)) and \(FileName.literal(file.path)) have names that "
                    + "differ only in how their characters are encoded, and the rules' names, made from them, are "
                    + "compared as text; rename a file, or name the rules (`rule \"...\"`)"
                note = "first used here, in \(FileName.literal(first.file.path))"
            }
        }
        return Diagnostic(
            .error, .duplicateRule, "duplicate rule name `\(name)`", file: file, span: span, help: help,
            notes: [Note(message: note, file: first.file, span: first.nameSpan ?? first.span)])
    }

    static func assignAndRevoke(_ role: String, _ file: SourceFile, _ span: Span, other: Span) -> Diagnostic {
        Diagnostic(
            .error, .assignAndRevoke, "rule both assigns and revokes `\(Spelling.visible(role))`", file: file,
            span: span,
            notes: [Note(message: "also named here", file: file, span: other)])
    }

    static func unreachableRule(_ file: SourceFile, _ span: Span, stop: Rule) -> Diagnostic {
        Diagnostic(
            .warning, .unreachableRule, "rule can never run", file: file, span: span,
            help: "an earlier rule always fires and stops evaluation",
            notes: [Note(message: "this rule always stops", file: stop.file, span: stop.nameSpan ?? stop.span)])
    }

    static func constantCondition(_ value: Bool, _ file: SourceFile, _ span: Span) -> Diagnostic {
        Diagnostic(
            .warning, .constantCondition, "condition is always \(value)", file: file, span: span,
            help: value ? "leave out `when` for a rule that always fires" : "this rule can never fire")
    }
}

// MARK: lints

extension Diagnostic {
    static func firstLoginCount(_ file: SourceFile, _ span: Span, role: String?) -> Diagnostic {
        let fix =
            role.map {
                "to give a role once, test that the user lacks it: `not (\(JSONText.quote($0)) in authorization.roles)`"
            }
            ?? "test what the user has or lacks (`authorization.roles`, `app_metadata`) rather than the count"
        return Diagnostic(
            .warning, .firstLoginCount, "`\(file.text(span))` can miss a user's first login", file: file, span: span,
            help: "Auth0 does not count SSO and silent logins and counts failed MFA differently; " + fix)
    }

    /// `path` is `user.user_metadata...`, `fixed` the same path under `app_metadata`; `name` is the `let` the rule
    /// reads it through, if any, and `readFile`/`readSpan` where that `let` reads it.
    static func userEditableField(
        _ path: String, fixed: String, _ file: SourceFile, _ span: Span, through name: String? = nil,
        _ readFile: SourceFile? = nil, _ readSpan: Span? = nil, assigns: Bool = true
    ) -> Diagnostic {
        let through = name.map { " (through `\($0)`)" } ?? ""
        return Diagnostic(
            .warning, .userEditableField,
            "this rule \(assigns ? "assigns roles" : "stops evaluation") on `\(path)`\(through), which users can edit "
                + "themselves", file: file, span: span,
            help: "keep what grants roles in app_metadata, which only the tenant can write: `\(fixed)`",
            notes: name == nil ? [] : [Note(message: "`\(path)` is read here", file: readFile, span: readSpan)])
    }

    /// `anchor` (`$` or `^`) applies to `alternative` only; `fixes` are the whole pattern fixed, as written.
    static func anchorAlternation(
        _ anchor: String, alternative: String, fixes: [String], _ file: SourceFile, _ span: Span
    ) -> Diagnostic {
        Diagnostic(
            .warning, .anchorAlternation,
            "`\(anchor)` applies only to the alternative `\(alternative)`, not to every alternative of `|`",
            file: file, span: span,
            help: "group the alternatives and put the anchors outside: " + fixes.joined(separator: " or "))
    }

    /// An email domain (`domain` as written, from the `@`) that ends the pattern without `$`.
    static func unanchoredDomain(
        _ domain: String, fixes: [String], endsWith: String?, _ file: SourceFile, _ span: Span
    ) -> Diagnostic {
        let example = "x" + RegexShape.unescapingDots(domain) + ".evil.io"
        return Diagnostic(
            .warning, .unanchoredDomain,
            "`\(domain)` is not anchored at the end, so `\(example)` matches too", file: file, span: span,
            help: "end the pattern with `$`: \(fixes.joined(separator: " or "))"
                + (endsWith.map { ", or write \($0)" } ?? ""))
    }

    /// A `.` written without a backslash in `domain` (as written); `example` is a text it wrongly matches.
    static func unescapedDot(_ domain: String, example: String, fixes: [String], _ file: SourceFile, _ span: Span)
        -> Diagnostic
    {
        Diagnostic(
            .warning, .unescapedDot,
            "`.` in `\(domain)` matches any character, so `\(example)` matches too", file: file, span: span,
            help: "write `\\.` for a literal dot: " + fixes.joined(separator: " or "))
    }

    static func contradiction(_ file: SourceFile, _ span: Span, other: Span) -> Diagnostic {
        Diagnostic(
            .warning, .contradiction, "condition is always false: it contradicts an earlier part", file: file,
            span: span, help: "this rule can never fire",
            notes: [Note(message: "contradicted part", file: file, span: other)])
    }

    static func overriddenEffect(_ role: String, assign: Bool, _ file: SourceFile, _ span: Span, by later: Rule)
        -> Diagnostic
    {
        let (done, undone) = assign ? ("assigns", "revokes") : ("revokes", "assigns")
        var help = "the later rule's condition holds whenever this one's does, and the later rule wins"
        // A `revoke all except` that keeps a spelling of the role that prints alike is most likely meant to keep it.
        var kept: String?
        for action in later.actions {
            if case .revokeAll(except: let roles) = action.kind, assign {
                kept = kept ?? roles.first { Spelling.differOnlyInEncoding($0.name, role) }?.name
            }
        }
        var shown = Spelling.visible(role)
        if let kept {
            shown = Spelling.literal(role)
            help =
                "\(JSONText.quote(later.displayName)) keeps \(Spelling.literal(kept)) with `revoke all except`, which "
                + "differs from \(shown) only in how its characters are encoded"
        }
        return Diagnostic(
            .warning, .overriddenEffect,
            "this rule \(done) `\(shown)`, but \(JSONText.quote(later.displayName)) always \(undone) it afterwards",
            file: file, span: span, help: help,
            notes: [Note(message: "\(undone) it here", file: later.file, span: later.nameSpan ?? later.span)])
    }
}

/// A did-you-mean for a token that is not a keyword but is spelt like one.
func keywordSuggestion(_ token: Token, among keywords: [Keyword]) -> String? {
    guard token.kind == .identifier, let keyword = suggest(token.text, among: keywords.map(\.rawValue)) else {
        return nil
    }
    return "did you mean `\(keyword)`?"
}

/// The edit behind ``keywordSuggestion(_:among:)``: the keyword written over the misspelt word.
func keywordFix(_ token: Token, among keywords: [Keyword], _ file: SourceFile) -> Diagnostic.Fix? {
    guard token.kind == .identifier else { return nil }
    return Diagnostic.Fix.replacing(
        token.text, in: file, token.span, with: suggest(token.text, among: keywords.map(\.rawValue)))
}

extension Diagnostic.Fix {
    /// `guess` written over `span`, when there is a guess and `span` holds exactly `name` as written (a key
    /// written `["x-team"]` or through an escape is left to the author).
    static func replacing(_ name: String, in file: SourceFile, _ span: Span, with guess: String?) -> Diagnostic.Fix? {
        guard let guess, guess != name, file.text(span) == name else { return nil }
        return Diagnostic.Fix(replacement: guess, span: span)
    }
}

/// The candidate closest to `word` by edit distance (with transpositions), if it is close enough to be a typo.
public func suggest(_ word: String, among candidates: [String]) -> String? {
    let word = Array(word.lowercased().unicodeScalars)
    let limit = max(1, min(3, word.count / 3))
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(word, Array(candidate.lowercased().unicodeScalars))
        if distance <= limit, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
    }
    return best?.0
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.
func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous2 = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                current[j] = min(current[j], previous2[j - 2] + 1)
            }
        }
        (previous2, previous, current) = (previous, current, previous2)
    }
    return previous[b.count]
}
