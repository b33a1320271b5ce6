import RolecallEngine
import RolecallJSON

/// Evaluate an event, plan against the roles the user holds, carry the plan out: the workflow `rules apply`
/// drives event by event, and `rules serve` drives with its durable outbox between the plan and the calls.
///
/// One value per run, used by one thread: it keeps the run's ``summary`` and knows when the run must stop (the
/// client's deadline passed, or no access token can be had).
public final class ApplyWorkflow {
    /// The evaluator the events go through.
    public let evaluator: Evaluator
    /// The runner that carries plans out; nil for a dry run.
    public let runner: EffectRunner?
    /// What happened so far.
    public private(set) var summary = ApplySummary()

    /// A workflow deciding with `evaluator` and calling through `runner` (nil: plan only).
    public init(evaluator: Evaluator, runner: EffectRunner?) {
        self.evaluator = evaluator
        self.runner = runner
    }

    /// Why an event produced no plan.
    public enum Refusal: Error, Sendable, CustomStringConvertible {
        /// The event is not JSON the reader accepts.
        case invalidEvent(JSONError)
        /// The event has no user to change.
        case noUser(PlanError)

        public var description: String {
            switch self {
            case .invalidEvent(let error): "invalid event: \(error)"
            case .noUser(let error): error.description
            }
        }
    }

    /// The decision for `event` and the plan it makes. A refused event is counted in the summary.
    public func decide(_ event: UnsafeRawBufferPointer) throws(Refusal) -> (Decision, UserPlan) {
        let decision: Decision
        let plan: UserPlan
        do {
            decision = try evaluator.evaluate(event)
        } catch {
            summary.invalidEvents += 1
            throw .invalidEvent(error)
        }
        do {
            plan = try Self.plan(decision)
        } catch {
            summary.invalidEvents += 1
            throw error
        }
        summary.users += 1
        if runner == nil {
            summary.planned += plan.assign.count + plan.revoke.count
            summary.add(plan.skipped)
        }
        return (decision, plan)
    }

    /// The plan for `decision`, a refusal when it has no user.
    public static func plan(_ decision: Decision) throws(Refusal) -> UserPlan {
        do {
            return try UserPlan.make(decision)
        } catch {
            throw .noUser(error)
        }
    }

    /// Counts an event that could not even be read (e.g. over the size limit).
    public func countInvalid() { summary.invalidEvents += 1 }

    /// Carries `plan` out (nothing for a dry run) and returns the outcomes, skipped ones included.
    public func carryOut(_ plan: UserPlan) -> [EffectOutcome] {
        guard let runner else { return [] }
        let outcomes = runner.apply(plan)
        summary.add(outcomes)
        return outcomes
    }

    /// Why a run must stop before its next event.
    public enum Stop: Sendable {
        /// The client's deadline passed: the wait that would have passed it, when a server's header forced one,
        /// and the last problem before it.
        case deadline(wait: String?, lastProblem: String?)
        /// No access token can be had.
        case noToken(APIFailure)
    }

    /// Why the run must stop before the next event, if it must.
    public var stop: Stop? {
        guard let client = runner?.client else { return nil }
        if case .deadline(let last, let wait)? = client.deadlineFailure {
            return .deadline(wait: wait, lastProblem: last)
        }
        if let failure = client.tokenFailure { return .noToken(failure) }
        return nil
    }

    /// The summary with the client's request counts and the run's duration.
    public func finish(seconds: Double) -> ApplySummary {
        var summary = self.summary
        if let client = runner?.client {
            summary.retries = client.statistics.retries
            summary.requests = client.statistics.requests
            summary.rateLimitWait = client.statistics.rateLimitWait
            summary.backoffWait = client.statistics.backoffWait
        }
        summary.seconds = seconds
        return summary
    }
}
