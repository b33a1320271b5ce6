import RolecallJSON
import RolecallRegex

/// Names: the rule set's `let` bindings and the elements bound by `any` and `all`.
extension Checker {
    /// A name bound by a quantifier: each element of its list, typed from the schema where the list's type is
    /// known (`any(user.identities, i, ...)` makes `i` an identity object).
    struct Local {
        var name: String
        var type: FieldType
    }

    /// The `let` bindings of a rule set: declared in any file, visible in every file, each checked once (in the
    /// file that defines it) and expanded where it is used.
    final class Bindings {
        enum State {
            case unchecked
            case checking
            /// Checked: the expansion, its type, and how deep it nests with the `let`s it uses expanded.
            case checked(CheckedExpr, StaticType, depth: Int)
            /// Its name or its definition has an error already reported; uses read as `null` quietly.
            case invalid
        }

        /// Every binding by name (the first of duplicates).
        var declared: [String: Binding] = [:]
        /// Names in declaration order.
        var order: [String] = []
        var state: [String: State] = [:]
        /// Names a rule or another binding used.
        var used: Set<String> = []
        /// The names being checked, outermost first, to report a cycle with its path.
        var stack: [String] = []
        /// What checking the bindings reported.
        var diagnostics: [Diagnostic] = []
        /// Each `let` of a regex literal, compiled at its first use after `matches` (nil: the pattern is invalid).
        var regexes: [String: CompiledRegex?] = [:]
        /// Every pattern compiled so far, by its bytes and flags: a pattern written in many rules is compiled by
        /// PCRE2 once, and the rules share the (immutable) compiled regex.
        var patterns: [PatternKey: Result<CompiledRegex, CompiledRegex.CompileError>] = [:]

        /// A pattern's bytes (not its characters: `é` and `e` with a combining accent are different patterns)
        /// and flags.
        struct PatternKey: Hashable {
            var pattern: String
            var flags: CompiledRegex.Flags

            static func == (a: PatternKey, b: PatternKey) -> Bool {
                a.flags == b.flags && a.pattern.utf8.elementsEqual(b.pattern.utf8)
            }

            func hash(into hasher: inout Hasher) {
                hasher.combine(flags.rawValue)
                var pattern = pattern
                pattern.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            }
        }

        /// `pattern` compiled with `flags`, or why it does not compile; each distinct pattern is compiled once.
        func compile(_ pattern: String, flags: CompiledRegex.Flags) -> Result<CompiledRegex, CompiledRegex.CompileError>
        {
            let key = PatternKey(pattern: pattern, flags: flags)
            if let known = patterns[key] { return known }
            let result = Result { () throws(CompiledRegex.CompileError) in try CompiledRegex(pattern, flags: flags) }
            patterns[key] = result
            return result
        }

        /// Whether binding `name` is a regex literal (`let acme = /@acme\.com$/`).
        func isRegex(_ name: String) -> Bool {
            if case .regex? = declared[name]?.value.kind { return true }
            return false
        }

        /// The compiled regex of binding `name`, a regex literal, compiled once in its own file; nil when it is
        /// not a regex literal or the pattern is invalid (reported once).
        func regex(_ name: String, subject: String) -> CompiledRegex? {
            guard let binding = declared[name], isRegex(name) else { return nil }
            if let compiled = regexes[name] { return compiled }
            var checker = Checker(file: binding.file, bindings: self)
            let compiled = checker.compilePattern(binding.value, subject: subject)
            diagnostics += checker.diagnostics
            regexes[name] = compiled
            return compiled
        }

        /// Adds a binding; returns the errors its name causes (a duplicate, or a name that is taken).
        func declare(_ binding: Binding) -> [Diagnostic] {
            let name = binding.name
            if let first = declared[name] {
                return [.duplicateBinding(name, binding.file, binding.nameSpan, first: first)]
            }
            declared[name] = binding
            order.append(name)
            if let what = Checker.reservedMeaning(name) {
                state[name] = .invalid
                return [.nameTaken(name, by: what, binding.file, binding.nameSpan)]
            }
            state[name] = .unchecked
            return []
        }

        /// The checked value of binding `name`, checking it first if need be; nil when it is invalid or part of
        /// a cycle (reported once, at the binding where the cycle closes).
        func resolve(_ name: String) -> (CheckedExpr, StaticType, depth: Int)? {
            guard let binding = declared[name] else { return nil }
            switch state[name] ?? .invalid {
            case .checked(let expr, let type, let depth): return (expr, type, depth)
            case .invalid: return nil
            case .checking:
                let chain = Array(stack.drop { $0 != name }) + [name]
                diagnostics.append(.recursiveBinding(name, through: chain, binding.file, binding.nameSpan))
                for member in chain { state[member] = .invalid }
                return nil
            case .unchecked where isRegex(name):
                // A regex is only ever the pattern of `matches`, which compiles it (``regex(_:subject:)``).
                let placeholder = CheckedExpr(kind: .constant(.null), span: binding.value.span)
                state[name] = .checked(placeholder, .regex, depth: 1)
                return (placeholder, .regex, 1)
            case .unchecked:
                // A chain of names each using the next nests as deep as it is long: stop before the checker's
                // own recursion could exhaust the stack.
                guard stack.count < Parser.maxDepth else {
                    diagnostics.append(.nestingTooDeep(binding.file, binding.nameSpan, limit: Parser.maxDepth))
                    state[name] = .invalid
                    return nil
                }
                state[name] = .checking
                stack.append(name)
                var checker = Checker(file: binding.file, bindings: self)
                let (expr, type) = checker.check(binding.value)
                stack.removeLast()
                diagnostics += checker.diagnostics
                if case .invalid = state[name] { return nil }
                state[name] = .checked(expr, type, depth: checker.deepest)
                return (expr, type, checker.deepest)
            }
        }

        /// Warnings for bindings nothing uses.
        func unused() -> [Diagnostic] {
            order.compactMap { name in
                guard !used.contains(name), let binding = declared[name], case .checked = state[name] else {
                    return nil
                }
                return .unusedBinding(name, binding.file, binding.nameSpan)
            }
        }
    }

    /// What `name` already means, if it cannot be a `let` or quantifier name: an event field, a function, `any`.
    static func reservedMeaning(_ name: String) -> String? {
        if EventSchema.rootNames.contains(name) { return "a field of the post-login event" }
        if Function(rawValue: name) != nil { return "a function" }
        if Quantifier(rawValue: name) != nil { return "a quantifier" }
        return nil
    }

    /// A use of binding `name` (`written[0]`): a constant or a path is inlined; any other expression is
    /// expanded as a ``CheckedExpr/Kind/named(_:_:file:)`` node, so traces show it by name.
    mutating func reference(_ name: String, _ written: [PathSegment], _ expr: Expr) -> (CheckedExpr, StaticType) {
        bindings.used.insert(name)
        guard let (value, type, depth) = bindings.resolve(name), let binding = bindings.declared[name] else {
            // The binding's error was reported where it is defined; count it here too, so the rule that uses it
            // is not also called constant.
            errorCount += 1
            return (CheckedExpr(kind: .constant(.null), span: expr.span), .any)
        }
        // Expanded here, the name nests as deep as its definition does.
        deepest = max(deepest, nesting + depth)
        guard nesting + depth <= Parser.maxDepth else {
            report(.nestingTooDeep(file, expr.span, limit: Parser.maxDepth))
            return (CheckedExpr(kind: .constant(.null), span: expr.span), .any)
        }
        if written.count > 1 {
            guard case .path(let base) = value.kind else {
                if case .key(let field, let span) = written[1] {
                    report(.bindingHasNoFields(name, field: field, file, span))
                } else {
                    report(.bindingHasNoFields(name, field: written[1].description, file, written[1].span))
                }
                return (CheckedExpr(kind: .constant(.null), span: expr.span), .any)
            }
            // `meta.plan` with `let meta = user.app_metadata` is the path `user.app_metadata.plan`.
            let segments = base + written.dropFirst()
            var type: FieldType?
            if case .object(let roots) = EventSchema.root, case .key(let root, _) = segments[0], let start = roots[root]
            {
                type = walk(segments, from: start, expr)
            }
            return (CheckedExpr(kind: .path(segments), span: expr.span), type.map(StaticType.init) ?? .any)
        }
        switch value.kind {
        case .constant, .path: return (CheckedExpr(kind: value.kind, span: expr.span), type)
        default: return (CheckedExpr(kind: .named(name, value, file: binding.file), span: expr.span), type)
        }
    }

    /// `any(LIST, NAME, COND)` / `all(LIST, NAME, COND)`.
    mutating func checkQuantifier(
        _ quantifier: Quantifier, _ list: Expr, _ name: String, _ nameSpan: Span, _ body: Expr, _ expr: Expr
    ) -> (CheckedExpr, StaticType) {
        let (checkedList, listType) = check(list)
        if listType.isConcrete, listType.element == nil {
            report(
                .quantifierNeedsList(quantifier.rawValue, file.text(list.span), found: listType.phrase, file, list.span)
            )
        }
        if let what = Checker.reservedMeaning(name) {
            report(.nameTaken(name, by: what, file, nameSpan))
        } else if bindings.declared[name] != nil {
            // One error is enough: the `let` is not also "never used".
            bindings.used.insert(name)
            report(.nameTaken(name, by: "a `let` name", file, nameSpan))
        } else if locals.contains(where: { $0.name == name }) {
            report(.nameTaken(name, by: "bound by an enclosing `any` or `all`", file, nameSpan))
        }
        var element = FieldType.any
        if case .list(let type)? = fieldType(of: checkedList) { element = type }
        let variable = locals.count
        locals.append(Local(name: name, type: element))
        let (checkedBody, bodyType) = check(body)
        locals.removeLast()
        requireBoolean(bodyType, body, context: "the condition of `\(quantifier.rawValue)`")
        // `all` of an empty list is true and `any` false; a `null` list makes both false.
        switch checkedList.kind {
        case .constant(.null):
            return (CheckedExpr(kind: .constant(.bool(false)), span: expr.span), .bool)
        case .constant(.list(let items)) where items.isEmpty:
            return (CheckedExpr(kind: .constant(.bool(quantifier == .all)), span: expr.span), .bool)
        default:
            let node = CheckedExpr.Kind.quantifier(
                quantifier, list: checkedList, variable: variable, name: name, body: checkedBody)
            return (CheckedExpr(kind: node, span: expr.span), .bool)
        }
    }

    /// The schema type of a checked expression that reads a field (directly, through a bound element, or through
    /// a `let`), without reporting anything; nil when it is not a field or its type is unknown.
    func fieldType(of expr: CheckedExpr) -> FieldType? {
        switch expr.kind {
        case .path(let segments):
            guard case .object(let roots) = EventSchema.root, case .key(let root, _) = segments.first,
                let start = roots[root]
            else { return nil }
            return Checker.quietWalk(segments.dropFirst(), from: start)
        case .local(let variable, _, let segments):
            return Checker.quietWalk(segments[...], from: locals[variable].type)
        case .named(_, let inner, _):
            return fieldType(of: inner)
        default:
            return nil
        }
    }

    /// The type below `start` along `segments`, or nil where it is unknown or the path leaves the schema.
    static func quietWalk(_ segments: ArraySlice<PathSegment>, from start: FieldType) -> FieldType? {
        var type = start
        for segment in segments {
            switch (type, segment) {
            case (.object(let fields), .key(let name, _)):
                guard let next = fields[name] else { return nil }
                type = next
            case (.map(let value), .key): type = value
            case (.list(let element), .index): type = element
            default: return nil
            }
        }
        return type
    }
}

extension PathSegment: CustomStringConvertible {
    /// The segment as written after its parent: `name` or `[0]`.
    public var description: String {
        switch self {
        case .key(let name, _): name
        case .index(let index, _): "[\(index)]"
        }
    }
}
