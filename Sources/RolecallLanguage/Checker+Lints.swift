import RolecallRegex

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
        var linter = Linter(capacity: rules.count)
        // Through the buffer: `rules[index]` as an argument would copy the rule (a dozen reference counts).
        return rules.withUnsafeBufferPointer { rules in
            for index in rules.indices { linter.add(rules[index], work: &work) }
            return linter.finish(rules, work: &work)
        }
    }

    /// The lints of a rule set, run as its rules are checked, each rule while the checker has just read it: on a
    /// rule set larger than the processor's caches, every later pass over the rules would cost cache misses.
    ///
    /// ``add(_:work:)`` runs the lints of one rule alone and keeps what `overridden-effect` needs to know of
    /// it in flat arrays; ``finish(_:work:)`` runs `overridden-effect`, which compares each rule with the rules
    /// after it, from the last rule to the first (the later rules are then those already seen), on those
    /// arrays alone.
    struct Linter {
        var numbers: ConjunctNumbers
        var editable = EditableReads()
        /// Per rule: its set of conjuncts (as sorted conjunct numbers in `members`, from `memberStarts[i]`) and
        /// the set's number.
        var members: [Int] = []
        var memberStarts: [Int] = [0]
        var sets: [Int] = []
        /// Per rule: its effects (from `effectStarts[i]` in `effectRoles` and `effectAssigns`), whether it stops,
        /// and its `revoke all` exceptions.
        var effectRoles: [String] = []
        var effectAssigns: [Bool] = []
        var effectStarts: [Int] = [0]
        /// Per effect: the rule it is of.
        var effectRules: [Int] = []
        var stops: [Bool] = []
        var revokeAlls: [[String]?] = []
        /// The diagnostics of the lints of one rule, for each rule that has some.
        var found: [(rule: Int, diagnostics: [Diagnostic])] = []

        init(capacity: Int) {
            numbers = ConjunctNumbers(capacity: capacity)
            members.reserveCapacity(capacity)
            memberStarts.reserveCapacity(capacity + 1)
            sets.reserveCapacity(capacity)
            effectRoles.reserveCapacity(capacity)
            effectAssigns.reserveCapacity(capacity)
            effectStarts.reserveCapacity(capacity + 1)
            effectRules.reserveCapacity(capacity)
            stops.reserveCapacity(capacity)
            revokeAlls.reserveCapacity(capacity)
        }

        /// Lints the next rule of the rule set.
        mutating func add(_ rule: borrowing CheckedRule, work: inout Int) {
            let atoms = conjuncts(rule.rule.condition)
            sets.append(numbers.key(atoms, into: &members))
            memberStarts.append(members.count)
            for effect in rule.effects {
                effectRoles.append(effect.role)
                effectAssigns.append(effect.assign)
                effectRules.append(sets.count - 1)
            }
            effectStarts.append(effectRoles.count)
            stops.append(rule.stops)
            revokeAlls.append(rule.revokeAll)
            var diagnostics = firstLoginCount(rule, atoms)
            diagnostics += userEditableField(rule, cache: &editable, work: &work)
            diagnostics += contradictions(rule, atoms)
            if !diagnostics.isEmpty { found.append((sets.count - 1, diagnostics)) }
        }

        /// Runs `overridden-effect` over the rules added (`rules`, the same, for the messages) and returns every
        /// diagnostic, rule by rule.
        func finish(_ rules: UnsafeBufferPointer<CheckedRule>, work: inout Int) -> [Diagnostic] {
            var later = LaterRules(capacity: sets.count, sets: numbers.setCount)
            // The diagnostics of each rule that has some, from the last rule back.
            var overridden: [(rule: Int, diagnostics: [Diagnostic])] = []
            for index in sets.indices.reversed() {
                let conjuncts = members[memberStarts[index]..<memberStarts[index + 1]]
                let diagnostics = overriddenEffects(index, rules, conjuncts: conjuncts, later: later, work: &work)
                if !diagnostics.isEmpty { overridden.append((index, diagnostics)) }
                later.add(index, self)
            }
            // Rule by rule: its own lints, then `overridden-effect`.
            var all: [Diagnostic] = []
            var next = found.startIndex
            for (index, diagnostics) in overridden.reversed() {
                while next < found.endIndex, found[next].rule <= index {
                    all += found[next].diagnostics
                    next += 1
                }
                all += diagnostics
            }
            for rest in found[next...] { all += rest.diagnostics }
            return all
        }

        /// Effect `position` (of all the rules' effects, in order).
        func effect(_ position: Int) -> (role: String, assign: Bool) {
            (effectRoles[position], effectAssigns[position])
        }

        /// Whether effect `position` is on `role`, assigning it or not as `assign` says, under set `set`. Role
        /// names compare by their bytes (``ExactString``), as the evaluator's do.
        func isEffect(_ position: Int, _ role: String, _ assign: Bool, set: Int) -> Bool {
            effectAssigns[position] == assign && sets[effectRules[position]] == set
                && ExactString(effectRoles[position]) == ExactString(role)
        }

        /// Whether rule `index` assigns `role` itself.
        func assigns(_ index: Int, _ role: String) -> Bool {
            (effectStarts[index]..<effectStarts[index + 1]).contains {
                effectAssigns[$0] && ExactString(effectRoles[$0]) == ExactString(role)
            }
        }
    }

    /// Numbers for conjuncts and for sets of them, so that the lints' indexes hash small integers rather than
    /// lists of printed expressions. Two conjuncts get the same number when they print the same
    /// (``ASTPrinter``), and a set of conjuncts is its numbers, sorted.
    ///
    /// Built for rule sets of many thousands of rules: a lookup hashes the printed text and then touches one
    /// table of integers (keys that are strings or arrays would be read, each from wherever it was allocated,
    /// at every probe of the table), and the printed texts are kept back to back in one buffer.
    struct ConjunctNumbers {
        /// The conjunct numbers by the hashes of their printed texts.
        var byHash: HashIndex
        /// The printed texts, back to back, and where each begins (`textStarts[n]` to `textStarts[n + 1]`).
        var texts: [UInt8] = []
        var textStarts: [Int] = [0]
        /// The text being printed (kept to reuse its storage).
        var printed = ""
        /// The number of the empty set (-1 until some rule has no condition), of each set of one conjunct by the
        /// conjunct's number (-1: no rule has it), and of each larger set.
        var emptySet = -1
        var singleSets: [Int] = []
        var largerSets: [[Int]: Int] = [:]
        var setCount = 0

        init(capacity: Int) {
            byHash = HashIndex(capacity: capacity)
            // A conjunct prints in a few dozen bytes (`(== user.app_metadata.plan "x")`).
            texts.reserveCapacity(32 * capacity)
            textStarts.reserveCapacity(capacity + 1)
            singleSets.reserveCapacity(capacity)
        }

        /// The number of `atom`, numbering it if it is new.
        mutating func number(_ atom: Expr) -> Int {
            printed.removeAll(keepingCapacity: true)
            ASTPrinter.write(atom, into: &printed)
            let hash = printed.hashValue
            if let (number, _) = byHash.find(hash, where: isPrinted) { return number }
            let number = textStarts.count - 1
            byHash.insert(hash, number)
            texts += printed.utf8
            textStarts.append(texts.count)
            singleSets.append(-1)
            return number
        }

        /// Whether conjunct `number` printed as ``printed`` does: the same text as `String` compares them
        /// (canonical equivalence), by their bytes when both are ASCII.
        func isPrinted(_ number: Int) -> Bool {
            let stored = texts[textStarts[number]..<textStarts[number + 1]]
            var text = printed
            return text.withUTF8 { bytes in
                if bytes.elementsEqual(stored) { return true }
                // Different bytes are different ASCII texts; otherwise only `String` knows (`é` written as one
                // scalar or two, the Kelvin sign and `K`).
                guard !(bytes.allSatisfy { $0 < 0x80 } && stored.allSatisfy { $0 < 0x80 }) else { return false }
                return String(decoding: stored, as: UTF8.self) == printed
            }
        }

        /// The set of `atoms`: appends its sorted conjunct numbers to `members` and returns its number.
        mutating func key(_ atoms: [Expr], into members: inout [Int]) -> Int {
            let start = members.count
            for atom in atoms { members.append(number(atom)) }
            if members.count - start > 1 {
                members[start...].sort()
                // A conjunct written twice is one member of the set.
                var unique = start + 1
                for position in (start + 1)..<members.count where members[position] != members[unique - 1] {
                    members[unique] = members[position]
                    unique += 1
                }
                members.removeLast(members.count - unique)
            }
            let key = members[start...]
            if let set = set(key) { return set }
            switch key.count {
            case 0: emptySet = setCount
            case 1: singleSets[key.first!] = setCount
            default: largerSets[Array(key)] = setCount
            }
            setCount += 1
            return setCount - 1
        }

        /// The number of the set of conjuncts `key` (sorted numbers), if some rule has it.
        func set(_ key: ArraySlice<Int>) -> Int? {
            let found: Int
            switch key.count {
            case 0: found = emptySet
            case 1: found = singleSets[key.first!]
            default: found = largerSets[Array(key)] ?? -1
            }
            return found >= 0 ? found : nil
        }
    }

    /// The parts of a condition joined by top-level `and`, left to right; none for a rule without a condition.
    static func conjuncts(_ condition: Expr?) -> [Expr] {
        guard let condition else { return [] }
        // A chain is one n-ary node; a parenthesised `and` inside it is flattened too (its depth is bounded by
        // the parser's nesting limit).
        if case .and(let operands) = condition.kind { return operands.flatMap { conjuncts($0) } }
        return [condition]
    }

    /// `logins_count == 1` (or `<= 1`, `< 2`): Auth0 does not count SSO or silent logins and counts failed MFA
    /// differently, so a user can pass their first login without the count ever being 1 here, and never get the
    /// role.
    static func firstLoginCount(_ rule: borrowing CheckedRule, _ atoms: [Expr]) -> [Diagnostic] {
        var found: [Diagnostic] = []
        for atom in atoms {
            guard case .binary(let written, let first, let second) = atom.kind else { continue }
            // `1 == logins_count` and `2 > logins_count` are the same tests written the other way round.
            var (op, left, right) = (written, first, second)
            if case .number = first.kind, let flipped = mirrored(written) {
                (op, left, right) = (flipped, second, first)
            }
            guard case .path(let path) = left.kind, isLoginsCount(path) else { continue }
            // The tests that hold for a count of 1 and for no higher count: == 1, <= 1, < 2 (and < 1.5), in [1].
            let firstOnly: Bool
            switch (op, right.kind) {
            case (.equal, .number(let value)): firstOnly = value == 1
            case (.lessEqual, .number(let value)): firstOnly = value >= 1 && value < 2
            case (.less, .number(let value)): firstOnly = value > 1 && value <= 2
            case (.in, .list(let items)):
                firstOnly = items.contains { if case .number(1) = $0.kind { true } else { false } }
            default: firstOnly = false
            }
            guard firstOnly else { continue }
            found.append(.firstLoginCount(rule.rule.file, atom.span, role: rule.effects.first { $0.assign }?.role))
        }
        return found
    }

    /// The operator that tests the same with its operands swapped (`1 == x` is `x == 1`, `2 > x` is `x < 2`),
    /// for the operators ``firstLoginCount(_:_:)`` knows.
    static func mirrored(_ op: BinaryOperator) -> BinaryOperator? {
        switch op {
        case .equal: .equal
        case .less: .greater
        case .lessEqual: .greaterEqual
        case .greater: .less
        case .greaterEqual: .lessEqual
        default: nil
        }
    }

    /// Whether `path` is `logins_count` or `stats.logins_count`.
    static func isLoginsCount(_ path: [PathSegment]) -> Bool {
        switch path.count {
        case 1:
            if case .key("logins_count", _) = path[0] { return true }
        case 2:
            if case .key("stats", _) = path[0], case .key("logins_count", _) = path[1] { return true }
        default:
            break
        }
        return false
    }

    // MARK: user-editable-field

    /// The first read of `user.user_metadata` (or below it) in each `let` met so far, so that a binding used by
    /// many rules is walked once, not once per rule (the lint stays linear).
    struct EditableReads {
        struct Read {
            var path: [PathSegment]
            var file: SourceFile
            var span: Span
        }

        var named: [String: Read?] = [:]
    }

    /// Whether `path` (from the root, aliases expanded) is `user.user_metadata` or below it.
    static func isUserMetadata(_ path: [PathSegment]) -> Bool {
        guard path.count >= 2, case .key("user", _) = path[0], case .key("user_metadata", _) = path[1] else {
            return false
        }
        return true
    }

    /// A rule that assigns a role or stops evaluation and whose condition reads `user.user_metadata`: users can
    /// edit their own user_metadata (through the Authentication API or a profile page), so they can give
    /// themselves the role, or skip every later rule (a "blocked users lose everything" after it). Reads through
    /// a `let` and inside `any`/`all` count; each direct read is reported, and each use of a `let` that reads it
    /// (at the use, with a note at the read).
    static func userEditableField(
        _ rule: borrowing CheckedRule, cache: inout EditableReads, work: inout Int
    ) -> [Diagnostic] {
        let assigns = rule.effects.contains { $0.assign }
        // A rule that stops after `revoke all` leaves the user nothing to gain by skipping what follows.
        guard assigns || (rule.stops && rule.revokeAll == nil), let condition = rule.condition else { return [] }
        var found: [Diagnostic] = []
        let ruleFile = rule.rule.file
        // Depth first, left to right; by recursion rather than a stack of arrays of children, which cost an
        // allocation per node (the depth is bounded: the checker holds expanded trees to `Parser.maxDepth`).
        func visit(_ node: CheckedExpr) {
            work += 1
            if case .path(let path) = node.kind, isUserMetadata(path) {
                found.append(
                    .userEditableField(
                        path.dotted, fixed: appMetadata(path).dotted, ruleFile, node.span, assigns: assigns))
            } else if case .named(let name, let expr, let file) = node.kind {
                if let read = firstEditableRead(name, expr, file, cache: &cache, work: &work) {
                    found.append(
                        .userEditableField(
                            read.path.dotted, fixed: appMetadata(read.path).dotted, ruleFile, node.span,
                            through: name, read.file, read.span, assigns: assigns))
                }
            } else {
                forEachChild(of: node, visit)
            }
        }
        visit(condition)
        return found.sorted { $0.span.start < $1.span.start }
    }

    /// The first read of user_metadata in the expansion of the `let` called `name`, remembered in `cache`.
    static func firstEditableRead(
        _ name: String, _ expr: CheckedExpr, _ file: SourceFile, cache: inout EditableReads, work: inout Int
    ) -> EditableReads.Read? {
        if let known = cache.named[name] { return known }
        var read: EditableReads.Read?
        var stack = [expr]
        while read == nil, let node = stack.popLast() {
            work += 1
            switch node.kind {
            case .path(let path) where isUserMetadata(path):
                read = EditableReads.Read(path: path, file: file, span: node.span)
            case .named(let inner, let innerExpr, let innerFile):
                read = firstEditableRead(inner, innerExpr, innerFile, cache: &cache, work: &work)
            default:
                stack += children(node).reversed()
            }
        }
        cache.named[name] = .some(read)
        return read
    }

    /// `user.user_metadata...` with `app_metadata` in its place.
    static func appMetadata(_ path: [PathSegment]) -> [PathSegment] {
        var fixed = path
        fixed[1] = .key("app_metadata", span: path[1].span)
        return fixed
    }

    /// Calls `body` with each operand of a checked node, left to right (a `let` is a leaf here, as in
    /// ``children(_:)``).
    static func forEachChild(of node: CheckedExpr, _ body: (CheckedExpr) -> Void) {
        switch node.kind {
        case .constant, .path, .local, .named: break
        case .list(let items), .and(let items), .or(let items): items.forEach(body)
        case .call(_, let argument): body(argument)
        case .not(let operand), .negate(let operand): body(operand)
        case .compare(_, let left, let right):
            body(left)
            body(right)
        case .matches(let subject, _): body(subject)
        case .quantifier(_, let list, _, _, let conditionBody):
            body(list)
            body(conditionBody)
        }
    }

    /// The operands of a checked node, left to right (a `let` is a leaf here: its callers look into it).
    static func children(_ node: CheckedExpr) -> [CheckedExpr] {
        switch node.kind {
        case .constant, .path, .local, .named: []
        case .list(let items), .and(let items), .or(let items): items
        case .call(_, let argument): [argument]
        case .not(let operand), .negate(let operand): [operand]
        case .compare(_, let left, let right): [left, right]
        case .matches(let subject, _): [subject]
        case .quantifier(_, let list, _, _, let body): [list, body]
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
    static func contradictions(_ rule: borrowing CheckedRule, _ atoms: [Expr]) -> [Diagnostic] {
        // A clash takes two conjuncts.
        guard atoms.count > 1 else { return [] }
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

    /// The rules after the one being linted (``Linter/finish(_:work:)`` goes from the last rule to the first),
    /// by what ``overriddenEffects(_:_:conjuncts:later:work:)`` asks about them: the first rule with an effect
    /// on a role under exactly a given set of conjuncts, the first that stops under exactly a given set, and
    /// those with `revoke all` under it. A set of conjuncts is known by its number (see ``ConjunctNumbers``).
    struct LaterRules {
        /// The first rule with each effect (on a role, assigning or revoking it, under a set of conjuncts), as
        /// the position of that effect in the ``Linter``'s.
        var firstEffect: HashIndex
        /// By set number: the first rule that stops, and the first with `revoke all` (-1: none).
        var firstStop: [Int]
        var firstRevokeAll: [Int]
        /// By rule: the next rule with `revoke all` under the same set of conjuncts (-1: none).
        var nextRevokeAll: [Int]

        init(capacity: Int, sets: Int) {
            firstEffect = HashIndex(capacity: capacity)
            firstStop = [Int](repeating: -1, count: sets)
            firstRevokeAll = [Int](repeating: -1, count: sets)
            nextRevokeAll = [Int](repeating: -1, count: capacity)
        }

        /// Adds rule `index` of `linter`: it comes before every rule added so far.
        mutating func add(_ index: Int, _ linter: Linter) {
            let set = linter.sets[index]
            for position in linter.effectStarts[index]..<linter.effectStarts[index + 1] {
                let (role, assign) = linter.effect(position)
                let hash = LaterRules.hash(role, assign, set)
                if let (_, slot) = firstEffect.find(hash, where: { linter.isEffect($0, role, assign, set: set) }) {
                    firstEffect.replace(at: slot, with: position)
                } else {
                    firstEffect.insert(hash, position)
                }
            }
            if linter.stops[index] { firstStop[set] = index }
            if linter.revokeAlls[index] != nil {
                nextRevokeAll[index] = firstRevokeAll[set]
                firstRevokeAll[set] = index
            }
        }

        /// The first rule with an effect on `role` (assigning or revoking it) under exactly set `set`.
        func effect(_ role: String, assign: Bool, set: Int, _ linter: Linter) -> Int? {
            let found = firstEffect.find(LaterRules.hash(role, assign, set)) {
                linter.isEffect($0, role, assign, set: set)
            }
            return found.map { linter.effectRules[$0.value] }
        }

        /// The hash of an effect.
        static func hash(_ role: String, _ assign: Bool, _ set: Int) -> Int {
            var hasher = Hasher()
            hasher.combine(ExactString(role))
            hasher.combine(assign)
            hasher.combine(set)
            return hasher.finalize()
        }

        /// The first rule that stops under exactly set `set`.
        func stop(_ set: Int) -> Int? { firstStop[set] >= 0 ? firstStop[set] : nil }

        /// The first rule with a `revoke all` under exactly set `set` that takes `role`: one that neither
        /// excepts it nor assigns it again itself.
        func firstRevokingAll(_ role: String, set: Int, _ linter: Linter, work: inout Int) -> Int? {
            var next = firstRevokeAll[set]
            // On past the rules that spare `role` (few in any real rule set).
            while next >= 0 {
                work += 1
                let spares = linter.revokeAlls[next]?.contains { ExactString($0) == ExactString(role) }
                if spares == false, !linter.assigns(next, role) { return next }
                next = nextRevokeAll[next]
            }
            return nil
        }
    }

    /// The conjunct sets whose rules' conditions surely hold when a rule with conjuncts `keys` fires: its
    /// subsets. With more than six conjuncts, only the empty set, each single conjunct and the whole set, so a
    /// rule of thousands of conjuncts costs thousands of lookups, not 2^n (a lint may miss a case; it must not
    /// hang).
    static func subsets<Key>(of keys: [Key]) -> [[Key]] {
        guard keys.count <= 6 else { return [[]] + keys.map { [$0] } + (keys.count > 1 ? [keys] : []) }
        return (0..<(1 << keys.count)).map { mask in keys.indices.filter { mask & (1 << $0) != 0 }.map { keys[$0] } }
    }

}

extension Checker.Linter {
    /// A role this rule assigns (or revokes) that a later rule always revokes (or assigns) again: the later
    /// rule's condition holds whenever this one's does (its conjuncts are a subset), so the effect here never
    /// survives (the later rule wins).
    ///
    /// Not when this rule stops: then no later rule runs after it fires. Nor when a rule in between always stops
    /// when this one fires.
    func overriddenEffects(
        _ index: Int, _ rules: UnsafeBufferPointer<CheckedRule>, conjuncts: ArraySlice<Int>, later: Checker.LaterRules,
        work: inout Int
    ) -> [Diagnostic] {
        let effects = effectStarts[index]..<effectStarts[index + 1]
        guard !stops[index], !effects.isEmpty else { return [] }
        let set = sets[index]
        // The subsets no later rule has as its conjuncts can have no later rule either. Most rules have one
        // conjunct: its subsets are itself and the empty set.
        var candidates: [Int] = []
        if conjuncts.count <= 1 {
            work += conjuncts.count + 1
            if conjuncts.count == 1, let empty = numbers.set([]) { candidates.append(empty) }
            candidates.append(set)
        } else {
            let whole = Array(conjuncts)
            candidates = Checker.subsets(of: whole).compactMap { subset -> Int? in
                work += 1
                return subset == whole ? set : numbers.set(subset[...])
            }
        }
        var firstStop: Int?
        for subset in candidates {
            work += 1
            if let stop = later.stop(subset) { firstStop = min(firstStop ?? stop, stop) }
        }
        var found: [Diagnostic] = []
        var roleSpans: [ExactString: Span] = [:]
        for position in effects {
            let effect = self.effect(position)
            var undoing: Int?
            for subset in candidates {
                work += 1
                if let other = later.effect(effect.role, assign: !effect.assign, set: subset, self) {
                    undoing = min(undoing ?? other, other)
                }
                // A later `revoke all` whose condition surely holds takes an assigned role away too.
                if effect.assign, let other = later.firstRevokingAll(effect.role, set: subset, self, work: &work) {
                    undoing = min(undoing ?? other, other)
                }
            }
            // A rule in between that always stops keeps the later one from running (the later one may stop itself).
            guard let undoing, firstStop.map({ undoing <= $0 }) ?? true else { continue }
            let rule = rules[index]
            if roleSpans.isEmpty {
                for action in rule.rule.actions {
                    switch action.kind {
                    case .assign(let roles), .revoke(let roles), .revokeAll(except: let roles):
                        for role in roles where roleSpans[ExactString(role.name)] == nil {
                            roleSpans[ExactString(role.name)] = role.span
                        }
                    case .stop: break
                    }
                }
            }
            let roleSpan = roleSpans[ExactString(effect.role)] ?? rule.rule.span
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

// MARK: regex lints

extension Checker {
    /// The lints of one `matches` pattern that compiled: `anchor-alternation`, `unanchored-domain` and
    /// `unescaped-dot`. Linear in the pattern's length. `literal` is the pattern as written (a regex or a
    /// string literal), `patternStart` where its text starts in the source when the text maps byte for byte;
    /// otherwise the warnings underline the whole literal. Patterns with the `x` flag are left alone: their
    /// spaces and `#` comments are not part of what they match.
    func regexLints(
        _ pattern: String, flags: CompiledRegex.Flags, patternStart: Int?, literal: Expr, subject subjectText: String
    ) -> [Diagnostic] {
        guard !flags.contains(.extended) else { return [] }
        let shape = RegexShape(pattern)
        func span(_ offset: Int, _ length: Int) -> Span {
            guard let patternStart else { return literal.span }
            return Span(patternStart + offset, patternStart + offset + length)
        }
        // The fixed forms, worked out only for a pattern that has a warning (most have none).
        var computedFixes: [String]?
        func fixes() -> [String] {
            if let computedFixes { return computedFixes }
            let isString = if case .string = literal.kind { true } else { false }
            let source = file.text(literal.span)
            let flagLetters = source.lastIndex(of: "/").map { String(source[source.index(after: $0)...]) } ?? ""
            func written(_ fixedPattern: String) -> String {
                "`" + (isString ? Formatter.Printer.string(fixedPattern) : "/\(fixedPattern)/\(flagLetters)") + "`"
            }
            let fixes = RegexFix.fixed(shape).map(written)
            computedFixes = fixes
            return fixes
        }
        var found: [Diagnostic] = []
        if let anchor = RegexFix.lopsidedAnchor(shape) {
            let atom = shape.atoms[anchor.atom]
            found.append(
                .anchorAlternation(
                    String(decoding: shape.bytes[atom.offset..<(atom.offset + atom.length)], as: UTF8.self),
                    alternative: anchor.alternative, fixes: fixes(), file, span(atom.offset, atom.length)))
        } else if let domain = RegexFix.unanchoredDomain(shape) {
            let first = shape.atoms[domain.at ?? domain.atoms.lowerBound]
            let last = shape.atoms[domain.atoms.upperBound - 1]
            let domainText = shape.text(domain.atoms)
            var endsWith: String?
            if shape.branches.count == 1, let at = domain.at, at == 0, domain.atoms.upperBound == shape.atoms.count {
                // The whole pattern is `@domain`: `ends_with` says the same without a regex.
                let plain = "@" + RegexShape.unescapingDots(domainText)
                let folded = flags.contains(.caseInsensitive)
                let lhs = folded ? "lower(\(subjectText))" : subjectText
                endsWith = "`\(lhs) ends_with \(Formatter.Printer.string(folded ? plain.lowercased() : plain))`"
            }
            found.append(
                .unanchoredDomain(
                    "@" + domainText, fixes: fixes(), endsWith: endsWith, file,
                    span(first.offset, last.offset + last.length - first.offset)))
        }
        for branch in shape.branches {
            for domain in shape.domains(in: branch) {
                guard let dot = domain.unescapedDots.first else { continue }
                // What it wrongly matches: the first such dot as `X`, the rest as dots.
                var example = domain.at == nil ? "" : "x@"
                for index in domain.atoms {
                    let atom = shape.atoms[index]
                    if atom.offset == dot {
                        example += "X"
                    } else if case .literal(let byte, _) = atom.kind {
                        example += String(UnicodeScalar(byte))
                    } else {
                        example += "."
                    }
                }
                let domainText = (domain.at == nil ? "" : "@") + shape.text(domain.atoms)
                found.append(.unescapedDot(domainText, example: example, fixes: fixes(), file, span(dot, 1)))
            }
        }
        return found
    }
}

/// The fixed forms the regex lints suggest, computed from the pattern itself.
enum RegexFix {
    /// The first anchor that applies to one alternative of a top-level `|` while another alternative has none:
    /// its atom, and the alternative it anchors (without the anchor).
    static func lopsidedAnchor(_ shape: RegexShape) -> (atom: Int, alternative: String)? {
        guard shape.branches.count > 1 else { return nil }
        let starts = shape.branches.map(shape.startsAnchored)
        let ends = shape.branches.map(shape.endsAnchored)
        if ends.contains(true), ends.contains(false), let index = ends.firstIndex(of: true) {
            let branch = shape.branches[index]
            return (branch.atoms.upperBound - 1, stripped(shape, branch))
        }
        if starts.contains(true), starts.contains(false), let index = starts.firstIndex(of: true),
            let first = shape.firstAtom(of: shape.branches[index])
        {
            return (first, stripped(shape, shape.branches[index]))
        }
        return nil
    }

    /// The first email domain (after `@`) that ends its alternative with no `$` after it, when no alternative
    /// of the pattern ends with `$`.
    static func unanchoredDomain(_ shape: RegexShape) -> RegexShape.Domain? {
        guard !shape.branches.contains(where: shape.endsAnchored) else { return nil }
        for branch in shape.branches {
            if let domain = shape.domains(in: branch).first(where: { $0.at != nil && $0.endsBranch }) {
                return domain
            }
        }
        return nil
    }

    /// A branch's text without its leading `^` (after any `(?i)`) and its trailing `$`.
    static func stripped(_ shape: RegexShape, _ branch: RegexShape.Branch) -> String {
        var skip = Set<Int>()
        if shape.startsAnchored(branch), let first = shape.firstAtom(of: branch) { skip.insert(first) }
        if shape.endsAnchored(branch) { skip.insert(branch.atoms.upperBound - 1) }
        var text = ""
        var run = branch.atoms.lowerBound
        for index in branch.atoms where skip.contains(index) {
            text += shape.text(run..<index)
            run = index + 1
        }
        return text + shape.text(run..<branch.atoms.upperBound)
    }

    /// The pattern with every regex lint's fix applied: dots in domains escaped, then anchors put outside a
    /// group around the alternatives (or `$` added after an email domain). One or two forms, the first the
    /// likelier meaning: `@acme\.com|de$` gives `@acme\.(com|de)$` and `@(acme\.com|acme\.de)$`.
    static func fixed(_ original: RegexShape) -> [String] {
        var bytes: [UInt8] = []
        var dots = Set<Int>()
        for branch in original.branches {
            for domain in original.domains(in: branch) { dots.formUnion(domain.unescapedDots) }
        }
        for (offset, byte) in original.bytes.enumerated() {
            if dots.contains(offset) { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(byte)
        }
        let shape = RegexShape(String(decoding: bytes, as: UTF8.self))
        let text = String(decoding: bytes, as: UTF8.self)
        let needsEnd = lopsidedAnchor(shape) != nil || unanchoredDomain(shape) != nil
        guard needsEnd else { return [text] }
        let anyStart = shape.branches.contains(where: shape.startsAnchored)
        let anyEnd = shape.branches.contains(where: shape.endsAnchored) || unanchoredDomain(shape) != nil
        let start = anyStart ? "^" : ""
        let end = anyEnd ? "$" : ""
        let alternatives = shape.branches.map { stripped(shape, $0) }
        if alternatives.count == 1 { return [start + alternatives[0] + end] }
        // `@acme\.com|de`: later alternatives that are bare words read as more endings of the first.
        let firstBytes = Array(alternatives[0].utf8)
        if let cut = (0..<max(0, firstBytes.count - 1)).last(where: {
            firstBytes[$0] == UInt8(ascii: "\\") && firstBytes[$0 + 1] == UInt8(ascii: ".")
        }) {
            let stem = String(decoding: firstBytes[..<(cut + 2)], as: UTF8.self)
            let first = String(decoding: firstBytes[(cut + 2)...], as: UTF8.self)
            let endings: [String] = [first] + alternatives.dropFirst()
            if endings.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(RegexShape.isLabel) }) {
                let grouped: String = "(" + endings.joined(separator: "|") + ")"
                var forms: [String] = [start + stem + grouped + end]
                if stem.hasPrefix("@") {
                    let host = String(stem.dropFirst())
                    let spelled: [String] = endings.map { host + $0 }
                    forms.append(start + "@(" + spelled.joined(separator: "|") + ")" + end)
                }
                return forms
            }
        }
        return [start + "(" + alternatives.joined(separator: "|") + ")" + end]
    }
}
