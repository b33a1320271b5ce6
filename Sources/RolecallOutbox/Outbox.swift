import Logging
import RolecallEffects

/// One decision as `rules serve` logs it, with the effects it planned: committed in one transaction.
public struct DecisionRecord: Sendable {
    /// The decision id the server answered (``DecisionID/make()``).
    public var id: String
    /// When the decision was made, in Unix seconds.
    public var time: Double
    /// The event's `user.user_id`, when it had one.
    public var userID: String?
    /// The decision JSON, as answered (without `decision_id`).
    public var decision: String
    /// The hash of the rule set that decided (``/v1/ruleset``'s `hash`).
    public var ruleSetHash: String
    /// Microseconds from the request's body to the decision.
    public var latencyMicroseconds: Int
    /// The event as received, minus redacted paths, when the server logs events; nil otherwise.
    public var event: [UInt8]?
    /// The effects to carry out; nil when the event has no user to change.
    public var plan: UserPlan?

    /// A record.
    public init(
        id: String, time: Double, userID: String?, decision: String, ruleSetHash: String, latencyMicroseconds: Int,
        event: [UInt8]? = nil, plan: UserPlan? = nil
    ) {
        self.id = id
        self.time = time
        self.userID = userID
        self.decision = decision
        self.ruleSetHash = ruleSetHash
        self.latencyMicroseconds = latencyMicroseconds
        self.event = event
        self.plan = plan
    }
}

/// Why the outbox could not do what was asked.
public struct OutboxError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, with SQLite's message.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How full the outbox is: what `rules outbox status` prints and `/metrics` exports.
public struct OutboxStatus: Sendable, Equatable {
    /// Effects waiting to be carried out (running ones included).
    public var pending = 0
    /// Effects the worker is carrying out now.
    public var running = 0
    /// Effects carried out.
    public var done = 0
    /// Effects refused for good by the Management API (dead letters).
    public var dead = 0
    /// Effects made unnecessary by a later decision for the same user and role before they ran.
    public var coalesced = 0
    /// Seconds since the oldest pending effect was committed; nil when none is pending.
    public var oldestPendingAge: Double?
    /// Decisions in the decision log.
    public var decisions = 0
    /// An empty status.
    public init() {}
}

/// Decision ids: `dec_` and 26 characters of Crockford base 32, sortable by time (a ULID).
public enum DecisionID {
    /// A new id.
    public static func make() -> String { fatalError("not yet") }
}

/// The durable outbox and decision log of `rules serve`: a SQLite file in WAL mode with `synchronous=FULL`.
///
/// ``commit(_:)`` returns once the record is on disk; records committed while a commit is in progress share the
/// next one (group commit), so durability does not cap throughput.
public final class Outbox: Sendable {
    /// Bounds on the decision log.
    public struct Options: Sendable {
        /// Decisions older than this many seconds are deleted (default 30 days).
        public var logRetentionSeconds: Double = 30 * 86_400
        /// At most this many decisions are kept, the oldest deleted first.
        public var maxLoggedDecisions = 10_000_000
        /// The defaults.
        public init() {}
    }

    /// The file's path.
    public let path: String

    /// Opens (creating when needed) the outbox at `path`.
    public init(path: String, options: Options = Options(), logger: Logger = Logger(label: "rolecall.outbox"))
        throws(OutboxError)
    { fatalError("not yet") }

    /// Commits `record` (its decision and its effects) durably; returns once it is on disk.
    public func commit(_ record: DecisionRecord) async throws(OutboxError) { fatalError("not yet") }

    /// Counts by state.
    public func status() throws(OutboxError) -> OutboxStatus { fatalError("not yet") }

    /// True when the outbox can take a commit now (the readiness probe).
    public var isWritable: Bool { fatalError("not yet") }

    /// Finishes pending commits and closes the file.
    public func close() { fatalError("not yet") }
}

/// Carries out the outbox's effects on a thread of its own, through an ``EffectRunner``.
public final class OutboxWorker: Sendable {
    /// A worker draining `outbox`; `makeRunner` is called on the worker's thread, which owns the runner.
    public init(
        outbox: Outbox, logger: Logger = Logger(label: "rolecall.worker"),
        makeRunner: @escaping @Sendable () -> EffectRunner
    ) { fatalError("not yet") }

    /// Starts the thread.
    public func start() { fatalError("not yet") }

    /// Tells the worker new effects were committed.
    public func wake() { fatalError("not yet") }

    /// Lets the current plan finish, then stops the thread; returns when it has.
    public func stop() { fatalError("not yet") }
}
