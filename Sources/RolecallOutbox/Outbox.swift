import Foundation
import Logging
import RolecallEffects
import RolecallEngine
import RolecallLanguage
import Synchronization

/// One decision as `rules serve` logs it, with the effects it planned: committed in one transaction.
public struct DecisionRecord: Sendable {
    /// The decision id the server answered (``DecisionID/make()``).
    public var id: String
    /// When the decision was made, in Unix seconds.
    public var time: Double
    /// The evaluation clock the rules saw (`days_since`), in Unix seconds; `rules log export` writes it into the
    /// event as `rolecall_now` so that a replay decides at the same moment. Nil when not known.
    public var clock: Double?
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
    /// The decision's `roles`: what the token issued now carries, and what the tenant must hold once this
    /// decision's effects are done.
    public var roles: [String]
    /// The request's signature, for a signed request: recorded in the decision's transaction, and a record whose
    /// signature was committed before (and has not expired) is logged without its plan.
    public var signature: RequestSignature?

    /// A record.
    public init(
        id: String, time: Double, userID: String?, decision: String, ruleSetHash: String, latencyMicroseconds: Int,
        event: [UInt8]? = nil, plan: UserPlan? = nil, roles: [String], clock: Double? = nil,
        signature: RequestSignature? = nil
    ) {
        self.id = id
        self.time = time
        self.clock = clock
        self.userID = userID
        self.decision = decision
        self.ruleSetHash = ruleSetHash
        self.latencyMicroseconds = latencyMicroseconds
        self.event = event
        self.plan = plan
        self.roles = roles
        self.signature = signature
    }
}

/// The signature of a signed request, and when its timestamp leaves the window (after which the server refuses
/// the request anyway, so it need not be remembered).
public struct RequestSignature: Sendable, Equatable {
    /// The 32 bytes of the HMAC-SHA256.
    public var bytes: [UInt8]
    /// Unix seconds: the request's timestamp plus the window.
    public var expires: Double

    /// A signature remembered until `expires`.
    public init(bytes: [UInt8], expires: Double) {
        self.bytes = bytes
        self.expires = expires
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

/// Decision ids: `dec_` and 26 characters of Crockford base 32, a ULID: 48 bits of milliseconds since 1970, then
/// 80 bits that never repeat in a process and differ between processes, so ids sort by time and never repeat.
///
/// The 80 bits are a random number drawn once per process plus a counter stepped by an odd constant (a
/// bijection on 64 bits), not a fresh random draw each time: a draw is a system call, which would cost more than
/// the decision. Ids name decisions; they are not secrets.
public enum DecisionID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    static let seed: (high: UInt64, low: UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()
    static let counter = Atomic<UInt64>(0)

    /// A new id for a decision made at `time` (Unix seconds).
    public static func make(time: Double = wallClock()) -> String {
        let milliseconds = UInt64(max(0, time * 1000)) & 0xFFFF_FFFF_FFFF
        let step = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        let high = seed.high & 0xFFFF  // 16 bits
        let low = seed.low &+ step &* 0x9E37_79B9_7F4A_7C15  // 64 bits, distinct for 2^64 ids
        var out = Array("dec_".utf8)
        // 130 bits as 26 digits: 48 time bits, then 80 random; the first digit holds the top 2 (zero) bits.
        for index in (0..<26).reversed() {
            let bit = index * 5
            func bits(_ value: UInt64, at offset: Int) -> UInt64 {
                guard offset < 64, offset > -5 else { return 0 }
                return offset >= 0 ? (value >> UInt64(offset)) : (value << UInt64(-offset))
            }
            // Bit `bit` counted from the right of the 128-bit number time(48) | high(16) | low(64).
            let digit = (bits(low, at: bit) | bits(high, at: bit - 64) | bits(milliseconds, at: bit - 80)) & 31
            out.append(alphabet[Int(digit)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A lock with a condition, for the threads the outbox runs.
final class Signal: @unchecked Sendable {
    private let condition = NSCondition()

    /// Runs `body` holding the lock.
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    /// Waits, holding the lock, until signalled or until `deadline` (Unix seconds).
    func wait(until deadline: Double) {
        let seconds = deadline - wallClock()
        guard seconds > 0 else { return }
        condition.wait(until: Date(timeIntervalSinceNow: min(seconds, 86_400)))
    }

    /// Wakes every waiter.
    func broadcast() { condition.broadcast() }
}

/// Moves a value that one thread owns at a time to the thread that will own it.
final class Handoff<Value: AnyObject>: @unchecked Sendable {
    private(set) var value: Value?
    init(_ value: Value) { self.value = value }
    /// Drops the reference, so the value is freed now rather than when the closure holding this is.
    func release() { value = nil }
}

/// The durable outbox and decision log of `rules serve`: a SQLite file in WAL mode with `synchronous=FULL`.
///
/// ``commit(_:)`` returns once the record is on disk. One writer thread commits: records that arrive while a
/// commit is in progress share the next one (group commit), so durability does not cap throughput. One server
/// owns a file at a time (an exclusive lock on it); the `rules outbox` commands may read and change it meanwhile.
public final class Outbox: Sendable {
    /// Bounds on the decision log.
    public struct Options: Sendable {
        /// Decisions older than this many seconds are deleted (default 30 days), and so are effects carried out
        /// or coalesced that long ago.
        public var logRetentionSeconds: Double = 30 * 86_400
        /// At most this many decisions are kept, the oldest deleted first.
        public var maxLoggedDecisions = 10_000_000
        /// The defaults.
        public init() {}
    }

    /// The file's path.
    public let path: String
    let options: Options
    let logger: Logger
    private let signal = Signal()
    /// Records waiting for the next commit, each with what to call once it is on disk (or failed).
    private nonisolated(unsafe) var queue: [(DecisionRecord, @Sendable (Result<Void, OutboxError>) -> Void)] = []
    private nonisolated(unsafe) var closing = false
    private nonisolated(unsafe) var closed = false
    private nonisolated(unsafe) var released = false
    /// When the last commit failed, until one succeeds.
    private nonisolated(unsafe) var lastFailure: Double?
    private nonisolated(unsafe) var checkpointerDone = false
    /// The device and inode of `PATH-wal` once seen.
    private nonisolated(unsafe) var walIdentity: (UInt, UInt)?
    private nonisolated(unsafe) var committed: [@Sendable () -> Void] = []
    private let lockDescriptor: Int32

    /// Opens (creating when needed) the outbox at `path`, takes its lock, puts effects a crash interrupted back
    /// in the queue, and starts the writer thread.
    public init(path: String, options: Options = Options(), logger: Logger = Logger(label: "rolecall.outbox"))
        throws(OutboxError)
    {
        self.path = path
        self.options = options
        self.logger = logger
        let store = try OutboxStore(path: path, create: true)
        lockDescriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard lockDescriptor >= 0, flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            if lockDescriptor >= 0 { Glibc.close(lockDescriptor) }
            throw OutboxError("the outbox \(FileName.visible(path)) is in use by another server")
        }
        let recovered = try store.recoverRunning(now: wallClock())
        _ = isStillTheFile
        if recovered > 0 {
            logger.warning(
                "effects interrupted by a stop are queued again",
                metadata: ["count": "\(recovered)", "outbox": "\(path)"])
        }
        // The signatures committed before, so a request replayed across a restart queues nothing either.
        let seen = SeenSignatures()
        for (bytes, expires) in try store.loadSignatures(now: wallClock(), limit: seen.capacity) {
            seen.remember(bytes, expires: expires)
        }
        // Checkpoints (copying the WAL into the file, and its fsync) happen on a thread of their own, not in the
        // middle of a commit that requests are waiting for.
        try store.connection.execute("PRAGMA wal_autocheckpoint=0")
        let checkpointer = Thread { [self] in
            checkpointLoop()
            signal.locked {
                checkpointerDone = true
                signal.broadcast()
            }
        }
        checkpointer.name = "rolecall-outbox-checkpoint"
        checkpointer.start()
        let handoff = Handoff(store)
        let memory = Handoff(seen)
        let thread = Thread { [self] in
            if let store = handoff.value, let seen = memory.value { self.writerLoop(store, seen: seen) }
            // The connection is closed (and the WAL checkpointed) before close() returns.
            handoff.release()
            memory.release()
            signal.locked {
                closed = true
                signal.broadcast()
            }
        }
        thread.name = "rolecall-outbox-writer"
        thread.start()
    }

    /// Commits `record` (its decision and its effects) durably; returns once it is on disk.
    public func commit(_ record: DecisionRecord) async throws(OutboxError) {
        let result = await withCheckedContinuation { continuation in
            commit(record) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Commits `record` durably and calls `completion` (on the writer thread) once it is on disk, or with why
    /// it could not be: for callers that must not wait, such as an event loop.
    public func commit(_ record: DecisionRecord, completion: @escaping @Sendable (Result<Void, OutboxError>) -> Void) {
        let accepted = signal.locked { () -> Bool in
            guard !closing else { return false }
            queue.append((record, completion))
            signal.broadcast()
            return true
        }
        if !accepted { completion(.failure(OutboxError("the outbox is closed"))) }
    }

    /// Calls `body` after every commit that added effects (the worker's wake-up).
    func onCommit(_ body: @escaping @Sendable () -> Void) { signal.locked { committed.append(body) } }

    /// Counts by state.
    public func status() throws(OutboxError) -> OutboxStatus {
        try OutboxStore(path: path, create: false).status(now: wallClock())
    }

    /// True when the outbox can take a commit now (the readiness probe): open, still the file at ``path``
    /// (not removed or replaced), writable, and no commit failed in the last 5 seconds (so a server whose disk
    /// was full becomes ready again by itself and takes the traffic that shows whether it recovered).
    public var isWritable: Bool {
        let healthy = signal.locked { !closing && (lastFailure.map { wallClock() - $0 > 5 } ?? true) }
        return healthy && isStillTheFile && access(path, W_OK) == 0
    }

    /// Whether ``path`` still names the file the server opened, and `PATH-wal` the write-ahead log it writes:
    /// a file removed or replaced under a running server would take commits that vanish with the process.
    var isStillTheFile: Bool {
        var named = stat()
        var open = stat()
        guard stat(path, &named) == 0, fstat(lockDescriptor, &open) == 0,
            named.st_ino == open.st_ino && named.st_dev == open.st_dev
        else { return false }
        var log = stat()
        let found = stat(path + "-wal", &log) == 0 ? (log.st_dev, log.st_ino) : nil
        return signal.locked {
            // SQLite keeps the log while a connection is open: the one seen first must stay.
            guard let known = walIdentity else {
                walIdentity = found
                return true
            }
            return found.map { $0 == known } ?? false
        }
    }

    private func checkpointLoop() {
        guard let connection = try? SQLiteConnection(path: path, create: false) else { return }
        while true {
            let stop = signal.locked { () -> Bool in
                if !closing { signal.wait(until: wallClock() + 1) }
                return closing
            }
            if stop { return }
            do {
                try connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            } catch {
                logger.warning("outbox checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Commits what is queued, stops the writer thread and releases the file.
    ///
    /// Safe to call more than once: later calls wait for the first to finish.
    public func close() {
        let first = signal.locked { () -> Bool in
            closing = true
            signal.broadcast()
            while !closed || !checkpointerDone { signal.wait(until: wallClock() + 1) }
            return !released
        }
        guard first else { return }
        signal.locked { released = true }
        flock(lockDescriptor, LOCK_UN)
        Glibc.close(lockDescriptor)
    }

    /// Commits `records` in one transaction: each signed record whose signature was committed before (or comes
    /// earlier in `records`) without its plan. The signatures count as seen once the transaction has committed;
    /// returns which records were such replays.
    private func commit(_ records: [DecisionRecord], store: OutboxStore, seen: SeenSignatures) throws(OutboxError)
        -> [Bool]
    {
        var pending = SeenSignatures.Pending()
        let replayed = try store.connection.immediateTransaction { () throws(OutboxError) -> [Bool] in
            try records.map { record throws(OutboxError) -> Bool in
                let screened = seen.screen(record, now: record.time, pending: &pending)
                try store.insert(screened.record)
                return screened.replayed
            }
        }
        seen.remember(pending)
        return replayed
    }

    private func writerLoop(_ store: OutboxStore, seen: SeenSignatures) {
        while true {
            let batch = signal.locked {
                () -> [(DecisionRecord, @Sendable (Result<Void, OutboxError>) -> Void)] in
                while queue.isEmpty && !closing { signal.wait(until: wallClock() + 3_600) }
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            if batch.isEmpty { return }
            var results: [Result<Void, OutboxError>]
            if !isStillTheFile {
                let error = OutboxError(
                    "the outbox file \(FileName.visible(path)) was removed or replaced while the server ran; restart the server"
                )
                logger.critical("outbox commit refused", metadata: ["error": "\(error)"])
                results = Array(repeating: .failure(error), count: batch.count)
            } else {
                var replayed: [Bool]
                do {
                    replayed = try commit(batch.map(\.0), store: store, seen: seen)
                    results = Array(repeating: .success(()), count: batch.count)
                } catch {
                    // One record's failure must not fail the others: commit them one by one.
                    replayed = []
                    results = batch.map { record, _ in
                        Result { () throws(OutboxError) in
                            replayed += try commit([record], store: store, seen: seen)
                        }
                    }
                    logger.error("outbox commit failed", metadata: ["error": "\(error)", "outbox": "\(path)"])
                }
                if replayed.contains(true) {
                    let stored = zip(batch, results).compactMap { entry, result -> DecisionRecord? in
                        if case .success = result { entry.0 } else { nil }
                    }
                    for (record, replay) in zip(stored, replayed) where replay {
                        logger.notice(
                            "a signed request seen before: decided and logged, no role change queued",
                            metadata: ["decision_id": "\(record.id)"])
                    }
                }
            }
            let failed = results.contains { if case .failure = $0 { true } else { false } }
            let hooks = signal.locked { () -> [@Sendable () -> Void] in
                lastFailure = failed ? wallClock() : nil
                return committed
            }
            for ((_, completion), result) in zip(batch, results) { completion(result) }
            if batch.contains(where: { $0.0.plan != nil }) { for hook in hooks { hook() } }
        }
    }
}

/// An outbox file opened by an operator's command (`rules outbox`, `rules log export`): readable and changeable
/// while a server runs on it, since SQLite serialises the writes.
public final class OutboxFile {
    let store: OutboxStore

    /// Opens the existing outbox at `path`; a missing file or one that is not an outbox is an error.
    public init(path: String) throws(OutboxError) {
        guard access(path, F_OK) == 0 else { throw OutboxError("no outbox at \(FileName.visible(path))") }
        store = try OutboxStore(path: path, create: false, upgrading: false)
    }

    /// Counts by state.
    public func status() throws(OutboxError) -> OutboxStatus { try store.status(now: wallClock()) }

    /// Effects in `states` (every state when empty), oldest first, at most `limit`.
    public func list(states: [String] = [], limit: Int = 100) throws(OutboxError) -> [OutboxEntry] {
        try store.list(states: states, limit: limit)
    }

    /// Puts the dead letters with `ids` (all of them when nil) back in the queue, due now, except those a newer
    /// decision for the same user superseded; with `ids`, queues nothing when one of them is not a dead letter.
    public func retry(ids: [Int]?) throws(OutboxError) -> OutboxRetry { try store.retry(ids: ids, now: wallClock()) }

    /// Deletes effects in `states` last changed more than `olderThan` seconds ago. Returns how many.
    public func purge(states: [String], olderThan: Double) throws(OutboxError) -> Int {
        try store.purge(states: states, before: wallClock() - olderThan)
    }

    /// Calls `body` with every logged event, oldest decision first, with the clock it was decided with as its
    /// first member, `"rolecall_now":"<RFC 3339>"` (``EventClock/stamp(_:clock:)``), so `rules eval --events`
    /// decides as the server did; returns how many decisions had no event logged (the server ran without
    /// `--log-events`). A decision logged before the clock was recorded (outbox schema 1) is stamped with its
    /// time: the clock and the time were read within microseconds of each other.
    public func exportEvents(_ body: ([UInt8]) -> Void) throws(OutboxError) -> Int {
        var missing = 0
        try store.forEachDecision { _, time, clock, event in
            if let event { body(EventClock.stamp(event, clock: clock ?? time)) } else { missing += 1 }
        }
        return missing
    }
}
