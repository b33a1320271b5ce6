import RolecallJSON
import RolecallLanguage

/// What the rules decided for one event: the JSON every interface returns.
///
/// `roles` is `(event.authorization.roles ∪ assign) − revoke`: the roles the token issued now should carry.
public struct Decision: Sendable, Equatable {
    /// Roles the fired rules assign (after last-wins), in the order rules first named them.
    public var assign: [String]
    /// Roles the fired rules revoke (after last-wins), in the order rules first named them.
    public var revoke: [String]
    /// The roles the user holds after the decision: current roles in event order, then new ones.
    public var roles: [String]
    /// Names of the rules that fired, in order.
    public var matched: [String]
    /// Rules whose condition failed to evaluate; they did not fire.
    public var errors: [RuleError]
    /// For each role in ``assign`` and ``revoke``, the name of the rule that decided it (the last fired rule naming
    /// it, or the `revoke all` that took a current role). Not part of the JSON; the planner and the effect runner
    /// report each change with it, and `rules diff` shows the rules that decided a role that moved.
    ///
    /// Keyed by ``ExactString``, not `String`: `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, each with its own
    /// deciding rule, and a `String` key would keep one rule for both (Swift's `String` equality is canonical
    /// equivalence). Look a role up with ``rule(deciding:)`` (or `decidedBy[ExactString(role)]`).
    public var decidedBy: [ExactString: String] = [:]
    /// The event's `user.user_id` when it is a string, as the evaluator read it: the planner takes the user from
    /// the same reading as the rules, never from a second parse. Not part of the JSON.
    public var userID: String?
    /// The strings in the event's `authorization.roles`, in event order, as the evaluator read them: the roles the
    /// user holds now, for the planner. Not part of the JSON.
    public var currentRoles: [String] = []

    /// An evaluation error confined to one rule.
    public struct RuleError: Sendable, Equatable {
        /// The rule's name.
        public var rule: String
        /// The kind of error, stable across releases (``EvaluationError/Code``), e.g. `type-mismatch`.
        public var code: String
        /// What went wrong, e.g. "`<` cannot compare a string with a number".
        public var message: String
        /// Where, as `file:line:column`.
        public var at: String

        /// Creates a rule error.
        public init(rule: String, code: String, message: String, at: String) {
            self.rule = rule
            self.code = code
            self.message = message
            self.at = at
        }
    }

    /// Creates a decision.
    public init(assign: [String], revoke: [String], roles: [String], matched: [String], errors: [RuleError]) {
        self.assign = assign
        self.revoke = revoke
        self.roles = roles
        self.matched = matched
        self.errors = errors
    }

    /// The name of the rule that decided `role` (one of ``assign`` or ``revoke``, matched by its bytes), or nil.
    public func rule(deciding role: String) -> String? { decidedBy[ExactString(role)] }

    /// Decisions are equal when their JSON is: ``decidedBy``, ``userID`` and ``currentRoles`` are derived from the
    /// same evaluation. Roles compare by their bytes (``ExactString``), as their JSON does.
    public static func == (lhs: Decision, rhs: Decision) -> Bool {
        func same(_ a: [String], _ b: [String]) -> Bool { a.elementsEqual(b) { ExactString($0) == ExactString($1) } }
        return same(lhs.assign, rhs.assign) && same(lhs.revoke, rhs.revoke) && same(lhs.roles, rhs.roles)
            && lhs.matched == rhs.matched && lhs.errors == rhs.errors
    }

    /// The decision as compact JSON (no trailing newline), with the keys in the documented order.
    public var json: String {
        func list(_ items: [String]) -> String { "[" + items.map(JSONText.quote).joined(separator: ",") + "]" }
        let errors = self.errors.map {
            "{\"rule\":\(JSONText.quote($0.rule)),\"code\":\(JSONText.quote($0.code)),"
                + "\"message\":\(JSONText.quote($0.message)),\"at\":\(JSONText.quote($0.at))}"
        }
        return "{\"assign\":\(list(assign)),\"revoke\":\(list(revoke)),\"roles\":\(list(roles)),"
            + "\"matched\":\(list(matched)),\"errors\":[\(errors.joined(separator: ","))]}"
    }
}

extension Evaluator {
    /// The decision of the last ``run(_:)`` as a value.
    func makeDecision() -> Decision {
        var assign: [String] = []
        var revoke: [String] = []
        var decidedBy: [ExactString: String] = [:]
        for role in touchedRoles {
            let name = program.roleNames[Int(role)]
            if roleState[Int(role)] == 1 { assign.append(name) } else { revoke.append(name) }
            decidedBy[ExactString(name)] = program.rules[Int(decidingRule[Int(role)])].name
        }
        for other in revokedOthers {
            revoke.append(other.role)
            decidedBy[ExactString(other.role)] = program.rules[other.rule].name
        }
        var roles: [String] = []
        // Role names are their bytes (``ExactString``), not Swift's canonically equivalent strings.
        var seen = Set<ExactString>()
        let revoked = Set(revoke.map(ExactString.init))
        // Only strings are role names; anything else in `authorization.roles` is not a role and is left out.
        let currentRoles = (elements(slots[program.currentRolesSlot]) ?? []).compactMap { string($0) }
        for name in currentRoles {
            guard !revoked.contains(ExactString(name)), seen.insert(ExactString(name)).inserted else { continue }
            roles.append(name)
        }
        for name in assign where seen.insert(ExactString(name)).inserted { roles.append(name) }
        let errors = failures.map { failure -> Decision.RuleError in
            let rule = program.rules[failure.rule]
            let location = rule.file.location(of: failure.failure.span.start)
            return Decision.RuleError(
                rule: rule.name, code: failure.failure.code.rawValue, message: failure.failure.message,
                at: "\(FileName.visible(rule.file.path)):\(location.line):\(location.column)")
        }
        var decision = Decision(
            assign: assign, revoke: revoke, roles: roles, matched: matchedRules.map { program.rules[Int($0)].name },
            errors: errors)
        decision.decidedBy = decidedBy
        decision.userID = string(slots[program.userIDSlot])
        decision.currentRoles = currentRoles
        return decision
    }

    /// Appends the decision of the last ``run(_:)`` as one line of JSON, without building strings when the event
    /// carries no current roles and no rule failed (the common case).
    func writeDecision(to output: inout [UInt8]) {
        let currentRoles = slots[program.currentRolesSlot]
        let hasCurrentRoles: Bool
        switch currentRoles {
        case .rawArray(let start, let end):
            var index = start + 1
            while index < end, base[index] == 0x20 || base[index] == 0x0A || base[index] == 0x0D || base[index] == 0x09
            {
                index += 1
            }
            hasCurrentRoles = base[index] != UInt8(ascii: "]")
        case .list(let items): hasCurrentRoles = !items.isEmpty
        default: hasCurrentRoles = false
        }
        if hasCurrentRoles || !failures.isEmpty || !revokedOthers.isEmpty {
            output.append(contentsOf: makeDecision().json.utf8)
            output.append(UInt8(ascii: "\n"))
            return
        }
        // Build the line in the evaluator's own buffer with memcpy, then append it to the output once.
        var cursor = line.baseAddress!
        func put(_ text: StaticString) {
            cursor.copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
            cursor += text.utf8CodeUnitCount
        }
        func put(_ range: (offset: Int32, length: Int32)) {
            cursor.copyMemory(from: program.namePool.baseAddress! + Int(range.offset), byteCount: Int(range.length))
            cursor += Int(range.length)
        }
        func roleList(_ state: UInt8) {
            put("[")
            var first = true
            for role in touchedRoles where roleState[Int(role)] == state {
                if !first { put(",") }
                put(program.roleJSON[Int(role)])
                first = false
            }
            put("]")
        }
        put("{\"assign\":")
        roleList(1)
        put(",\"revoke\":")
        roleList(2)
        put(",\"roles\":")
        roleList(1)
        put(",\"matched\":[")
        for (position, rule) in matchedRules.enumerated() {
            if position > 0 { put(",") }
            put(program.ruleNameJSON[Int(rule)])
        }
        put("],\"errors\":[]}\n")
        output.append(
            contentsOf: UnsafeRawBufferPointer(start: line.baseAddress, count: line.baseAddress!.distance(to: cursor)))
    }
}
