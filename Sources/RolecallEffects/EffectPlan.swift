import RolecallEngine
import RolecallJSON
import RolecallLanguage

/// A role to assign or revoke, and the rule that decided it.
public struct PlannedRole: Sendable, Equatable {
    /// A role name, or an Auth0 role id when it starts with `rol_`.
    public var role: String
    /// The rule that decided it.
    public var rule: String

    /// A planned role.
    public init(role: String, rule: String) {
        self.role = role
        self.rule = rule
    }
}

/// What to change for one user: computed from a decision and the roles the user holds now, before any call.
public struct UserPlan: Sendable {
    /// The user's Auth0 id (`event.user.user_id`).
    public var userID: String
    /// Roles to assign: decided by the rules and not held yet.
    public var assign: [PlannedRole]
    /// Roles to revoke: decided by the rules and held now.
    public var revoke: [PlannedRole]
    /// Effects not needed (already held, or not held to revoke): they save the tenant's rate limit.
    public var skipped: [EffectOutcome]
    /// The roles the user holds now (the event's `authorization.roles`), for showing a planned role that prints
    /// like a held one apart from it.
    public var heldRoles: [String] = []

    /// The plan for `decision`, against the roles the user holds now: the decision's ``Decision/userID`` and
    /// ``Decision/currentRoles``, taken from the evaluator's own reading of the event (never a second parse).
    /// `authorization.roles` holds role *names*: a role given by id (`rol_...`) cannot be compared with them, so it
    /// is never skipped. Names compare by their bytes (``ExactString``): holding `"caf\u{E9}"` is not holding
    /// `"cafe\u{301}"`.
    public static func make(_ decision: Decision) throws(PlanError) -> UserPlan {
        guard let userID = decision.userID, !userID.isEmpty else {
            throw PlanError(message: "the event has no user.user_id string, so there is no user to change")
        }
        let held = Set(decision.currentRoles.map(ExactString.init))
        var plan = UserPlan(userID: userID, assign: [], revoke: [], skipped: [])
        plan.heldRoles = decision.currentRoles
        for role in decision.assign {
            let planned = PlannedRole(role: role, rule: decision.rule(deciding: role) ?? "")
            // A held *name* equal to an id (`rol_123`) is a role named so, not the role with that id.
            if held.contains(ExactString(role)) && !role.hasPrefix("rol_") {
                plan.skipped.append(
                    EffectOutcome(user: userID, planned, assign: true, status: .skipped("already held")))
            } else {
                plan.assign.append(planned)
            }
        }
        for role in decision.revoke {
            let planned = PlannedRole(role: role, rule: decision.rule(deciding: role) ?? "")
            if !held.contains(ExactString(role)) && !role.hasPrefix("rol_") {
                plan.skipped.append(EffectOutcome(user: userID, planned, assign: false, status: .skipped("not held")))
            } else {
                plan.revoke.append(planned)
            }
        }
        return plan
    }

    /// A plan made of its parts, e.g. read back from an outbox.
    public init(userID: String, assign: [PlannedRole], revoke: [PlannedRole], skipped: [EffectOutcome] = []) {
        self.userID = userID
        self.assign = assign
        self.revoke = revoke
        self.skipped = skipped
    }

    /// The plan as text, one line per effect: what `--dry-run` prints. Values from the event are quoted when they
    /// are not plain words (``HumanText``), so none can start a line of its own.
    /// A role that prints like another of the plan or like a held one (`caf\u{e9}`, `cafe\u{301}`) is written as a
    /// literal (``Spellings``), so the two read apart.
    public var text: String {
        var lines: [String] = []
        let user = HumanText.word(userID)
        let shown = spellings
        for item in assign {
            lines.append("assign \(shown.word(item.role)) to \(user) (rule \(HumanText.quoted(item.rule)))")
        }
        for item in revoke {
            lines.append("revoke \(shown.word(item.role)) from \(user) (rule \(HumanText.quoted(item.rule)))")
        }
        for outcome in skipped { lines.append(outcome.text(showing: shown)) }
        return lines.map { $0 + "\n" }.joined()
    }

    /// How the plan's lines, and the outcomes of carrying it out, show its roles: together with the held ones.
    public var spellings: Spellings {
        Spellings((assign + revoke).map(\.role) + skipped.map(\.role) + heldRoles)
    }
}

/// An event that cannot be planned for.
public struct PlanError: Error, Sendable, CustomStringConvertible {
    /// What is missing from the event.
    public var message: String
    public var description: String { message }
}

/// What happened to one role of one user.
public struct EffectOutcome: Sendable, Equatable {
    /// The result.
    public enum Status: Sendable, Equatable {
        /// The Management API confirmed it.
        case done
        /// Not needed; the reason.
        case skipped(String)
        /// Refused for good (a 4xx, or a role the tenant does not have), with Auth0's error code and message.
        case failed(status: Int, errorCode: String?, message: String)
        /// Every attempt failed with something retryable (0 attempts: the run's deadline came first).
        case gaveUp(attempts: Int, lastError: String)
    }

    /// The user's Auth0 id.
    public var user: String
    /// The role name or id.
    public var role: String
    /// The rule that decided the change.
    public var rule: String
    /// Assign (true) or revoke (false).
    public var assign: Bool
    /// What happened.
    public var status: Status

    /// The outcome of changing `planned` for `user`.
    public init(user: String, _ planned: PlannedRole, assign: Bool, status: Status) {
        self.user = user
        self.role = planned.role
        self.rule = planned.rule
        self.assign = assign
        self.status = status
    }

    /// One line for people. The user id, role and error code are quoted unless they are plain words and the
    /// messages have their control characters escaped (``HumanText``), so a value from an event or a server
    /// cannot forge a line of the report.
    public var text: String { text(showing: Spellings([role])) }

    /// ``text``, with the role as `shown` shows it among the other roles of the same report (``Spellings``).
    public func text(showing shown: Spellings) -> String {
        let (role, user) = (shown.word(role), HumanText.word(user))
        let what = assign ? "assign \(role) to \(user)" : "revoke \(role) from \(user)"
        let why = "(rule \(HumanText.quoted(rule)))"
        switch status {
        case .done: return "done     \(what) \(why)"
        case .skipped(let reason): return "skipped  \(what) \(why): \(HumanText.line(reason))"
        case .failed(let status, let code, let message):
            return "FAILED   \(what) \(why): \(status) \(HumanText.word(code ?? "error")): \(HumanText.line(message))"
        case .gaveUp(let attempts, let last):
            let tries = attempts > 0 ? " after \(attempts) attempts" : ""
            return "GAVE UP  \(what) \(why)\(tries): \(HumanText.line(last))"
        }
    }
}

extension JSONValue {
    /// The member `key` of an object (the last, matched by its bytes: ``ExactString``), or nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { ExactString($0.key) == ExactString(key) }?.value
    }
}
