import Logging
import RolecallEngine
import RolecallJSON
import RolecallLanguage

/// Carries out plans through the Management API: role names resolved to ids, one request per user and
/// direction, every outcome reported with the user, role and rule it concerns.
public final class EffectRunner {
    /// The client the runner calls through.
    public let client: ManagementClient
    let logger: Logger

    /// A runner using `client`.
    public init(client: ManagementClient, logger: Logger = Logger(label: "rolecall.effects")) {
        self.client = client
        self.logger = logger
    }

    /// Carries out `plan`; returns an outcome for every role in it, skipped ones included.
    ///
    /// When no access token can be had, or the client's deadline has passed, the rest of the plan fails the same
    /// way without more calls: a dead token endpoint costs one round of attempts per plan, not one per role.
    public func apply(_ plan: UserPlan) -> [EffectOutcome] {
        var outcomes = plan.skipped
        var blocked: APIFailure?
        func call<Value>(_ body: () throws(APIFailure) -> Value) -> Result<Value, APIFailure> {
            if let blocked { return .failure(blocked) }
            do {
                return .success(try body())
            } catch {
                if client.tokenFailure != nil || client.deadlineFailure != nil { blocked = error }
                return .failure(error)
            }
        }
        for (roles, assign) in [(plan.assign, true), (plan.revoke, false)] where !roles.isEmpty {
            var resolved: [(PlannedRole, String)] = []
            for planned in roles {
                let lookup =
                    planned.role.hasPrefix("rol_")
                    ? .success(planned.role) : call { () throws(APIFailure) in try client.roleID(named: planned.role) }
                switch lookup {
                case .success(let id?): resolved.append((planned, id))
                case .success(nil):
                    outcomes.append(
                        EffectOutcome(
                            user: plan.userID, planned, assign: assign,
                            status: .failed(
                                status: 404, errorCode: "unknown_role",
                                message: Self.noRole(planned.role, alike: client.alikeRoleName(planned.role)))))
                case .failure(let failure):
                    outcomes.append(
                        EffectOutcome(user: plan.userID, planned, assign: assign, status: Self.status(failure)))
                }
            }
            guard !resolved.isEmpty else { continue }
            let status: EffectOutcome.Status
            switch call({ () throws(APIFailure) in
                try client.setRoles(resolved.map(\.1), assign: assign, userID: plan.userID)
            }) {
            case .success: status = .done
            case .failure(let failure): status = Self.status(failure)
            }
            for (planned, _) in resolved {
                outcomes.append(EffectOutcome(user: plan.userID, planned, assign: assign, status: status))
            }
        }
        for outcome in outcomes {
            switch outcome.status {
            case .failed, .gaveUp:
                logger.error(
                    "role change failed",
                    metadata: [
                        "user": "\(HumanText.word(outcome.user))", "role": "\(HumanText.word(outcome.role))",
                        "rule": "\(HumanText.quoted(outcome.rule))",
                        "change": "\(outcome.assign ? "assign" : "revoke")",
                        "outcome": "\(outcome.text)",
                    ])
            default: break
            }
        }
        return outcomes
    }

    /// The failure message for a role name the tenant has none of; when it has one that prints alike
    /// (``ManagementClient/alikeRoleName(_:)``), both with their scalars written out and what differs.
    static func noRole(_ role: String, alike: String?) -> String {
        guard let alike else { return "the tenant has no role named \(Spelling.quoted(role))" }
        return "the tenant has no role named \(Spelling.literal(role)), but has \(Spelling.literal(alike)), which "
            + "differs only in how its characters are encoded"
    }

    static func status(_ failure: APIFailure) -> EffectOutcome.Status {
        switch failure {
        case .permanent(let status, let code, let message): .failed(status: status, errorCode: code, message: message)
        case .gaveUp(let attempts, let last): .gaveUp(attempts: attempts, lastError: last)
        case .deadline(let last, let wait):
            .gaveUp(
                attempts: 0,
                lastError: (wait.map { "\($0), past the run's deadline" } ?? "the run's deadline passed")
                    + (last.map { " (last problem: \($0))" } ?? ""))
        }
    }
}

/// The end of `rules apply`: what happened, in numbers.
public struct ApplySummary: Sendable {
    /// Users with a plan.
    public var users = 0
    /// Events that could not be evaluated or planned.
    public var invalidEvents = 0
    /// Effects planned but not carried out (a dry run).
    public var planned = 0
    /// Effects the Management API confirmed.
    public var done = 0
    /// Effects not needed.
    public var skipped = 0
    /// Effects refused for good.
    public var failed = 0
    /// Effects whose every attempt failed.
    public var gaveUp = 0
    /// Requests repeated.
    public var retries = 0
    /// HTTP requests sent.
    public var requests = 0
    /// Seconds waited on rate limits.
    public var rateLimitWait = 0.0
    /// Seconds waited in backoff.
    public var backoffWait = 0.0
    /// Seconds the whole run took.
    public var seconds = 0.0

    /// An empty summary.
    public init() {}

    /// Counts `outcomes`.
    public mutating func add(_ outcomes: [EffectOutcome]) {
        for outcome in outcomes {
            switch outcome.status {
            case .done: done += 1
            case .skipped: skipped += 1
            case .failed: failed += 1
            case .gaveUp: gaveUp += 1
            }
        }
    }

    /// Nothing failed and no event was invalid.
    public var succeeded: Bool { failed == 0 && gaveUp == 0 && invalidEvents == 0 }

    /// One paragraph for people.
    public var text: String {
        func seconds(_ value: Double) -> String { String(Double(Int(value * 10)) / 10) + " s" }
        var out = "\(users) user\(users == 1 ? "" : "s"): "
        out += planned > 0 ? "\(planned) planned, " : ""
        out += "\(done) done, \(skipped) skipped, \(failed) failed, \(gaveUp) gave up"
        if invalidEvents > 0 { out += ", \(invalidEvents) invalid event\(invalidEvents == 1 ? "" : "s")" }
        out += "\n\(requests) request\(requests == 1 ? "" : "s"), \(retries) retr\(retries == 1 ? "y" : "ies")"
        out += ", waited \(seconds(rateLimitWait)) on rate limits"
        out += " and \(seconds(backoffWait)) in backoff, \(seconds(self.seconds)) in all\n"
        return out
    }
}
