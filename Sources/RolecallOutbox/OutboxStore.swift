import RolecallEffects
import RolecallJSON
import RolecallLanguage

/// The outbox's tables and every query on them, over one connection: the server's writer, its worker and the
/// `rules outbox` commands all go through here, so the file has one meaning.
///
/// Effects move `pending` → `running` → `done`, or → `dead` (refused for good, with Auth0's answer), or back to
/// `pending` with a later `next_at` (every attempt failed with something retryable). A `pending` effect that a
/// later decision for the same user and role made unnecessary becomes `coalesced`. `running` only lasts while
/// the worker calls Auth0: at start-up any `running` effect is a call a crash interrupted, and goes back to
/// `pending` to be made again (assign and revoke are idempotent at Auth0). A dead letter stays dead until an
/// operator retries or purges it, and once a newer decision for its user is logged it is superseded: `retry` skips
/// it (``supersedingDecisions(of:after:)``).
final class OutboxStore {
    /// The schema version in `PRAGMA user_version`. 1: the first; 2: `decisions.clock`, the evaluation clock;
    /// 3: `signatures`, the signed requests committed and not yet expired.
    static let schemaVersion = 3

    /// The table of signatures (schema 3). Keyed by expiry first: an insert lands at the right edge of the b-tree
    /// (timestamps grow), pruning deletes from the left, and start-up reads the unexpired ones as one range.
    static let signaturesTable = """
        CREATE TABLE IF NOT EXISTS signatures(
          expires REAL NOT NULL, mac BLOB NOT NULL, PRIMARY KEY(expires, mac)) WITHOUT ROWID;
        """

    let connection: SQLiteConnection

    /// The schema an operator's command (``OutboxFile``: `rules outbox`, `rules log export`) needs: it reads and
    /// changes only decisions and effects.
    static let operatorSchemaVersion = 2

    /// Opens `path`. `create` makes the file and its tables when missing; otherwise a missing file or one that is
    /// not an outbox is an error. An older schema is brought up to ``schemaVersion``, or with `upgrading` false
    /// only up to ``operatorSchemaVersion``: a server of the previous schema may be running on the file, and an
    /// outbox moved past what it reads would refuse its next start (found by an attack: `rules outbox status`
    /// upgraded a running older server's outbox). The server upgrades it when it starts.
    init(path: String, create: Bool, upgrading: Bool = true) throws(OutboxError) {
        connection = try SQLiteConnection(path: path, create: create)
        let version = try connection.prepare("PRAGMA user_version").rows { $0.integer(0) }.first ?? 0
        if version == 0 {
            guard create else { throw OutboxError("\(FileName.visible(path)) is not a Rolecall outbox (no schema)") }
            try connection.execute("PRAGMA journal_mode=WAL")
            try connection.immediateTransaction { () throws(OutboxError) in
                try connection.execute(
                    """
                    CREATE TABLE IF NOT EXISTS decisions(
                      id TEXT NOT NULL, time REAL NOT NULL, user_id TEXT, decision TEXT NOT NULL,
                      ruleset TEXT NOT NULL, latency_us INTEGER NOT NULL, event BLOB, clock REAL);
                    CREATE TABLE IF NOT EXISTS effects(
                      seq INTEGER PRIMARY KEY AUTOINCREMENT, decision_id TEXT NOT NULL, user_id TEXT NOT NULL,
                      role TEXT NOT NULL, rule TEXT NOT NULL, assign INTEGER NOT NULL, state TEXT NOT NULL,
                      attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL DEFAULT 0, created REAL NOT NULL,
                      updated REAL NOT NULL, status INTEGER, error_code TEXT, message TEXT);
                    CREATE INDEX IF NOT EXISTS effects_open ON effects(seq)
                      WHERE state IN ('pending', 'running');
                    CREATE INDEX IF NOT EXISTS effects_open_by_user ON effects(user_id)
                      WHERE state IN ('pending', 'running');
                    CREATE INDEX IF NOT EXISTS effects_dead ON effects(seq) WHERE state = 'dead';
                    CREATE INDEX IF NOT EXISTS effects_done_by_user ON effects(user_id, updated) WHERE state = 'done';
                    \(Self.signaturesTable)
                    PRAGMA user_version = \(Self.schemaVersion);
                    """)
            }
        } else if version < Self.schemaVersion {
            let target = upgrading ? Self.schemaVersion : Self.operatorSchemaVersion
            if version < target { try migrate(path: path, to: target) }
        } else if version != Self.schemaVersion {
            throw OutboxError(
                "\(FileName.visible(path)) is an outbox of schema \(version); this build reads schema \(Self.schemaVersion)"
            )
        }
        // Durable before `commit` returns: every commit reaches the disk (WAL with synchronous=FULL).
        try connection.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL")
    }

    /// Brings an outbox of an older schema up to `target`, one step at a time, in one transaction that reads the
    /// version again (another process may have migrated it meanwhile, further than `target` too).
    ///
    /// 1 → 2 adds `decisions.clock`, NULL for the decisions already logged (adding a nullable column rewrites
    /// nothing, however long the log); `rules log export` stamps those with their `time` instead. 2 → 3 adds the
    /// table `signatures`, empty.
    private func migrate(path: String, to target: Int) throws(OutboxError) {
        try connection.immediateTransaction { () throws(OutboxError) in
            var version = try connection.prepare("PRAGMA user_version").rows { $0.integer(0) }.first ?? 0
            if version == 1 && target >= 2 {
                try connection.execute("ALTER TABLE decisions ADD COLUMN clock REAL; PRAGMA user_version = 2")
                version = 2
            }
            if version == 2 && target >= 3 {
                try connection.execute(Self.signaturesTable + "PRAGMA user_version = 3")
                version = 3
            }
            guard version >= target, version <= Self.schemaVersion else {
                throw OutboxError(
                    "\(FileName.visible(path)) is an outbox of schema \(version); this build reads schema \(Self.schemaVersion)"
                )
            }
        }
    }

    // The tables, and why they look so. Every login adds a decision row and its effects, so a commit must touch
    // as few b-trees as it can: `decisions` has no index at all (its rowid order is time order: retention deletes
    // from the front, export reads in order, and decision ids are ULIDs, unique without an index), and the indexes
    // on `effects` are partial, holding only the effects still open (pending or running) or dead, so they stay
    // small however many effects are done or coalesced.

    // MARK: writing decisions

    private lazy var insertDecision = try? connection.prepare(
        """
        INSERT INTO decisions(id, time, user_id, decision, ruleset, latency_us, event, clock)
        VALUES(?, ?, ?, ?, ?, ?, ?, ?)
        """)
    private lazy var runningForUser = try? connection.prepare(
        """
        SELECT role, assign FROM effects
        WHERE state IN ('pending', 'running') AND state = 'running' AND user_id = ?
        """)
    private lazy var coalesce = try? connection.prepare(
        """
        UPDATE effects SET state = 'coalesced', updated = ?, message = 'superseded by decision ' || ?
        WHERE state IN ('pending', 'running') AND state = 'pending' AND user_id = ?
        """)
    private lazy var insertSignature = try? connection.prepare(
        "INSERT OR IGNORE INTO signatures(expires, mac) VALUES(?, ?)")
    private lazy var insertEffect = try? connection.prepare(
        """
        INSERT INTO effects(decision_id, user_id, role, rule, assign, state, created, updated)
        VALUES(?, ?, ?, ?, ?, 'pending', ?, ?)
        """)

    private func statement(_ statement: SQLiteStatement?) throws(OutboxError) -> SQLiteStatement {
        guard let statement else { throw OutboxError("outbox: cannot prepare a statement: \(connection.lastMessage)") }
        return statement
    }

    /// How long a change carried out counts as newer than what a login event shows, in seconds. Auth0 builds the
    /// event when the login starts, and the Actions before this one may take seconds: a change finished in
    /// between is not in the event.
    static let recentWindow = 300.0

    private lazy var recentlyDone = try? connection.prepare(
        """
        SELECT role, assign FROM effects WHERE state = 'done' AND user_id = ? AND updated >= ? ORDER BY seq
        """)

    /// Inserts `record`, its signature and its effects, inside the caller's transaction.
    ///
    /// The newest decision for a user is the one the tenant must end up matching: its `roles` are what the
    /// token issued now carries. Its plan was made against the roles the login showed, which no pending effect
    /// had changed yet, so every effect still pending for the user is superseded (`coalesced`) and the new plan
    /// queued: an assign then a revoke of the same role before either ran costs no call, and a revoke that a
    /// later login no longer asks for is not made. For a role the outbox changed recently or is changing now,
    /// the outbox knows better than the event (a call being made cannot be recalled; one finished after the
    /// login began is not in its event): when that change leaves the role other than the new `roles` say, the
    /// change that restores them is queued; a planned change it already made or is making is not queued again.
    func insert(_ record: DecisionRecord) throws(OutboxError) {
        try statement(insertDecision).run([
            .text(record.id), .real(record.time), record.userID.map { .text($0) } ?? .null, .text(record.decision),
            .text(record.ruleSetHash), .integer(record.latencyMicroseconds), record.event.map { .blob($0) } ?? .null,
            record.clock.map { .real($0) } ?? .null,
        ])
        if let signature = record.signature {
            try statement(insertSignature).run([.real(signature.expires), .blob(signature.bytes)])
        }
        guard let plan = record.plan else { return }
        // What the tenant holds, or will once the call under way ends, for the roles the outbox knows about. Role
        // names are their bytes (``ExactString``): a change of `"caf\u{E9}"` says nothing of `"cafe\u{301}"`.
        var known: [ExactString: Bool] = [:]
        for (role, assign) in try statement(recentlyDone).rows(
            [.text(plan.userID), .real(record.time - Self.recentWindow)], { ($0.text(0) ?? "", $0.integer(1) != 0) })
        {
            known[ExactString(role)] = assign
        }
        for (role, assign) in try statement(runningForUser).rows(
            [.text(plan.userID)],
            {
                ($0.text(0) ?? "", $0.integer(1) != 0)
            })
        {
            known[ExactString(role)] = assign
        }
        try statement(coalesce).run([.real(record.time), .text(record.id), .text(plan.userID)])
        var queued: [(PlannedRole, assign: Bool)] = plan.assign.map { ($0, true) } + plan.revoke.map { ($0, false) }
        queued.removeAll { known[ExactString($0.0.role)] == $0.assign }
        let roles = Set(record.roles.map(ExactString.init))
        for (role, held) in known.sorted(by: { $0.key < $1.key }) where held != roles.contains(role) {
            guard !queued.contains(where: { ExactString($0.0.role) == role && $0.assign == !held }) else { continue }
            let rule =
                plan.skipped.first { ExactString($0.role) == role }?.rule ?? "(the roles of decision \(record.id))"
            queued.append((PlannedRole(role: role.string, rule: rule), !held))
        }
        for (planned, assign) in queued {
            try statement(insertEffect).run([
                .text(record.id), .text(plan.userID), .text(planned.role), .text(planned.rule),
                .integer(assign ? 1 : 0), .real(record.time), .real(record.time),
            ])
        }
    }

    /// The signatures that expire at `now` or later, at most `limit` (those that expire last), oldest first;
    /// the expired ones are deleted.
    func loadSignatures(now: Double, limit: Int) throws(OutboxError) -> [(bytes: [UInt8], expires: Double)] {
        try pruneSignatures(before: now)
        let newest = try connection.prepare(
            "SELECT mac, expires FROM signatures WHERE expires >= ? ORDER BY expires DESC, mac DESC LIMIT ?"
        ).rows([.real(now), .integer(limit)]) { (bytes: $0.blob(0) ?? [], expires: $0.real(1) ?? 0) }
        return Array(newest.reversed())
    }

    /// Deletes the signatures that expired before `before`. Returns how many.
    @discardableResult
    func pruneSignatures(before: Double) throws(OutboxError) -> Int {
        try connection.immediateTransaction { () throws(OutboxError) in try deleteSignatures(expiredBefore: before) }
    }

    /// ``pruneSignatures(before:)`` inside the caller's transaction (retention's too): the server refuses their
    /// requests anyway once their window is over.
    private func deleteSignatures(expiredBefore before: Double) throws(OutboxError) -> Int {
        try connection.prepare("DELETE FROM signatures WHERE expires < ?").run([.real(before)])
        return connection.changes
    }

    // MARK: the worker

    /// An effect as stored.
    struct Effect {
        var seq: Int
        var decisionID: String
        var userID: String
        var role: String
        var rule: String
        var assign: Bool
        var attempts: Int
    }

    /// Effects interrupted by a crash go back to the queue. Returns how many.
    func recoverRunning(now: Double) throws(OutboxError) -> Int {
        try connection.immediateTransaction { () throws(OutboxError) in
            try connection.prepare(
                "UPDATE effects SET state = 'pending', updated = ? WHERE state IN ('pending', 'running') AND state = 'running'"
            ).run([.real(now)])
            return connection.changes
        }
    }

    private lazy var nextUser = try? connection.prepare(
        """
        SELECT user_id FROM effects WHERE state IN ('pending', 'running') AND state = 'pending' AND next_at <= ?
        ORDER BY seq LIMIT 1
        """)
    private lazy var nextDue = try? connection.prepare(
        "SELECT MIN(next_at) FROM effects WHERE state IN ('pending', 'running') AND state = 'pending'")
    private lazy var userEffects = try? connection.prepare(
        """
        SELECT seq, decision_id, user_id, role, rule, assign, attempts FROM effects
        WHERE state IN ('pending', 'running') AND state = 'pending' AND user_id = ? ORDER BY seq
        """)
    private lazy var supersede = try? connection.prepare(
        """
        UPDATE effects SET state = 'coalesced', updated = ?, message = 'superseded by a newer change of the same role'
        WHERE seq = ?
        """)
    private lazy var markRunning = try? connection.prepare(
        "UPDATE effects SET state = 'running', updated = ? WHERE seq = ? AND state = 'pending'")

    /// Claims the pending effects of the user whose oldest due effect is oldest, marking them `running`; nil
    /// when nothing is due at `now`.
    func claimNextUser(now: Double) throws(OutboxError) -> [Effect]? {
        try connection.immediateTransaction { () throws(OutboxError) -> [Effect]? in
            guard let user = try statement(nextUser).rows([.real(now)], { $0.text(0) }).first ?? nil else {
                return nil
            }
            let effects = try statement(userEffects).rows([.text(user)]) { row in
                Effect(
                    seq: row.integer(0), decisionID: row.text(1) ?? "", userID: row.text(2) ?? "",
                    role: row.text(3) ?? "", rule: row.text(4) ?? "", assign: row.integer(5) != 0,
                    attempts: row.integer(6))
            }
            // One change per role, the newest: an older one still pending (a round that failed, a call a crash
            // interrupted) was already superseded by the decision that queued the newer.
            // By the role's bytes (``ExactString``): two spellings `String` finds equal are two roles.
            var newest: [ExactString: OutboxStore.Effect] = [:]
            for effect in effects { newest[ExactString(effect.role)] = effect }
            var claimed: [Effect] = []
            for effect in effects {
                if newest[ExactString(effect.role)]?.seq == effect.seq {
                    try statement(markRunning).run([.real(now), .integer(effect.seq)])
                    claimed.append(effect)
                } else {
                    try statement(supersede).run([.real(now), .integer(effect.seq)])
                }
            }
            return claimed
        }
    }

    /// When the next pending effect is due; nil when none is pending.
    func nextDueTime() throws(OutboxError) -> Double? {
        try statement(nextDue).rows { $0.real(0) }.first ?? nil
    }

    /// What became of a claimed effect.
    enum Settlement {
        case done
        case dead(status: Int, errorCode: String?, message: String)
        case retry(at: Double, message: String)
        /// Back to the queue as it was, due now (the call was cut short by a stop).
        case requeue
    }

    private lazy var settleDone = try? connection.prepare(
        "UPDATE effects SET state = 'done', attempts = attempts + 1, updated = ?, message = NULL WHERE seq = ?")
    private lazy var settleDead = try? connection.prepare(
        """
        UPDATE effects SET state = 'dead', attempts = attempts + 1, updated = ?, status = ?, error_code = ?,
        message = ? WHERE seq = ?
        """)
    private lazy var settleRetry = try? connection.prepare(
        """
        UPDATE effects SET state = 'pending', attempts = attempts + 1, updated = ?, next_at = ?, message = ?
        WHERE seq = ?
        """)

    private lazy var settleRequeue = try? connection.prepare(
        "UPDATE effects SET state = 'pending', updated = ?, next_at = 0 WHERE seq = ?")

    /// Records what happened to claimed effects, in one transaction.
    func settle(_ settlements: [(seq: Int, Settlement)], now: Double) throws(OutboxError) {
        try connection.immediateTransaction { () throws(OutboxError) in
            for (seq, settlement) in settlements {
                switch settlement {
                case .done: try statement(settleDone).run([.real(now), .integer(seq)])
                case .dead(let status, let code, let message):
                    try statement(settleDead).run([
                        .real(now), .integer(status), code.map { .text($0) } ?? .null, .text(message), .integer(seq),
                    ])
                case .retry(let time, let message):
                    try statement(settleRetry).run([.real(now), .real(time), .text(message), .integer(seq)])
                case .requeue:
                    try statement(settleRequeue).run([.real(now), .integer(seq)])
                }
            }
        }
    }

    /// Deletes decisions past `options`' bounds, and settled effects (done or coalesced) older than the retention.
    /// Dead letters stay until an operator retries or purges them.
    func enforceRetention(_ options: Outbox.Options, now: Double) throws(OutboxError) -> Int {
        try connection.immediateTransaction { () throws(OutboxError) in
            let cutoff = now - options.logRetentionSeconds
            // Rowid order is time order: delete from the front up to the first decision to keep.
            try connection.prepare(
                """
                DELETE FROM decisions WHERE rowid < COALESCE(
                  (SELECT rowid FROM decisions WHERE time >= ? ORDER BY rowid LIMIT 1),
                  (SELECT MAX(rowid) + 1 FROM decisions), 0)
                """
            ).run([.real(cutoff)])
            var deleted = connection.changes
            try connection.prepare(
                "DELETE FROM decisions WHERE rowid <= (SELECT MAX(rowid) FROM decisions) - ?"
            ).run([.integer(options.maxLoggedDecisions)])
            deleted += connection.changes
            try connection.prepare(
                "DELETE FROM effects WHERE state IN ('done', 'coalesced') AND updated < ?"
            ).run([.real(cutoff)])
            _ = try deleteSignatures(expiredBefore: now)
            return deleted
        }
    }

    // MARK: the operator's view

    /// Counts by state, and the age of the oldest pending effect.
    func status(now: Double) throws(OutboxError) -> OutboxStatus {
        var status = OutboxStatus()
        for (state, count) in try connection.prepare("SELECT state, COUNT(*) FROM effects GROUP BY state").rows({
            ($0.text(0) ?? "", $0.integer(1))
        }) {
            switch state {
            case "pending": status.pending += count
            case "running":
                status.running = count
                status.pending += count
            case "done": status.done = count
            case "dead": status.dead = count
            case "coalesced": status.coalesced = count
            default: break
            }
        }
        if let oldest = try connection.prepare(
            "SELECT MIN(created) FROM effects WHERE state IN ('pending', 'running')"
        ).rows({ $0.real(0) }).first ?? nil {
            status.oldestPendingAge = max(0, now - oldest)
        }
        status.decisions = try connection.prepare("SELECT COUNT(*) FROM decisions").rows { $0.integer(0) }.first ?? 0
        return status
    }

    /// What the worker publishes as gauges, from the small partial indexes only: open effects, the age of the
    /// oldest, dead letters.
    func gauges(now: Double) throws(OutboxError) -> (open: Int, oldestAge: Double, dead: Int) {
        let open =
            try connection.prepare("SELECT COUNT(*) FROM effects WHERE state IN ('pending', 'running')").rows {
                $0.integer(0)
            }.first ?? 0
        let oldest =
            try connection.prepare(
                "SELECT created FROM effects WHERE state IN ('pending', 'running') ORDER BY seq LIMIT 1"
            ).rows { $0.real(0) }.first ?? nil
        let dead =
            try connection.prepare("SELECT COUNT(*) FROM effects WHERE state = 'dead'").rows { $0.integer(0) }.first
            ?? 0
        return (open, oldest.map { max(0, now - $0) } ?? 0, dead)
    }

    /// Effects in `states` (all when empty), oldest first, at most `limit`.
    func list(states: [String], limit: Int) throws(OutboxError) -> [OutboxEntry] {
        let filter = states.isEmpty ? "" : "WHERE state IN (\(states.map { _ in "?" }.joined(separator: ", ")))"
        var entries = try connection.prepare(
            """
            SELECT seq, decision_id, user_id, role, rule, assign, state, attempts, created, updated, next_at, status,
            error_code, message FROM effects \(filter) ORDER BY seq LIMIT ?
            """
        ).rows(states.map { .text($0) } + [.integer(limit)]) { row in
            OutboxEntry(
                id: row.integer(0), decisionID: row.text(1) ?? "", userID: row.text(2) ?? "", role: row.text(3) ?? "",
                rule: row.text(4) ?? "", assign: row.integer(5) != 0, state: row.text(6) ?? "",
                attempts: row.integer(7), created: row.real(8) ?? 0, updated: row.real(9) ?? 0,
                nextAttempt: row.real(10) ?? 0, status: row.real(11).map { Int($0) }, errorCode: row.text(12),
                message: row.text(13))
        }
        let dead = entries.filter { $0.state == "dead" }
        let newer = try supersedingDecisions(of: dead.map { ($0.decisionID, $0.userID) }).found
        for index in entries.indices where entries[index].state == "dead" {
            entries[index].supersededBy = newer[entries[index].decisionID]
        }
        return entries
    }

    /// Puts dead letters (those with `ids`, or all when nil) back in the queue to be tried now, except those a
    /// newer decision for the same user superseded (``supersedingDecisions(of:after:)``), which stay dead letters.
    ///
    /// With `ids`, an id that is not in the outbox or not a dead letter is a mistake (a typo would otherwise go
    /// unnoticed): then nothing is queued, and the report says which ids were wrong.
    ///
    /// The decision log is read twice so that the server's commits never wait on the long read: first without
    /// the write lock, back to the oldest dead letter's decision; then, holding it, only the decisions logged since
    /// (and, for a dead letter refused in between, all of them again).
    func retry(ids: [Int]?, now: Double) throws(OutboxError) -> OutboxRetry {
        let before = try deadLetters(ids: ids).dead
        let first = try supersedingDecisions(of: before.map { ($0.decisionID, $0.userID) })
        let scanned = Set(before.map(\.id))
        return try connection.immediateTransaction { () throws(OutboxError) in
            var (report, dead) = try deadLetters(ids: ids)
            if ids != nil && !(report.missing.isEmpty && report.notDead.isEmpty) { return report }
            let known = dead.filter { scanned.contains($0.id) }
            let late = dead.filter { !scanned.contains($0.id) }
            let since = try supersedingDecisions(of: known.map { ($0.decisionID, $0.userID) }, after: first.through)
            let again = try supersedingDecisions(of: late.map { ($0.decisionID, $0.userID) })
            let update = try connection.prepare(
                """
                UPDATE effects SET state = 'pending', next_at = 0, attempts = 0, updated = ?, status = NULL,
                error_code = NULL, message = NULL WHERE state = 'dead' AND seq = ?
                """)
            for letter in dead {
                let newer =
                    scanned.contains(letter.id)
                    ? since.found[letter.decisionID] ?? first.found[letter.decisionID]
                    : again.found[letter.decisionID]
                if let newer {
                    report.superseded.append(OutboxRetry.Superseded(id: letter.id, by: newer))
                } else {
                    try update.run([.real(now), .integer(letter.id)])
                    if connection.changes > 0 { report.queued.append(letter.id) }
                }
            }
            return report
        }
    }

    /// The dead letters with `ids` (every one, oldest first, when nil), and the ids given that are not dead letters
    /// or not in the outbox.
    private func deadLetters(ids: [Int]?) throws(OutboxError) -> (
        OutboxRetry, dead: [(id: Int, decisionID: String, userID: String)]
    ) {
        guard let ids else {
            let dead = try connection.prepare(
                "SELECT seq, decision_id, user_id FROM effects WHERE state = 'dead' ORDER BY seq"
            ).rows { (id: $0.integer(0), decisionID: $0.text(1) ?? "", userID: $0.text(2) ?? "") }
            return (OutboxRetry(), dead)
        }
        var report = OutboxRetry()
        var dead: [(id: Int, decisionID: String, userID: String)] = []
        let select = try connection.prepare("SELECT state, decision_id, user_id FROM effects WHERE seq = ?")
        for id in ids {
            guard
                let (state, decisionID, userID) = try select.rows(
                    [.integer(id)], { ($0.text(0) ?? "", $0.text(1) ?? "", $0.text(2) ?? "") }
                ).first
            else {
                if !report.missing.contains(id) { report.missing.append(id) }
                continue
            }
            if state != "dead" {
                if !report.notDead.contains(where: { $0.id == id }) {
                    report.notDead.append(OutboxRetry.NotDead(id: id, state: state))
                }
            } else if !dead.contains(where: { $0.id == id }) {
                dead.append((id, decisionID, userID))
            }
        }
        return (report, dead)
    }

    /// For each of `decisions` (a dead letter's decision id and user), the newest decision logged for the same user
    /// after it, when there is one: the decision that supersedes the dead letter. Also the newest rowid read, for
    /// a later call with `after` that reads only the decisions logged since (all of `decisions` being older).
    ///
    /// The tenant follows the user's newest login. A newer decision was planned against the roles its login
    /// showed, which the dead letter had not changed, and queued what it wanted itself; retrying the older change
    /// would undo it (a blocked user given back the roles the block took away). So a dead letter is superseded by
    /// any decision for its user logged after its own, whether or not that decision queued a change of its role.
    /// A replayed request (logged, nothing queued) counts as well: it can only make retry skip more.
    ///
    /// The log's rowid order is commit order, so this reads `decisions` backwards from the newest and stops at the
    /// oldest decision asked about: cheap for recent dead letters, and never a lookup the log needs an index for
    /// (it has none, to keep commits cheap). A decision no longer in the log was pruned, and retention prunes
    /// from the oldest, so every decision of its user still logged is newer.
    func supersedingDecisions(of decisions: [(decisionID: String, userID: String)], after: Int = 0)
        throws(OutboxError) -> (found: [String: String], through: Int)
    {
        guard !decisions.isEmpty else { return ([:], after) }
        var wanted: [String: ExactString] = [:]
        for (decision, user) in decisions { wanted[decision] = ExactString(user) }
        let users = Set(wanted.values)
        var newest: [ExactString: String] = [:]
        var found: [String: String] = [:]
        var through: Int?
        let select = try connection.prepare(
            "SELECT id, user_id, rowid FROM decisions WHERE rowid > ? ORDER BY rowid DESC")
        try select.bind([.integer(after)])
        while !wanted.isEmpty, try select.step() {
            if through == nil { through = select.integer(2) }
            guard let user = select.text(1).map(ExactString.init), users.contains(user) else { continue }
            let id = select.text(0) ?? ""
            if wanted.removeValue(forKey: id) != nil, let newer = newest[user] { found[id] = newer }
            if newest[user] == nil { newest[user] = id }
        }
        // A dead letter whose decision is no longer logged is older than retention keeps, and so may be any newer
        // decision of its user: any decision of the user still logged is newer, and with none it is taken as
        // superseded all the same (``OutboxRetry/pruned``). Retrying it could undo a login nobody can see any more;
        // leaving it, the user's next login plans again. Only a read of the whole log can tell (`after` is 0).
        for (decision, user) in wanted {
            if let newer = newest[user] {
                found[decision] = newer
            } else if after == 0 {
                found[decision] = OutboxRetry.pruned
            }
        }
        return (found, through ?? after)
    }

    /// Deletes effects in `states` last changed before `before`. Returns how many.
    func purge(states: [String], before: Double) throws(OutboxError) -> Int {
        try connection.immediateTransaction { () throws(OutboxError) in
            try connection.prepare(
                "DELETE FROM effects WHERE state IN (\(states.map { _ in "?" }.joined(separator: ", "))) AND updated < ?"
            ).run(states.map { .text($0) } + [.real(before)])
            return connection.changes
        }
    }

    /// Calls `body` with each logged decision, oldest first: its id, time, evaluation clock (nil for decisions
    /// logged before schema 2) and event (nil when events were not logged).
    func forEachDecision(_ body: (String, Double, Double?, [UInt8]?) -> Void) throws(OutboxError) {
        let select = try connection.prepare("SELECT id, time, clock, event FROM decisions ORDER BY rowid")
        try select.bind([])
        while try select.step() {
            body(select.text(0) ?? "", select.real(1) ?? 0, select.real(2), select.blob(3))
        }
    }
}

/// What `rules outbox retry` did: the dead letters queued again, those skipped as superseded, and, when ids were
/// given, those that were not dead letters or not in the outbox (then nothing was queued).
public struct OutboxRetry: Sendable, Equatable {
    /// A dead letter left alone because a newer decision for its user was logged since.
    public struct Superseded: Sendable, Equatable {
        /// The dead letter's id.
        public var id: Int
        /// The newest decision for the same user.
        public var by: String
    }

    /// An id given that names an effect that is not a dead letter.
    public struct NotDead: Sendable, Equatable {
        /// The effect's id.
        public var id: Int
        /// Its state: `pending`, `running`, `done` or `coalesced`.
        public var state: String
    }

    /// What ``Superseded/by`` holds for a dead letter whose own decision retention has pruned from the decision
    /// log: a newer decision of its user may have been pruned too, so it is not retried (the user's next login
    /// plans again). Not a decision id (those start with `dec_`).
    public static let pruned = "pruned"

    /// The dead letters put back in the queue, due now.
    public var queued: [Int] = []
    /// The dead letters skipped: the tenant follows the newest login, and a newer one was decided since.
    public var superseded: [Superseded] = []
    /// Ids given that are not dead letters.
    public var notDead: [NotDead] = []
    /// Ids given that are not in the outbox (never made, or purged).
    public var missing: [Int] = []

    /// An empty report.
    public init() {}
}

/// One effect in the outbox, as `rules outbox list` shows it.
public struct OutboxEntry: Sendable, Equatable {
    /// The effect's number in the outbox (`rules outbox retry ID`).
    public var id: Int
    /// The decision that planned it.
    public var decisionID: String
    /// The user.
    public var userID: String
    /// The role name or id.
    public var role: String
    /// The rule that decided it.
    public var rule: String
    /// Assign (true) or revoke (false).
    public var assign: Bool
    /// `pending`, `running`, `done`, `dead` or `coalesced`.
    public var state: String
    /// Attempts made so far.
    public var attempts: Int
    /// When it was committed (Unix seconds).
    public var created: Double
    /// When its state last changed.
    public var updated: Double
    /// When it is due again, for a pending effect that failed before.
    public var nextAttempt: Double
    /// The HTTP status of a dead letter.
    public var status: Int?
    /// Auth0's `errorCode` of a dead letter.
    public var errorCode: String?
    /// The last problem, or what superseded it.
    public var message: String?
    /// For a dead letter, the newer decision for the same user that supersedes it: `rules outbox retry` skips it,
    /// since the tenant follows the newest login.
    public var supersededBy: String?

    /// The entry as one line of `rules outbox list`: values from events and servers quoted unless plain words and
    /// escaped (``HumanText``), so none can forge a line; the role as `shown` shows it among the other entries
    /// listed (``Spellings``), so two that print alike (`caf\u{e9}`, `cafe\u{301}`) read apart.
    public func text(showing shown: Spellings) -> String {
        let what =
            assign
            ? "assign \(shown.word(role)) to \(HumanText.word(userID))"
            : "revoke \(shown.word(role)) from \(HumanText.word(userID))"
        var line = "\(id)\t\(state)\t\(what) (rule \(HumanText.quoted(rule)))"
        line += ", \(attempts) attempt\(attempts == 1 ? "" : "s"), \(decisionID)"
        if let status { line += ": \(status) \(HumanText.word(errorCode ?? "error"))" }
        if let message { line += (status == nil ? ": " : " ") + HumanText.line(message) }
        if supersededBy == OutboxRetry.pruned {
            line += "; its decision was pruned from the decision log (newer ones may have been too), not retried"
        } else if let supersededBy {
            line += "; superseded by the newer decision \(supersededBy), not retried"
        }
        return line
    }
}
