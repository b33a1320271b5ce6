/// Lints: warnings for rules that are valid but probably wrong, learned from real outages.
extension Checker {
    /// Runs every lint over the checked rules of a rule set.
    static func lint(_ rules: [CheckedRule]) -> [Diagnostic] {
        var found: [Diagnostic] = []
        for (index, rule) in rules.enumerated() {
            let atoms = conjuncts(rule.rule.condition)
            found += firstLoginCount(rule, atoms)
            found += contradictions(rule, atoms)
            found += overriddenEffects(rule, atoms, later: rules[(index + 1)...])
        }
        return found
    }

    /// The parts of a condition joined by top-level `and`; none for a rule without a condition.
    static func conjuncts(_ condition: Expr?) -> [Expr] {
        guard let condition else { return [] }
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

    /// `x == "a" and x == "b"`, `x == 1 and x != 1`: a conjunction that can never hold.
    static func contradictions(_ rule: CheckedRule, _ atoms: [Expr]) -> [Diagnostic] {
        var equal: [(path: [PathSegment], value: Expr, atom: Expr)] = []
        var notEqual: [(path: [PathSegment], value: Expr, atom: Expr)] = []
        for atom in atoms {
            guard case .binary(let op, let left, let right) = atom.kind, op == .equal || op == .notEqual,
                case .path(let path) = left.kind, right.isLiteral
            else { continue }
            if op == .equal { equal.append((path, right, atom)) } else { notEqual.append((path, right, atom)) }
        }
        for (index, first) in equal.enumerated() {
            if let clash = equal[(index + 1)...].first(where: { $0.path == first.path && $0.value != first.value }) {
                return [.contradiction(rule.rule.file, clash.atom.span, other: first.atom.span)]
            }
            if let clash = notEqual.first(where: { $0.path == first.path && $0.value == first.value }) {
                return [.contradiction(rule.rule.file, clash.atom.span, other: first.atom.span)]
            }
        }
        return []
    }

    /// A role this rule assigns (or revokes) that a later rule always revokes (or assigns) again: the later
    /// rule's condition holds whenever this one's does (its conjuncts are a subset), so the effect here never
    /// survives (the later rule wins).
    static func overriddenEffects(_ rule: CheckedRule, _ atoms: [Expr], later: ArraySlice<CheckedRule>) -> [Diagnostic]
    {
        var found: [Diagnostic] = []
        for effect in rule.effects {
            for other in later {
                guard other.effects.contains(where: { $0.role == effect.role && $0.assign != effect.assign }) else {
                    continue
                }
                let otherAtoms = conjuncts(other.rule.condition)
                guard otherAtoms.allSatisfy({ atom in atoms.contains(atom) }) else { continue }
                let roleSpan =
                    rule.rule.actions.lazy.compactMap { action -> Span? in
                        switch action.kind {
                        case .assign(let roles), .revoke(let roles): roles.first { $0.name == effect.role }?.span
                        case .stop: nil
                        }
                    }.first ?? rule.rule.span
                found.append(
                    .overriddenEffect(effect.role, assign: effect.assign, rule.rule.file, roleSpan, by: other.rule))
                break
            }
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
