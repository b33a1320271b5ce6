import RolecallJSON
import RolecallRegex

/// Checks parsed rules like a compiler: resolves every path against the post-login schema, infers types,
/// compiles every regex, folds constants, and reports every problem it finds (never just the first).
public struct Checker {
    /// What the checker knows about an expression's value. Every type also admits `null`.
    indirect enum StaticType: Equatable {
        case any, null, bool, number, string, object, regex
        case list(StaticType)

        init(_ field: FieldType) {
            switch field {
            case .any: self = .any
            case .bool: self = .bool
            case .number: self = .number
            case .string: self = .string
            case .list(let element): self = .list(StaticType(element))
            case .object, .map: self = .object
            }
        }

        /// Known and not `null`: a type a mismatch can be reported against.
        var isConcrete: Bool { self != .any && self != .null }

        var phrase: String {
            switch self {
            case .any: "a value"
            case .null: "null"
            case .bool: "a boolean"
            case .number: "a number"
            case .string: "a string"
            case .object: "an object"
            case .regex: "a regex"
            case .list(.string): "a list of strings"
            case .list(.number): "a list of numbers"
            case .list: "a list"
            }
        }

        /// Whether values of the two types can ever be equal.
        func canEqual(_ other: StaticType) -> Bool {
            guard isConcrete, other.isConcrete else { return true }
            switch (self, other) {
            case (.list(let a), .list(let b)): return a.canEqual(b)
            case (.list, _), (_, .list): return false
            default: return self == other
            }
        }

        var element: StaticType? {
            if case .list(let element) = self { return element }
            return nil
        }
    }

    var diagnostics: [Diagnostic] = []
    /// How many of ``diagnostics`` are errors, kept so that checking a rule does not count them all again.
    var errorCount = 0
    var file: SourceFile
    /// The rule set's `let` names, shared by the checkers of all its files.
    let bindings: Bindings
    /// The names bound by the quantifiers around the expression being checked, innermost last.
    var locals: [Local] = []
    /// How deep the expression being checked is, and the deepest it went, counting the expansions of the `let`s
    /// it uses: the later passes walk the expanded tree, so its depth is held to ``Parser/maxDepth`` too.
    var nesting = 0
    var deepest = 0

    init(file: SourceFile, bindings: Bindings = Bindings()) {
        self.file = file
        self.bindings = bindings
    }

    /// Parses and checks `files` as one rule set, in order.
    ///
    /// A `let` is visible in every file, before and after it, so rules are checked once every file is parsed.
    /// A rule set without one (no file has the word) is checked rule by rule as it is parsed instead, each rule
    /// while the parser has just written it: on a rule set larger than the processor's caches, checking the
    /// rules in a pass of their own would read every one back from memory.
    public static func check(_ files: [SourceFile]) -> CheckedRuleSet {
        var set = RuleSetCheck(keepsRules: true)
        check(files, into: &set) { _ in }
        return set.finish(files)
    }

    /// Parses and checks `files` as ``check(_:)`` does, handing each rule to `each` once it is checked and
    /// linted, and keeping none: returns only the diagnostics (the same as ``check(_:)``'s).
    ///
    /// For a caller that compiles the rules (``RuleEngine``): each rule reaches it while the checker has just
    /// written it, and is freed there too, so a rule set larger than the processor's caches is not read back from
    /// memory by a pass that compiles it and another that frees it. `each` sees every rule, also in a rule set
    /// with errors (whose checked rules hold placeholders where the errors are).
    public static func check(_ files: [SourceFile], each: (borrowing CheckedRule) -> Void) -> [Diagnostic] {
        var set = RuleSetCheck(keepsRules: false)
        check(files, into: &set, each: each)
        return set.finish(files).diagnostics
    }

    /// Parses `files` and checks and lints each rule into `set`, handing each to `each`.
    static func check(_ files: [SourceFile], into set: inout RuleSetCheck, each: (borrowing CheckedRule) -> Void) {
        let labels = RuleFileLabels.labels(for: files.map(\.path))
        if files.allSatisfy({ !mayDeclareBinding($0) }) {
            // Rules are at most one a line in most rule sets: room for that many.
            set.reserve(files.reduce(0) { $0 + $1.lineStarts.count })
            var checkerDiagnostics: [Diagnostic] = []
            for (file, label) in zip(files, labels) {
                var parser = Parser(file: file)
                var checker = Checker(file: file, bindings: set.bindings)
                var position = 0
                while let declaration = parser.parseDeclaration() {
                    switch consume declaration {
                    case .rule(let rule):
                        position += 1
                        set.add(rule, position: position, label: label, checker: &checker, each: each)
                    case .binding(let binding):
                        // Not reached: a `let` is spelt with the bytes the scan looked for.
                        set.diagnostics += set.bindings.declare(binding)
                    }
                }
                set.diagnostics += parser.allDiagnostics
                checkerDiagnostics += checker.diagnostics
            }
            // In the order of the other way: every file's syntax errors, then every file's checks.
            set.diagnostics += checkerDiagnostics
        } else {
            var parsedFiles: [(file: SourceFile, declarations: [Declaration])] = []
            var ruleCount = 0
            for file in files {
                let (declarations, syntax) = Parser.parseDeclarations(file)
                set.diagnostics += syntax
                // Read in place (through the buffer): a copy of a declaration copies every reference in its rule.
                declarations.withUnsafeBufferPointer { declarations in
                    for declaration in declarations.indices {
                        switch declarations[declaration] {
                        case .rule: ruleCount += 1
                        case .binding(let binding): set.diagnostics += set.bindings.declare(binding)
                        }
                    }
                }
                parsedFiles.append((file, declarations))
            }
            set.reserve(ruleCount)
            // Every `let` is checked once, where it is defined, whether or not a rule uses it.
            for name in set.bindings.order { _ = set.bindings.resolve(name) }
            for (fileIndex, label) in labels.enumerated() {
                let file = parsedFiles[fileIndex].file
                var declarations: [Declaration] = []
                swap(&declarations, &parsedFiles[fileIndex].declarations)
                var checker = Checker(file: file, bindings: set.bindings)
                var position = 0
                for declaration in declarations.indices {
                    // Each rule is moved out of the array (swapped with an empty one), not copied: a copy, and
                    // later the release of the original, would each walk a large rule set's memory once more.
                    guard case .rule = declarations[declaration] else { continue }
                    var taken = Declaration.rule(
                        Rule(name: nil, condition: nil, actions: [], file: file, span: Span(0, 0)))
                    swap(&taken, &declarations[declaration])
                    guard case .rule(let rule) = consume taken else { continue }
                    position += 1
                    set.add(rule, position: position, label: label, checker: &checker, each: each)
                }
                set.diagnostics += checker.diagnostics
            }
        }
    }

    /// Whether `file` may declare a `let`: whether it has the bytes `let` where a word can end (the keyword is
    /// never spelt otherwise: `letter` and `complete` have no `let`, `outlet` may).
    static func mayDeclareBinding(_ file: SourceFile) -> Bool {
        file.bytes.withUnsafeBufferPointer { bytes in
            guard bytes.count >= 3 else { return false }
            for index in 0...(bytes.count - 3)
            where bytes[index] == UInt8(ascii: "l") && bytes[index + 1] == UInt8(ascii: "e")
                && bytes[index + 2] == UInt8(ascii: "t")
            {
                if index + 3 == bytes.count || !Lexer.isIdentifierContinue(bytes[index + 3]) { return true }
            }
            return false
        }
    }

    /// A rule set being checked, rule by rule: what ``check(_:)`` keeps across the rules and files.
    struct RuleSetCheck {
        /// Whether the rules are kept whole (``Checker/check(_:)``) or only as much of each as the lints that
        /// compare rules and the duplicate-name check need for their messages (``Checker/check(_:each:)``).
        let keepsRules: Bool
        var diagnostics: [Diagnostic] = []
        var rules: [CheckedRule] = []
        /// The index in `rules` of the first rule of each name.
        var named = HashIndex()
        var alwaysStops: Rule?
        let bindings = Bindings()
        var linter = Linter(capacity: 0)
        var work = 0

        /// Makes room for `count` rules.
        mutating func reserve(_ count: Int) {
            rules.reserveCapacity(count)
            named = HashIndex(capacity: count)
            linter = Linter(capacity: count)
        }

        /// Checks and lints the next rule, the `position`th of its file (whose label is `label`).
        mutating func add(
            _ parsed: consuming Rule, position: Int, label: String, checker: inout Checker,
            each: (borrowing CheckedRule) -> Void
        ) {
            var rule = parsed
            rule.ordinal = position
            rule.fileLabel = label
            // Written and generated names share one namespace: a rule written `rule "r.rules#1"` must not take
            // the name of the anonymous first rule of r.rules, or decisions could not tell them apart.
            let name = rule.displayName
            var at = rule.span
            if let nameSpan = rule.nameSpan { at = nameSpan }
            let hash = name.hashValue
            if let (first, _) = named.find(hash, where: { rules[$0].name == name }) {
                checker.report(
                    .duplicateRule(
                        name, checker.file, at, first: rules[first].rule, firstName: rules[first].name,
                        unnamed: rule.nameSpan == nil))
            } else {
                named.insert(hash, rules.count)
            }
            if let stopper = alwaysStops { checker.report(.unreachableRule(checker.file, at, stop: stopper)) }
            var checked = checker.checkRule(rule, name: name)
            if checked.stops, alwaysStops == nil {
                if checked.condition == nil { alwaysStops = checked.rule }
                if case .constant(.bool(true))? = checked.condition?.kind { alwaysStops = checked.rule }
            }
            // Linted and handed on now, while the checker has just read the rule.
            linter.add(checked, work: &work)
            each(checked)
            if !keepsRules {
                // What later messages need of the rule is its name, file, spans and actions (the spans of its
                // roles): its conditions, parsed and checked, and its effects are freed now, while in cache.
                checked.condition = nil
                checked.rule.condition = nil
                checked.effects = []
                checked.revokeAll = nil
            }
            rules.append(checked)
        }

        /// The checked rule set of `files`, with the lints that compare rules and the bindings' diagnostics.
        mutating func finish(_ files: [SourceFile]) -> CheckedRuleSet {
            diagnostics += bindings.diagnostics + bindings.unused()
            diagnostics += rules.withUnsafeBufferPointer { linter.finish($0, work: &work) }
            return CheckedRuleSet(
                rules: rules, diagnostics: sortDiagnostics(diagnostics, fileOrder: files.map(\.path)), files: files)
        }
    }

    mutating func report(_ diagnostic: Diagnostic) {
        diagnostics.append(diagnostic)
        if diagnostic.severity == .error { errorCount += 1 }
    }

    /// Checks `rule`, called `name` (its ``Rule/displayName``, worked out once by the caller).
    mutating func checkRule(_ rule: consuming Rule, name: String) -> CheckedRule {
        var condition: CheckedExpr?
        if let expr = rule.condition {
            let errorsBefore = errorCount
            let (checked, type) = check(expr)
            requireBoolean(type, expr, context: "the condition")
            // A condition that already has errors was folded from placeholders: saying it is constant would mislead.
            if errorCount > errorsBefore {
            } else if case .constant(.bool(let value)) = checked.kind {
                report(.constantCondition(value, file, expr.span))
            } else if case .constant(.null) = checked.kind {
                report(.constantCondition(false, file, expr.span))
            }
            condition = checked
        }
        var effects: [(role: String, assign: Bool)] = []
        // The roles met so far: by a scan while there are few (most rules name one or two), by name after. By
        // their bytes (``ExactString``): `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, as in the evaluator.
        var seenList: [(role: String, assign: Bool, span: Span)] = []
        var seenByName: [ExactString: (assign: Bool, span: Span)] = [:]
        func seen(_ name: String) -> (assign: Bool, span: Span)? {
            if seenList.count < 8 {
                for entry in seenList where ExactString(entry.role) == ExactString(name) {
                    return (entry.assign, entry.span)
                }
                return nil
            }
            return seenByName[ExactString(name)]
        }
        var stops = false
        var revokeAll: [String]?
        for action in rule.actions {
            switch action.kind {
            case .stop: stops = true
            case .revokeAll(let except):
                if revokeAll != nil {
                    report(.duplicateRevokeAll(file, action.span))
                } else {
                    revokeAll = except.map(\.name)
                }
                // The current roles in `authorization.roles` are names: an id never matches one of them.
                for role in except where role.name.hasPrefix("rol_") { report(.exceptByID(role.name, file, role.span)) }
            case .assign(let roles), .revoke(let roles):
                let assign = if case .assign = action.kind { true } else { false }
                for role in roles {
                    if let previous = seen(role.name) {
                        if previous.assign != assign {
                            report(.assignAndRevoke(role.name, file, role.span, other: previous.span))
                        }
                        continue
                    }
                    seenList.append((role.name, assign, role.span))
                    if seenList.count == 8 {
                        for entry in seenList { seenByName[ExactString(entry.role)] = (entry.assign, entry.span) }
                    } else if seenList.count > 8 {
                        seenByName[ExactString(role.name)] = (assign, role.span)
                    }
                    effects.append((role.name, assign))
                }
            }
        }
        return CheckedRule(
            rule: rule, name: name, condition: condition, effects: effects, revokeAll: revokeAll, stops: stops)
    }

    /// Reports a type that can never be a boolean where one is needed.
    mutating func requireBoolean(_ type: StaticType, _ expr: Expr, context: String) {
        guard type.isConcrete, type != .bool else { return }
        let text = file.text(expr.span)
        report(.notBoolean(context, type.phrase, text: text, isRegex: type == .regex, file, expr.span))
    }

    // MARK: expressions

    mutating func check(_ expr: Expr) -> (CheckedExpr, StaticType) {
        nesting += 1
        deepest = max(deepest, nesting)
        defer { nesting -= 1 }
        func node(_ kind: CheckedExpr.Kind) -> CheckedExpr { CheckedExpr(kind: kind, span: expr.span) }
        switch expr.kind {
        case .string(let text): return (node(.constant(.string(text))), .string)
        case .number(let value): return (node(.constant(.number(value))), .number)
        case .bool(let value): return (node(.constant(.bool(value))), .bool)
        case .null, .invalid: return (node(.constant(.null)), .null)
        case .regex:
            report(.regexOutsideMatches(file, expr.span))
            return (node(.constant(.null)), .regex)
        case .list(let elements):
            let checked = checkElements(elements, of: expr)
            var elementType: StaticType?
            for (_, type) in checked where type != .null {
                elementType = elementType == nil || elementType == type ? type : .any
            }
            let type = StaticType.list(elementType ?? .any)
            let constants = checked.compactMap { item -> Constant? in
                if case .constant(let value) = item.0.kind { return value }
                return nil
            }
            if constants.count == checked.count { return (node(.constant(.list(constants))), type) }
            return (node(.list(checked.map(\.0))), type)
        case .path(let segments):
            return checkPath(segments, expr)
        case .call(let name, let nameSpan, let arguments):
            return checkCall(name, nameSpan, arguments, expr)
        case .unary(.not, let operand):
            let (checked, type) = check(operand)
            requireBoolean(type, operand, context: "the operand of `not`")
            if case .constant(let value) = checked.kind, let truth = Checker.truth(value) {
                return (node(.constant(.bool(!truth))), .bool)
            }
            return (node(.not(checked)), .bool)
        case .unary(.negate, let operand):
            let (checked, type) = check(operand)
            if type.isConcrete, type != .number {
                report(.cannotNegate(type.phrase, file, operand.span))
            }
            return (node(.negate(checked)), .number)
        case .and(let operands):
            return checkLogical(isAnd: true, operands, expr)
        case .or(let operands):
            return checkLogical(isAnd: false, operands, expr)
        case .binary(let op, let left, let right):
            return checkBinary(op, left, right, expr)
        case .quantifier(let quantifier, let list, let name, let nameSpan, let body):
            return checkQuantifier(quantifier, list, name, nameSpan, body, expr)
        }
    }

    /// The truth of a constant in a boolean position, or nil when it is not a boolean (an error elsewhere).
    static func truth(_ value: Constant) -> Bool? {
        switch value {
        case .bool(let truth): truth
        case .null: false
        default: nil
        }
    }

    mutating func checkPath(_ written: [PathSegment], _ expr: Expr) -> (CheckedExpr, StaticType) {
        guard case .key(let rootName, let rootSpan) = written[0] else { fatalError("paths start with a name") }
        if let variable = locals.lastIndex(where: { $0.name == rootName }) {
            let node = CheckedExpr(kind: .local(variable, name: rootName, Array(written.dropFirst())), span: expr.span)
            let type = walk(written, from: locals[variable].type, expr)
            return (node, type.map(StaticType.init) ?? .any)
        }
        if bindings.declared[rootName] != nil { return reference(rootName, written, expr) }
        var segments = written
        if let alias = EventSchema.aliases[rootName] {
            segments = alias.map { PathSegment.key($0, span: rootSpan) } + written.dropFirst()
        }
        let node = CheckedExpr(kind: .path(segments), span: expr.span)
        guard case .object(let rootFields) = EventSchema.root, let rootType = rootFields[segmentName(segments[0])]
        else {
            report(.unknownRoot(rootName, file, rootSpan, roots: EventSchema.rootNames, path: written))
            return (node, .any)
        }
        return (node, walk(segments, from: rootType, expr).map(StaticType.init) ?? .any)
    }

    /// The type of the field `segments` names, given the type of its first segment, reporting unknown fields and
    /// steps into a value that has none; nil when the type is unknown.
    mutating func walk(_ segments: [PathSegment], from start: FieldType, _ expr: Expr) -> FieldType? {
        var type = start
        for position in 1..<max(1, segments.count) {
            let segment = segments[position]
            // Printed only for a message: most paths have none.
            var parent: [PathSegment] { Array(segments[0..<position]) }
            var here: String { parent.dotted }
            switch (type, segment) {
            case (.any, _):
                return nil
            case (.object(let fields), .key(let name, let span)):
                if let next = fields[name] {
                    type = next
                } else {
                    let guess = suggest(name, among: fields.keys.sorted())
                    // A name written as a subscript is underlined to its `]`, and its quick fix is a string.
                    let closing = closingBracket(after: span)
                    report(
                        .unknownField(
                            (parent + [segment]).dotted,
                            suggestion: guess.map { (parent + [.key($0, span: span)]).dotted },
                            file, Span(expr.span.start, closing ?? span.end),
                            field: closing == nil ? name : file.text(span), fieldSpan: span,
                            guess: closing == nil ? guess : guess.map(Formatter.Printer.string)))
                    return nil
                }
            case (.map(let valueType), .key):
                type = valueType
            case (.list(let element), .index):
                type = element
            case (.list, .key(let name, let span)):
                report(.listHasNoField(here, field: name, file, span))
                return nil
            case (_, .index(let index, let span)):
                report(.notIndexable(here, type: type.phrase, index: index, file, span))
                return nil
            case (_, .key(let name, let span)):
                report(.notAnObject(here, type: type.phrase, field: name, file, span))
                return nil
            }
        }
        return type
    }

    /// The end of the `]` that closes a field name written as a subscript (`user["emial"]`) at `span`; nil for a
    /// name written after a dot. Found again with the lexer, since a path keeps only its names' spans.
    func closingBracket(after span: Span) -> Int? {
        guard span.start < file.bytes.count, file.bytes[span.start] == UInt8(ascii: "\"") else { return nil }
        var lexer = Lexer(file: file)
        lexer.offset = span.end
        let token = lexer.next()
        return token.kind == .rightBracket ? token.span.end : nil
    }

    func segmentName(_ segment: PathSegment) -> String {
        if case .key(let name, _) = segment { return name }
        return ""
    }

    mutating func checkCall(_ name: String, _ nameSpan: Span, _ arguments: [Expr], _ expr: Expr)
        -> (CheckedExpr, StaticType)
    {
        let checked = arguments.map { check($0) }
        guard let function = Function(rawValue: name) else {
            report(.unknownFunction(name, file, nameSpan, functions: Function.allCases.map(\.rawValue)))
            return (CheckedExpr(kind: .constant(.null), span: expr.span), .any)
        }
        guard checked.count == 1 else {
            report(.wrongArity(name, expected: 1, found: checked.count, file, expr.span))
            let type: StaticType = function == .length || function == .daysSince ? .number : .string
            return (CheckedExpr(kind: .constant(.null), span: expr.span), type)
        }
        let (argument, type) = checked[0]
        switch function {
        case .lower, .upper:
            if type.isConcrete, type != .string {
                report(.functionTakesString(name, found: type.phrase, file, arguments[0].span))
            }
            if case .constant(.string(let text)) = argument.kind {
                let folded = function == .lower ? text.lowercased() : text.uppercased()
                return (CheckedExpr(kind: .constant(.string(folded)), span: expr.span), .string)
            }
            return (CheckedExpr(kind: .call(function, argument), span: expr.span), .string)
        case .length:
            if type.isConcrete, type == .bool || type == .number || type == .regex {
                report(.lengthArgument(found: type.phrase, file, arguments[0].span))
            }
            return (CheckedExpr(kind: .call(function, argument), span: expr.span), .number)
        case .daysSince:
            if type.isConcrete, type != .string {
                report(.functionTakesString(name, found: type.phrase, file, arguments[0].span))
            } else if case .constant(.string(let text)) = argument.kind, Timestamp.seconds(text) == nil {
                report(.notTimestamp(text, file, arguments[0].span))
            }
            return (CheckedExpr(kind: .call(function, argument), span: expr.span), .number)
        }
    }

    /// `a and b and ...` / `a or b or ...`. Folds only what short-circuiting makes certain: a prefix of constants
    /// that decides (`false and x` is false, `true or x` is true), or all constants.
    mutating func checkLogical(isAnd: Bool, _ operands: [Expr], _ expr: Expr) -> (CheckedExpr, StaticType) {
        var checked: [CheckedExpr] = []
        checked.reserveCapacity(operands.count)
        for (position, operand) in operands.enumerated() {
            let (node, type) = check(operand)
            requireLogicalOperand(type, operand, after: operands[..<position], isAnd: isAnd)
            checked.append(node)
        }
        var last = !isAnd
        for node in checked {
            guard case .constant(let value) = node.kind, let truth = Checker.truth(value) else {
                return (CheckedExpr(kind: isAnd ? .and(checked) : .or(checked), span: expr.span), .bool)
            }
            last = truth
            if truth != isAnd { break }
        }
        return (CheckedExpr(kind: .constant(.bool(last)), span: expr.span), .bool)
    }

    mutating func checkBinary(_ op: BinaryOperator, _ left: Expr, _ right: Expr, _ expr: Expr)
        -> (CheckedExpr, StaticType)
    {
        func node(_ kind: CheckedExpr.Kind) -> CheckedExpr { CheckedExpr(kind: kind, span: expr.span) }
        if let joined = joinedValues(op, left, right) { return joined }
        if op == .matches { return checkMatches(left, right, expr) }
        let (l, lt) = check(left)
        let (r, rt) = checkOperand(right, of: op, after: left)
        // The operands as written, for messages only.
        var leftText: String { file.text(left.span) }
        var rightText: String { file.text(right.span) }
        switch op {
        case .equal, .notEqual:
            if !lt.canEqual(rt) {
                report(
                    .neverEqual(
                        lt.phrase, rt.phrase, notEqual: op == .notEqual,
                        quotedNumber: Checker.quotedNumber(l, r, lt, rt),
                        file, expr.span))
            }
        case .less, .lessEqual, .greater, .greaterEqual:
            for (type, side) in [(lt, left), (rt, right)] where type.isConcrete && type != .number && type != .string {
                report(.orderingOperand(op.rawValue, found: type.phrase, file, side.span))
            }
            if lt.isConcrete, rt.isConcrete, lt != rt, [lt, rt].allSatisfy({ $0 == .number || $0 == .string }) {
                report(
                    .orderingMismatch(
                        op.rawValue, lt.phrase, rt.phrase, quotedNumber: Checker.quotedNumber(l, r, lt, rt), file,
                        expr.span))
            }
        case .in, .notIn:
            if rt.isConcrete, rt.element == nil {
                report(
                    .membershipNeedsList(
                        op.rawValue, right: rightText, found: rt.phrase, left: rt == .string ? leftText : nil, file,
                        right.span))
            } else if let element = rt.element, !lt.canEqual(element) {
                report(
                    .neverIn(
                        lt.phrase, leftText, list: rt.phrase, file, expr.span,
                        help: quantifierHelp(list: right, value: left)))
            }
        case .contains:
            if lt == .string {
                if rt.isConcrete, rt != .string {
                    report(.stringContainsNonString(found: rt.phrase, file, right.span))
                }
            } else if let element = lt.element {
                if !element.canEqual(rt) {
                    report(
                        .listNeverContains(
                            lt.phrase, rt.phrase, file, expr.span, help: quantifierHelp(list: left, value: right)))
                }
            } else if lt.isConcrete {
                report(.containsNeedsContainer(leftText, found: lt.phrase, file, left.span))
            }
        case .startsWith, .endsWith:
            for (type, side) in [(lt, left), (rt, right)] where type.isConcrete && type != .string {
                report(.affixNeedsStrings(op.rawValue, file.text(side.span), found: type.phrase, file, side.span))
            }
        case .matches:
            break
        }
        if case .constant(let a) = l.kind, case .constant(let b) = r.kind, let folded = Checker.fold(op, a, b) {
            return (node(.constant(.bool(folded))), .bool)
        }
        return (node(.compare(op, l, r)), .bool)
    }

    /// The text of a quoted number compared with a number (`"1"` against `logins_count`), if that is the mistake.
    static func quotedNumber(_ l: CheckedExpr, _ r: CheckedExpr, _ lt: StaticType, _ rt: StaticType) -> String? {
        for (expr, other) in [(l, rt), (r, lt)] {
            if case .constant(.string(let text)) = expr.kind, other == .number, Double(text) != nil { return text }
        }
        return nil
    }

    /// Folds a comparison of two constants where the answer cannot depend on the event.
    static func fold(_ op: BinaryOperator, _ a: Constant, _ b: Constant) -> Bool? {
        switch op {
        case .equal: return a == b
        case .notEqual: return a != b
        case .in, .notIn:
            guard case .list(let items) = b else { return nil }
            let found = items.contains(a)
            return op == .in ? found : !found
        default: return nil
        }
    }

    mutating func checkMatches(_ left: Expr, _ right: Expr, _ expr: Expr) -> (CheckedExpr, StaticType) {
        let (subject, type) = check(left)
        if type.isConcrete, type != .string {
            report(.matchesNeedsString(file.text(left.span), found: type.phrase, file, left.span))
        }
        let regex: CompiledRegex?
        if case .path(let segments) = right.kind, segments.count == 1, case .key(let name, _) = segments[0],
            bindings.declared[name] != nil, locals.allSatisfy({ $0.name != name })
        {
            // A `let` naming a regex literal: compiled (and linted) once, where it is defined.
            bindings.used.insert(name)
            regex = bindings.regex(name, subject: file.text(left.span))
            if regex == nil, !bindings.isRegex(name) { report(.patternNotLiteral(file, right.span)) }
        } else {
            regex = compilePattern(right, subject: file.text(left.span))
        }
        guard let regex else { return (CheckedExpr(kind: .constant(.null), span: expr.span), .bool) }
        return (CheckedExpr(kind: .matches(subject, regex), span: expr.span), .bool)
    }

    /// Compiles the regex or string literal `right` (the pattern of `matches`), reporting an invalid pattern,
    /// a start-of-pattern option, or a literal that is neither, and running the regex lints (whose help names
    /// `subject`, the text matched).
    mutating func compilePattern(_ right: Expr, subject: String) -> CompiledRegex? {
        let pattern: String
        let flags: CompiledRegex.Flags
        var patternStart: Int?
        switch right.kind {
        case .regex(let text, let regexFlags, let start):
            (pattern, flags, patternStart) = (text, regexFlags, start)
        case .string(let text):
            (pattern, flags) = (text, [])
            let source = file.text(right.span)
            if source.utf8.count == text.utf8.count + 2 { patternStart = right.span.start + 1 }
        default:
            report(.patternNotLiteral(file, right.span))
            return nil
        }
        if let option = CompiledRegex.startOption(in: pattern) {
            var span = right.span
            if let patternStart {
                span = Span(patternStart + option.offset, patternStart + option.offset + option.text.utf8.count)
            }
            report(.regexStartOption(option.text, file, span))
            return nil
        }
        do {
            let regex = try bindings.compile(pattern, flags: flags).get()
            for lint in regexLints(pattern, flags: flags, patternStart: patternStart, literal: right, subject: subject)
            {
                report(lint)
            }
            return regex
        } catch {
            var span = right.span
            if let patternStart {
                let at = min(patternStart + error.offset, right.span.end - 1)
                span = Span(at, at + 1)
            }
            report(.invalidRegex(error.message, file, span))
            return nil
        }
    }
}
