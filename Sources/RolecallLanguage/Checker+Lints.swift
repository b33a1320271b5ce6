/// Lints: warnings for rules that are valid but probably wrong, learned from real outages.
///
/// Every lint is linear in the size of the rule set (a rule set of 64,000 rules loads in well under a second):
/// rules are never compared pair by pair; later rules are found through indexes keyed by what a lint looks for.
extension Checker {
    /// Runs every lint over the checked rules of a rule set.
    static func lint(_ rules: [CheckedRule]) -> [Diagnostic] {
        var work = 0
        return lint(rules, work: &work)
    }

    /// ``lint(_:)``, adding to `work` one unit per index lookup and per candidate the lints examine, so a test
    /// can tell linear from quadratic behaviour without timing anything.
    static func lint(_ rules: [CheckedRule], work: inout Int) -> [Diagnostic] {
        var found: [Diagnostic] = []
        let atoms = rules.map { conjuncts($0.rule.condition) }
        let keys = atoms.map { Set($0.map(ASTPrinter.print)).sorted() }
        let later = LaterRules(rules, keys: keys)
        for (index, rule) in rules.enumerated() {
            found += firstLoginCount(rule, atoms[index])
            found += contradictions(rule, atoms[index])
            found += overriddenEffects(index, rules, keys: keys[index], later: later, work: &work)
        }
        return found
    }

    /// The parts of a condition joined by top-level `and`, left to right; none for a rule without a condition.
    static func conjuncts(_ condition: Expr?) -> [Expr] {
        guard let condition else { return [] }
        // A chain is one n-ary node; a parenthesised `and` inside it is flattened too (its depth is bounded by
        // the parser's nesting limit).
        if case .and(let operands) = condition.kind { return operands.flatMap { conjuncts($0) } }
        return [condition]
    }

    /// `logins_count == 1`: Auth0 does not count SSO or silent logins and counts failed MFA differently, so a
    /// user can pass their first login without the count ever being 1 here, and never get the role.
    static func firstLoginCount(_ rule: CheckedRule, _ atoms: [Expr]) -> [Diagnostic] {
        atoms.compactMap { atom -> Diagnostic? in
            guard case .binary(.equal, let left, let right) = atom.kind, case .path(let path) = left.kind,
                case .number(1) = right.kind,
                path == [.key("logins_count", span: Span(0, 0))]
                    || path == [.key("stats", span: Span(0, 0)), .key("logins_count", span: Span(0, 0))]
            else { return nil }
            let role = rule.effects.first { $0.assign }?.role ?? "member"
            return .firstLoginCount(rule.rule.file, atom.span, role: role)
        }
    }

    /// A literal as a key: equal literals (`1` and `1.0`) give equal keys.
    enum LiteralKey: Hashable {
        case string(String), number(Double), bool(Bool), null

        init?(_ expr: Expr) {
            switch expr.kind {
            case .string(let text): self = .string(text)
            case .number(let value): self = .number(value)
            case .bool(let value): self = .bool(value)
            case .null: self = .null
            default: return nil
            }
        }
    }

    /// `x == "a" and x == "b"`, `x == 1 and x != 1`: a conjunction that can never hold.
    ///
    /// Reports the first clash: for the earliest `x == v` that has one, the first later `x == w` with `w != v`,
    /// else the first `x != v`. Only the first `==` of each path needs looking at: if it has no clash, every
    /// later `==` of that path compares with the same value and has none either.
    static func contradictions(_ rule: CheckedRule, _ atoms: [Expr]) -> [Diagnostic] {
        var firstEqual: [[PathSegment]: (value: LiteralKey, atom: Expr)] = [:]
        var firstDifferentEqual: [[PathSegment]: Expr] = [:]
        var firstNotEqual: [[PathSegment]: [LiteralKey: Expr]] = [:]
        var equalsInOrder: [[PathSegment]] = []
        for atom in atoms {
            guard case .binary(let op, let left, let right) = atom.kind, op == .equal || op == .notEqual,
                case .path(let path) = left.kind, let value = LiteralKey(right)
            else { continue }
            if op == .notEqual {
                if firstNotEqual[path, default: [:]][value] == nil { firstNotEqual[path, default: [:]][value] = atom }
            } else if let first = firstEqual[path] {
                if first.value != value, firstDifferentEqual[path] == nil { firstDifferentEqual[path] = atom }
            } else {
                firstEqual[path] = (value, atom)
                equalsInOrder.append(path)
            }
        }
        for path in equalsInOrder {
            guard let first = firstEqual[path] else { continue }
            if let clash = firstDifferentEqual[path] ?? firstNotEqual[path]?[first.value] {
                return [.contradiction(rule.rule.file, clash.span, other: first.atom.span)]
            }
        }
        return []
    }

    /// Where the later rules are, by what ``overriddenEffects(_:_:keys:later:work:)`` asks about them: the rules
    /// with an effect on a role under exactly a given set of conjuncts, and the rules that stop under exactly a
    /// given set of conjuncts. Each list holds rule indices in increasing order.
    struct LaterRules {
        struct EffectKey: Hashable {
            var role: String
            var assign: Bool
            var conjuncts: [String]
        }

        var effects: [EffectKey: [Int]] = [:]
        var stops: [[String]: [Int]] = [:]

        init(_ rules: [CheckedRule], keys: [[String]]) {
            for (index, rule) in rules.enumerated() {
                for effect in rule.effects {
                    effects[EffectKey(role: effect.role, assign: effect.assign, conjuncts: keys[index]), default: []]
                        .append(index)
                }
                if rule.stops { stops[keys[index], default: []].append(index) }
            }
        }

        /// The first index in `indices` (increasing) greater than `index`.
        static func first(after index: Int, in indices: [Int]?, work: inout Int) -> Int? {
            guard let indices, let last = indices.last, last > index else { return nil }
            var low = 0
            var high = indices.count - 1
            while low < high {
                work += 1
                let mid = (low + high) / 2
                if indices[mid] > index { high = mid } else { low = mid + 1 }
            }
            return indices[low]
        }
    }

    /// The conjunct sets whose rules' conditions surely hold when a rule with conjuncts `keys` fires: its
    /// subsets. With more than six conjuncts, only the empty set, each single conjunct and the whole set, so a
    /// rule of thousands of conjuncts costs thousands of lookups, not 2^n (a lint may miss a case; it must not
    /// hang).
    static func subsets(of keys: [String]) -> [[String]] {
        guard keys.count <= 6 else { return [[]] + keys.map { [$0] } + (keys.count > 1 ? [keys] : []) }
        return (0..<(1 << keys.count)).map { mask in keys.indices.filter { mask & (1 << $0) != 0 }.map { keys[$0] } }
    }

    /// A role this rule assigns (or revokes) that a later rule always revokes (or assigns) again: the later
    /// rule's condition holds whenever this one's does (its conjuncts are a subset), so the effect here never
    /// survives (the later rule wins).
    ///
    /// Not when this rule stops: then no later rule runs after it fires. Nor when a rule in between always stops
    /// when this one fires.
    static func overriddenEffects(
        _ index: Int, _ rules: [CheckedRule], keys: [String], later: LaterRules, work: inout Int
    ) -> [Diagnostic] {
        let rule = rules[index]
        guard !rule.stops, !rule.effects.isEmpty else { return [] }
        let candidates = subsets(of: keys)
        var firstStop: Int?
        for subset in candidates {
            work += 1
            if let stop = LaterRules.first(after: index, in: later.stops[subset], work: &work) {
                firstStop = min(firstStop ?? stop, stop)
            }
        }
        var found: [Diagnostic] = []
        var roleSpans: [String: Span] = [:]
        for effect in rule.effects {
            var undoing: Int?
            for subset in candidates {
                work += 1
                let key = LaterRules.EffectKey(role: effect.role, assign: !effect.assign, conjuncts: subset)
                if let other = LaterRules.first(after: index, in: later.effects[key], work: &work) {
                    undoing = min(undoing ?? other, other)
                }
            }
            // A rule in between that always stops keeps the later one from running (the later one may stop itself).
            guard let undoing, firstStop.map({ undoing <= $0 }) ?? true else { continue }
            if roleSpans.isEmpty {
                for action in rule.rule.actions {
                    switch action.kind {
                    case .assign(let roles), .revoke(let roles), .revokeAll(except: let roles):
                        for role in roles where roleSpans[role.name] == nil { roleSpans[role.name] = role.span }
                    case .stop: break
                    }
                }
            }
            let roleSpan = roleSpans[effect.role] ?? rule.rule.span
            found.append(
                .overriddenEffect(
                    effect.role, assign: effect.assign, rule.rule.file, roleSpan, by: rules[undoing].rule))
        }
        return found
    }
}

extension Expr {
    /// A literal whose value is known as written.
    var isLiteral: Bool {
        switch kind {
        case .string, .number, .bool, .null: true
        default: false
        }
    }
}
