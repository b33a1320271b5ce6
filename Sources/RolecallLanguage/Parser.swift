/// A recursive-descent parser, one method per precedence level, that recovers at rule boundaries.
///
/// The first syntax error in a rule is reported, the parser skips to the next `rule` or `when`, and goes on, so
/// one run reports a mistake in every broken rule. Expressions nest at most ``maxDepth`` levels deep, so hostile
/// input (100,000 parentheses) is an error, not a stack overflow.
public struct Parser {
    /// How deep parentheses, lists, `not` and `-` may nest.
    public static let maxDepth = 256

    let file: SourceFile
    /// Where the tokens come from, one at a time: the parser looks at most one token ahead and two back, so a
    /// file's tokens are never held all at once (for a large rule set, an array of them would be written, pushed
    /// out of the processor's caches, and read back from memory).
    var lexer: Lexer
    /// The token being looked at, the one after it, and the two before it.
    var current: Token
    var next: Token
    var previous: Token
    var beforePrevious: Token
    /// How many tokens have been consumed.
    var index = 0
    var depth = 0
    var diagnostics: [Diagnostic] = []

    /// Thrown inside a rule after its syntax error has been reported; caught at the rule boundary.
    struct Recover: Error {}

    init(file: SourceFile) {
        self.file = file
        lexer = Lexer(file: file)
        current = lexer.next()
        next = current.kind == .endOfFile ? current : lexer.next()
        previous = current
        beforePrevious = current
    }

    /// Parses a whole file: its rules (the well-formed ones) and every lexical and syntax error.
    public static func parse(_ file: SourceFile) -> (rules: [Rule], diagnostics: [Diagnostic]) {
        let (declarations, diagnostics) = parseDeclarations(file)
        let rules = declarations.compactMap { declaration -> Rule? in
            if case .rule(let rule) = declaration { return rule }
            return nil
        }
        return (rules, diagnostics)
    }

    /// Parses a whole file: its rules and `let` bindings (the well-formed ones) in source order, and every
    /// lexical and syntax error.
    public static func parseDeclarations(_ file: SourceFile) -> (declarations: [Declaration], diagnostics: [Diagnostic])
    {
        var parser = Parser(file: file)
        let declarations = parser.parseFile()
        return (declarations, parser.allDiagnostics)
    }

    /// Every lexical and syntax error found so far, sorted by position, as every command prints them (`fmt`
    /// included), not lexical errors first.
    var allDiagnostics: [Diagnostic] {
        sortDiagnostics(lexer.diagnostics + diagnostics, fileOrder: [file.path])
    }

    /// The token after the current one (the end of the file at its end).
    func peek() -> Token { next }
    func at(_ keyword: Keyword) -> Bool { current.kind == .keyword(keyword) }

    /// Moves to the next token, returning the current one; the end of the file is never passed.
    @discardableResult
    mutating func advance() -> Token {
        guard current.kind != .endOfFile else { return current }
        // The tokens move along by swaps, not copies (a copy of a token is a call that copies its text): the one
        // two back drops out, and the new one is read into its place.
        let atEnd = next.kind == .endOfFile
        swap(&beforePrevious, &previous)
        swap(&previous, &current)
        swap(&current, &next)
        next = atEnd ? current : lexer.next()
        index += 1
        return previous
    }

    mutating func fail(_ diagnostic: Diagnostic) -> Recover {
        diagnostics.append(diagnostic)
        return Recover()
    }

    mutating func expect(_ kind: Token.Kind, _ what: String) throws(Recover) -> Token {
        guard current.kind == kind else { throw fail(.expected(what, found: current, file)) }
        return advance()
    }

    // MARK: rules

    mutating func parseFile() -> [Declaration] {
        var declarations: [Declaration] = []
        while let declaration = parseDeclaration() { declarations.append(declaration) }
        return declarations
    }

    /// The next well-formed declaration, nil at the end of the file; a broken one is reported and skipped.
    mutating func parseDeclaration() -> Declaration? {
        while current.kind != .endOfFile {
            do throws(Recover) {
                return at(.let) ? .binding(try parseBinding()) : .rule(try parseRule())
            } catch {
                synchronize()
            }
        }
        return nil
    }

    /// Whether the current token ends a declaration: the end of the file or the start of the next one.
    var atDeclarationBoundary: Bool { current.kind == .endOfFile || at(.rule) || at(.when) || at(.let) }

    /// Skips to the next token that can begin a rule or a `let`.
    mutating func synchronize() {
        depth = 0
        if current.kind != .endOfFile { advance() }
        while !atDeclarationBoundary { advance() }
    }

    /// `let NAME = EXPR`.
    mutating func parseBinding() throws(Recover) -> Binding {
        let keyword = advance()
        let name = current
        guard name.kind == .identifier else { throw fail(.expected("a name after `let`", found: name, file)) }
        advance()
        _ = try expect(.bind, "`=` after the name")
        let value = try parseExpression()
        guard atDeclarationBoundary else { throw fail(.expectedAfterBinding(found: current, file)) }
        return Binding(
            name: name.text, nameSpan: name.span, value: value, file: file, span: keyword.span.union(value.span))
    }

    mutating func parseRule() throws(Recover) -> Rule {
        let start = current.span
        var name: String?
        var nameSpan: Span?
        var condition: Expr?
        var when: Span?
        if at(.rule) {
            advance()
            let token = try expect(.string, "a rule name in quotes")
            name = token.text
            nameSpan = token.span
        } else if !at(.when) {
            throw fail(.expectedRuleStart(found: current, file))
        }
        if at(.when) {
            when = advance().span
            condition = try parseExpression()
        }
        // `when ... then assign ...`: reported once, skipped, and the rule read on.
        var then: (index: Int, span: Span)?
        if condition != nil, current.kind == .identifier, current.text.lowercased() == "then" {
            then = (diagnostics.count, current.span)
            diagnostics.append(.thenAfterCondition(file, advance().span, fixed: nil))
        }
        var actions: [Action] = []
        while let action = try parseAction() { actions.append(action) }
        if actions.isEmpty {
            // A rule that ends before any action: the mistake is in this rule, not at the next one.
            if atDeclarationBoundary, let at = when ?? nameSpan {
                throw fail(.missingAction(file, at, hasCondition: condition != nil))
            }
            throw fail(.expectedAction(found: current, afterCondition: condition != nil, file))
        }
        if let then, let condition {
            diagnostics[then.index] = .thenAfterCondition(
                file, then.span, fixed: "when \(file.text(condition.span)) \(file.text(actions[0].span))")
        }
        guard atDeclarationBoundary else { throw fail(.expectedAfterActions(found: current, file)) }
        let end = previous.span
        return Rule(
            name: name, condition: condition, actions: actions, file: file, span: start.union(end), nameSpan: nameSpan)
    }

    mutating func parseAction() throws(Recover) -> Action? {
        let keyword = current
        switch keyword.kind {
        case .keyword(.stop):
            advance()
            return Action(.stop, span: keyword.span)
        case .keyword(.revoke) where peek().kind == .identifier && peek().text == "all":
            advance()
            let all = advance()
            var except: [Role] = []
            if current.kind == .identifier && current.text == "except" {
                advance()
                except = try parseRoles()
            }
            return Action(.revokeAll(except: except), span: keyword.span.union(except.last?.span ?? all.span))
        case .keyword(.assign), .keyword(.revoke):
            advance()
            let roles = try parseRoles()
            let span = keyword.span.union(roles.last!.span)
            return Action(keyword.kind == .keyword(.assign) ? .assign(roles) : .revoke(roles), span: span)
        default:
            return nil
        }
    }

    /// `"role", "role", ...`: one or more role strings.
    mutating func parseRoles() throws(Recover) -> [Role] {
        var roles: [Role] = []
        repeat {
            if !roles.isEmpty { advance() }
            let token = try expect(.string, "a role name in quotes")
            if token.text.isEmpty { diagnostics.append(.emptyRole(file, token.span)) }
            roles.append(Role(token.text, span: token.span))
        } while current.kind == .comma
        return roles
    }

    // MARK: expressions, loosest first

    mutating func parseExpression() throws(Recover) -> Expr { try parseOr() }

    mutating func enter() throws(Recover) {
        depth += 1
        if depth > Parser.maxDepth { throw fail(.nestingTooDeep(file, current.span, limit: Parser.maxDepth)) }
    }

    /// `a or b or ...` as one n-ary node: a chain of 10,000 conditions is one level deep, not 10,000, so no later
    /// pass can overflow the stack on it.
    mutating func parseOr() throws(Recover) -> Expr {
        let first = try parseAnd()
        guard at(.or) else { return first }
        var operands = [first]
        while at(.or) {
            advance()
            operands.append(try parseAnd())
        }
        return Expr(.or(operands), span: first.span.union(operands.last!.span))
    }

    /// `a and b and ...` as one n-ary node (see ``parseOr()``).
    mutating func parseAnd() throws(Recover) -> Expr {
        let first = try parseNot()
        guard at(.and) else { return first }
        var operands = [first]
        while at(.and) {
            advance()
            operands.append(try parseNot())
        }
        return Expr(.and(operands), span: first.span.union(operands.last!.span))
    }

    mutating func parseNot() throws(Recover) -> Expr {
        guard at(.not) else { return try parseComparison() }
        let keyword = advance()
        try enter()
        let operand = try parseNot()
        depth -= 1
        return Expr(.unary(.not, operand), span: keyword.span.union(operand.span))
    }

    /// The comparison operator at the current token, and how many tokens it takes (`not in` takes two).
    func comparisonOperator() -> (BinaryOperator, Int)? {
        switch current.kind {
        case .equal, .bind: (.equal, 1)
        case .notEqual: (.notEqual, 1)
        case .less: (.less, 1)
        case .lessEqual: (.lessEqual, 1)
        case .greater: (.greater, 1)
        case .greaterEqual: (.greaterEqual, 1)
        case .keyword(.in): (.in, 1)
        case .keyword(.contains): (.contains, 1)
        case .keyword(.startsWith): (.startsWith, 1)
        case .keyword(.endsWith): (.endsWith, 1)
        case .keyword(.matches): (.matches, 1)
        case .keyword(.not) where peek().kind == .keyword(.in): (.notIn, 2)
        default: nil
        }
    }

    mutating func parseComparison() throws(Recover) -> Expr {
        let left = try parseNegation()
        guard let (op, width) = comparisonOperator() else { return left }
        // `=` is read as `==` after reporting it, so one typo gives one error, not a cascade.
        if current.kind == .bind { diagnostics.append(.singleEquals(file, current.span)) }
        for _ in 0..<width { advance() }
        let right = try parseNegation()
        if case .string(let word) = right.kind, let last = diagnostics.last, last.code == .unquotedString,
            last.span == right.span
        {
            // `connection.name == acme-okta`: the fix shows the whole comparison.
            let fixed = "\(file.text(left.span)) \(op.rawValue) \(Formatter.Printer.string(word))"
            diagnostics[diagnostics.count - 1] = .unquotedString(word, fixed: fixed, file, right.span)
        }
        if let (_, _) = comparisonOperator() {
            throw fail(.chainedComparison(file, current.span))
        }
        return Expr(.binary(op, left, right), span: left.span.union(right.span))
    }

    mutating func parseNegation() throws(Recover) -> Expr {
        guard current.kind == .minus else { return try parsePrimary() }
        let minus = advance()
        try enter()
        let operand = try parseNegation()
        depth -= 1
        let span = minus.span.union(operand.span)
        if case .number(let value) = operand.kind { return Expr(.number(-value), span: span) }
        return Expr(.unary(.negate, operand), span: span)
    }

    mutating func parsePrimary() throws(Recover) -> Expr {
        let token = current
        switch token.kind {
        case .string:
            advance()
            return Expr(.string(token.text), span: token.span)
        case .number:
            advance()
            return Expr(.number(token.number), span: token.span)
        case .regex:
            advance()
            return Expr(
                .regex(pattern: token.text, flags: token.flags, patternStart: token.contentStart), span: token.span)
        case .keyword(.true), .keyword(.false):
            advance()
            return Expr(.bool(token.kind == .keyword(.true)), span: token.span)
        case .keyword(.null):
            advance()
            return Expr(.null, span: token.span)
        case .leftParen:
            advance()
            // Parentheses right after `not` share its level: the formatter writes `not a in b` as
            // `not (a in b)`, and formatting must never take a file past the limit it was within.
            let counted = !(index >= 2 && beforePrevious.kind == .keyword(.not))
            if counted { try enter() }
            let inner = try parseExpression()
            if counted { depth -= 1 }
            guard current.kind == .rightParen else {
                throw fail(.unclosed("(", opened: token.span, found: current, file))
            }
            let close = advance()
            return Expr(inner.kind, span: token.span.union(close.span))
        case .leftBracket:
            return try parseList()
        case .identifier:
            if peek().kind == .leftParen, let quantifier = Quantifier(rawValue: token.text) {
                return try parseQuantifier(quantifier)
            }
            if peek().kind == .leftParen { return try parseCall() }
            return try parsePath()
        default:
            throw fail(.expectedExpression(found: token, file))
        }
    }

    mutating func parseList() throws(Recover) -> Expr {
        let open = advance()
        try enter()
        var elements: [Expr] = []
        while current.kind != .rightBracket {
            elements.append(try parseExpression())
            guard current.kind == .comma else { break }
            advance()
        }
        depth -= 1
        guard current.kind == .rightBracket else { throw fail(.unclosed("[", opened: open.span, found: current, file)) }
        let close = advance()
        return Expr(.list(elements), span: open.span.union(close.span))
    }

    mutating func parseCall() throws(Recover) -> Expr {
        let name = advance()
        let open = advance()
        try enter()
        // `call = identifier "(" [ expression { "," expression } ] ")"`: unlike a list, no trailing comma.
        var arguments: [Expr] = []
        if current.kind != .rightParen {
            arguments.append(try parseExpression())
            while current.kind == .comma {
                advance()
                arguments.append(try parseExpression())
            }
        }
        depth -= 1
        guard current.kind == .rightParen else { throw fail(.unclosed("(", opened: open.span, found: current, file)) }
        let close = advance()
        return Expr(
            .call(name: name.text, nameSpan: name.span, arguments: arguments), span: name.span.union(close.span))
    }

    /// `any(LIST, NAME, COND)` / `all(LIST, NAME, COND)`.
    mutating func parseQuantifier(_ quantifier: Quantifier) throws(Recover) -> Expr {
        let keyword = advance()
        let open = advance()
        try enter()
        let list = try parseExpression()
        _ = try expect(.comma, "`,` after the list of `\(keyword.text)(LIST, NAME, CONDITION)`")
        let name = current
        guard name.kind == .identifier else { throw fail(.quantifierName(keyword.text, found: name, file)) }
        guard peek().kind == .comma else {
            // `any(list, i)` or `any(list, i.provider == "x")`: the name is there, the condition is not.
            throw fail(.quantifierCondition(keyword.text, name: name.text, found: peek(), file))
        }
        advance()
        advance()
        let body = try parseExpression()
        depth -= 1
        guard current.kind == .rightParen else { throw fail(.unclosed("(", opened: open.span, found: current, file)) }
        let close = advance()
        return Expr(
            .quantifier(quantifier, list: list, name: name.text, nameSpan: name.span, body: body),
            span: keyword.span.union(close.span))
    }

    mutating func parsePath() throws(Recover) -> Expr {
        let first = advance()
        var segments: [PathSegment] = [.key(first.text, span: first.span)]
        var end = first.span
        while true {
            if current.kind == .dot {
                advance()
                let name = current
                switch name.kind {
                case .identifier, .keyword: break
                default: throw fail(.expected("a field name after `.`", found: name, file))
                }
                advance()
                segments.append(.key(name.text, span: name.span))
                end = name.span
            } else if current.kind == .leftBracket {
                let open = advance()
                let subscriptToken = current
                switch subscriptToken.kind {
                case .string:
                    segments.append(.key(subscriptToken.text, span: subscriptToken.span))
                case .number:
                    guard let index = Int(exactly: subscriptToken.number), index >= 0,
                        !subscriptToken.text.contains(".")
                    else { throw fail(.badIndex(file, subscriptToken.span)) }
                    segments.append(.index(index, span: subscriptToken.span))
                default:
                    throw fail(.expected("a list index or a quoted field name", found: subscriptToken, file))
                }
                advance()
                guard current.kind == .rightBracket else {
                    throw fail(.unclosed("[", opened: open.span, found: current, file))
                }
                end = advance().span
            } else {
                break
            }
        }
        if let word = hyphenatedWord(from: first.span.start, end: end.end) { return word }
        return Expr(.path(segments), span: first.span.union(end))
    }

    /// `acme-okta`, `eu-west.1`: a word with a `-` written where a string was meant (the language has no binary
    /// minus, so it can mean nothing else). Reported once, with its quoted form, and read as that string.
    mutating func hyphenatedWord(from start: Int, end: Int) -> Expr? {
        var end = end
        var glued = false
        while current.span.start == end, current.kind == .minus || current.kind == .dot {
            let next = peek()
            let wordLike =
                switch next.kind {
                case .identifier, .keyword, .number: true
                default: false
                }
            guard wordLike, next.span.start == current.span.end else { break }
            glued = glued || current.kind == .minus
            advance()
            end = advance().span.end
        }
        guard glued else { return nil }
        let span = Span(start, end)
        let word = file.text(span)
        diagnostics.append(.unquotedString(word, fixed: Formatter.Printer.string(word), file, span))
        return Expr(.string(word), span: span)
    }
}
