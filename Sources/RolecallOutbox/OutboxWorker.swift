import Foundation
import Logging
import Metrics
import RolecallEffects
import RolecallJSON
import RolecallLanguage

/// Carries out the outbox's effects on a thread of its own, through an ``EffectRunner``.
///
/// One user at a time, oldest first: the user's pending effects become one plan (one assign call and one revoke
/// call), so a user's changes keep their order. Outcomes: done; refused for good (a 4xx) → a dead letter with
/// Auth0's status, `errorCode` and message; every attempt failed with something retryable, or no access token
/// could be had → back in the queue, due again after a backoff that doubles up to ``maximumBackoff``. Nothing is
/// ever dropped.
public final class OutboxWorker: Sendable {
    /// What the worker lends the client it makes: a sleep that ends early when the worker stops, and a deadline
    /// and clock that make every call end at once then, so stopping never waits out a retry.
    public struct Hooks: Sendable {
        /// Sleeps up to the given seconds; returns early when the worker is stopping.
        public let sleep: @Sendable (Double) -> Void
        /// The wall clock, which jumps past ``deadline`` when the worker is stopping.
        public let clock: @Sendable () -> Double
        /// A deadline for the client (far in the future until the worker stops).
        public let deadline: Double
    }

    /// The longest wait before an effect is tried again, in seconds.
    public static let maximumBackoff = 300.0

    /// The retry policy for the worker's client: a few tries within one attempt (each wait still honours
    /// Retry-After and the rate-limit headers, up to 60 s), then the outbox's own backoff takes over, so a failing
    /// tenant costs a few requests per user and round rather than the eight of `rules apply`.
    public static var retryPolicy: RetryPolicy {
        var policy = RetryPolicy()
        policy.maxAttempts = 3
        return policy
    }
    /// How often settled effects and old decisions are pruned, in seconds.
    static let retentionInterval = 60.0

    let outbox: Outbox
    let logger: Logger
    let makeRunner: @Sendable (Hooks) -> EffectRunner
    private let signal = Signal()
    private nonisolated(unsafe) var stopping = false
    private nonisolated(unsafe) var running = false
    private nonisolated(unsafe) var woken = false
    private nonisolated(unsafe) var lastPublished = 0.0

    /// A worker draining `outbox`; `makeRunner` is called once on the worker's thread, which owns the runner,
    /// and should build its client with the hooks' `sleep`, `clock` and `deadline`.
    public init(
        outbox: Outbox, logger: Logger = Logger(label: "rolecall.worker"),
        makeRunner: @escaping @Sendable (Hooks) -> EffectRunner
    ) {
        self.outbox = outbox
        self.logger = logger
        self.makeRunner = makeRunner
    }

    /// Starts the thread.
    public func start() {
        let already = signal.locked { () -> Bool in
            defer { running = true }
            return running
        }
        guard !already else { return }
        outbox.onCommit { [weak self] in self?.wake() }
        let thread = Thread { [self] in self.loop() }
        thread.name = "rolecall-outbox-worker"
        thread.start()
    }

    /// Tells the worker new effects were committed (or an operator queued some again).
    public func wake() {
        signal.locked {
            woken = true
            signal.broadcast()
        }
    }

    /// Lets the current call end (at once: its waits are cut short and its retries end), records it, then stops
    /// the thread; returns when it has.
    public func stop() {
        signal.locked {
            stopping = true
            signal.broadcast()
            while running { signal.wait(until: wallClock() + 1) }
        }
    }

    private var isStopping: Bool { signal.locked { stopping } }

    private func loop() {
        defer {
            signal.locked {
                running = false
                signal.broadcast()
            }
        }
        let store: OutboxStore
        do {
            store = try OutboxStore(path: outbox.path, create: false)
        } catch {
            logger.critical("the outbox worker cannot open the outbox", metadata: ["error": "\(error)"])
            return
        }
        let farFuture = 1e15
        let hooks = Hooks(
            sleep: { [self] seconds in
                signal.locked {
                    let end = wallClock() + seconds
                    while !stopping && wallClock() < end { signal.wait(until: end) }
                }
            },
            clock: { [self] in isStopping ? farFuture + 1 : wallClock() }, deadline: farFuture)
        let runner = makeRunner(hooks)
        var lastRetention = 0.0
        var failures = 0
        while !isStopping {
            let now = wallClock()
            if now - lastRetention >= Self.retentionInterval {
                lastRetention = now
                do {
                    let deleted = try store.enforceRetention(outbox.options, now: now)
                    if deleted > 0 { logger.info("pruned the decision log", metadata: ["decisions": "\(deleted)"]) }
                } catch {
                    logger.error("cannot prune the decision log", metadata: ["error": "\(error)"])
                }
                publish(store, force: true)
            }
            let claimed: [OutboxStore.Effect]?
            do {
                claimed = try store.claimNextUser(now: now)
                failures = 0
            } catch {
                // The file may be busy or briefly failing: wait and try again, never drop.
                failures += 1
                logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
                pause(until: now + min(Self.maximumBackoff, Double(1 << min(failures, 8))))
                continue
            }
            guard let effects = claimed, !effects.isEmpty else {
                publish(store)
                let due = (try? store.nextDueTime()) ?? nil
                // Wake at least every 5 s: an operator's `rules outbox retry` is picked up without a signal.
                pause(until: min(due ?? .infinity, now + 5))
                continue
            }
            carryOut(effects, runner: runner, store: store)
            publish(store)
        }
    }

    /// Waits until `deadline`, a wake-up or a stop.
    private func pause(until deadline: Double) {
        signal.locked {
            while !woken && !stopping && wallClock() < deadline { signal.wait(until: deadline) }
            woken = false
        }
    }

    private func carryOut(_ effects: [OutboxStore.Effect], runner: EffectRunner, store: OutboxStore) {
        guard let user = effects.first?.userID else { return }
        let plan = UserPlan(
            userID: user, assign: effects.filter(\.assign).map { PlannedRole(role: $0.role, rule: $0.rule) },
            revoke: effects.filter { !$0.assign }.map { PlannedRole(role: $0.role, rule: $0.rule) })
        let before = runner.client.statistics
        let outcomes = runner.apply(plan)
        let after = runner.client.statistics
        Counter(label: "rolecall_management_requests_total").increment(by: after.requests - before.requests)
        Counter(label: "rolecall_management_retries_total").increment(by: after.retries - before.retries)
        Counter(label: "rolecall_management_429_total").increment(by: after.tooManyRequests - before.tooManyRequests)
        // Without a token (or once the worker is stopping) nothing could succeed: the effects are not at fault.
        let notTheirFault = runner.client.tokenFailure != nil || runner.client.deadlineFailure != nil
        let stopped = runner.client.deadlineFailure != nil && isStopping
        let now = wallClock()
        var settlements: [(seq: Int, OutboxStore.Settlement)] = []
        for effect in effects {
            // The outcome for this very role: by its bytes, as the tenant tells spellings apart (``ExactString``).
            let outcome = outcomes.first {
                ExactString($0.role) == ExactString(effect.role) && $0.assign == effect.assign
            }
            let settlement: OutboxStore.Settlement
            let result: String
            switch outcome?.status {
            case .done?, .skipped?:
                settlement = .done
                result = "done"
            case .failed(let status, let code, let message)? where !notTheirFault:
                settlement = .dead(status: status, errorCode: code, message: message)
                result = "dead"
            case _ where stopped:
                // Cut short by the stop, not the effect's doing: queued again as it was, due at once.
                settlement = .requeue
                result = "requeued"
                logger.notice(
                    "role change left in the outbox for the next start",
                    metadata: [
                        "decision_id": "\(effect.decisionID)", "user": "\(HumanText.word(user))",
                        "role": "\(HumanText.word(effect.role))",
                    ])
            case let status:
                let problem: String
                switch status {
                case .failed(let code, let errorCode, let message)?:
                    problem = "\(code) \(errorCode ?? "error"): \(message)"
                case .gaveUp(_, let last)?: problem = last
                default: problem = "no outcome"
                }
                let wait = min(Self.maximumBackoff, pow(2, Double(min(effect.attempts, 16))))
                settlement = .retry(at: now + wait * Double.random(in: 0.8...1.2), message: problem)
                result = "retry"
                logger.warning(
                    "role change will be tried again",
                    metadata: [
                        "decision_id": "\(effect.decisionID)", "user": "\(HumanText.word(user))",
                        "role": "\(HumanText.word(effect.role))", "attempt": "\(effect.attempts + 1)",
                        "retry_in_s": "\(Int(wait.rounded()))", "problem": "\(HumanText.line(problem))",
                    ])
            }
            if result == "done" {
                logger.info(
                    "role change done",
                    metadata: [
                        "decision_id": "\(effect.decisionID)", "user": "\(HumanText.word(user))",
                        "role": "\(HumanText.word(effect.role))", "change": "\(effect.assign ? "assign" : "revoke")",
                    ])
            }
            if !stopped { Counter(label: "rolecall_effects_total", dimensions: [("outcome", result)]).increment() }
            settlements.append((effect.seq, settlement))
        }
        // Recording the outcome must not fail silently: retry until it is written (the calls are idempotent, so
        // a stop before this point only repeats them).
        var attempt = 0
        while true {
            do {
                try store.settle(settlements, now: now)
                return
            } catch {
                attempt += 1
                logger.error("cannot record effect outcomes", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                if isStopping { return }
                pause(until: wallClock() + min(30, Double(attempt)))
            }
        }
    }

    private func publish(_ store: OutboxStore, force: Bool = false) {
        let now = wallClock()
        let due = signal.locked { () -> Bool in
            guard force || now - lastPublished >= 1 else { return false }
            lastPublished = now
            return true
        }
        guard due, let gauges = try? store.gauges(now: now) else { return }
        Gauge(label: "rolecall_outbox_depth").record(gauges.open)
        Gauge(label: "rolecall_outbox_oldest_seconds").record(gauges.oldestAge)
        Gauge(label: "rolecall_outbox_dead_letters").record(gauges.dead)
    }
}
