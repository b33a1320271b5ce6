import Foundation
import Logging
import RolecallEffects
import RolecallEngine
import RolecallLanguage
import RolecallSandbox
import Testing

@testable import RolecallOutbox

/// A fresh outbox file in a temporary directory, removed afterwards.
final class TemporaryOutbox {
    let directory: String
    var path: String { directory + "/outbox.db" }

    init() throws {
        directory = NSTemporaryDirectory() + "rolecall-outbox-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

/// A sandbox tenant and a worker factory pointed at it.
final class Tenant {
    let sandbox: Sandbox
    let tenant: TenantConfiguration

    init(_ configure: (inout Sandbox.Configuration) -> Void = { _ in }) throws {
        var configuration = Sandbox.Configuration.seeded()
        configure(&configuration)
        sandbox = Sandbox(configuration)
        let port = try sandbox.start()
        tenant = TenantConfiguration(
            domain: configuration.domain, clientID: configuration.clientID, clientSecret: configuration.clientSecret,
            baseURL: "http://127.0.0.1:\(port)")
    }

    deinit { sandbox.shutdown() }

    func worker(_ outbox: Outbox, policy: RetryPolicy = RetryPolicy()) -> OutboxWorker {
        let tenant = self.tenant
        return OutboxWorker(outbox: outbox) { hooks in
            EffectRunner(
                client: ManagementClient(
                    configuration: tenant, limiter: RateLimiter(rate: 1000), policy: policy, deadline: hooks.deadline,
                    clock: hooks.clock, sleep: hooks.sleep))
        }
    }

    /// The id of the seeded role `name`.
    func id(_ name: String) -> String { sandbox.configuration.roles.first { $0.name == name }?.id ?? "?" }

    /// POST and DELETE calls on users' roles so far.
    var roleCalls: Int { sandbox.log.filter { $0.path.hasSuffix("/roles") && $0.path.contains("/users/") }.count }
}

/// A decision record assigning and revoking roles for `user`, planned against `held`.
func record(user: String, assign: [String] = [], revoke: [String] = [], held: [String] = []) throws -> DecisionRecord {
    var decision = Decision(assign: assign, revoke: revoke, roles: [], matched: ["r"], errors: [])
    for role in assign + revoke { decision.decidedBy[ExactString(role)] = "rule for \(role)" }
    decision.userID = user
    decision.currentRoles = held
    let id = DecisionID.make()
    return DecisionRecord(
        id: id, time: wallClock(), userID: user, decision: decision.json, ruleSetHash: "test", latencyMicroseconds: 1,
        plan: try UserPlan.make(decision), roles: Array(Set(held).union(assign).subtracting(revoke)))
}

/// Polls `condition` for up to `seconds`.
func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = wallClock() + seconds
    while wallClock() < end {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}

@Suite struct OutboxTests {
    @Test func decisionIDsSortByTimeAndDoNotRepeat() {
        let ids = (0..<1000).map { DecisionID.make(time: 1_700_000_000 + Double($0) / 1000) }
        #expect(Set(ids).count == 1000)
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { $0.hasPrefix("dec_") && $0.count == 30 })
        // The time is in the first 10 digits: 1700000000000 ms.
        #expect(DecisionID.make(time: 0).dropFirst(4).prefix(10) == "0000000000")
        #expect(DecisionID.make(time: 1_700_000_000).dropFirst(4).prefix(10) == "01HF7YAT00")
    }

    @Test func aCommittedDecisionIsCarriedOutOnce() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Tenant()
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|1", assign: ["member", "staff"]))
        #expect(try outbox.status().pending == 2)
        let worker = tenant.worker(outbox)
        worker.start()
        #expect(try eventually { try outbox.status().done == 2 })
        worker.stop()
        outbox.close()
        #expect(Set(tenant.sandbox.roles(ofUser: "auth0|1")) == [tenant.id("member"), tenant.id("staff")])
        #expect(tenant.roleCalls == 1, "both assigns of one user go in one call")
        #expect(try OutboxFile(path: file.path).status().decisions == 1)
    }

    @Test func concurrentCommitsShareTransactionsAndAllLand() async throws {
        let file = try TemporaryOutbox()
        let outbox = try Outbox(path: file.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                group.addTask { try await outbox.commit(try record(user: "auth0|\(index)", assign: ["member"])) }
            }
            try await group.waitForAll()
        }
        let status = try outbox.status()
        #expect(status.pending == 500)
        #expect(status.decisions == 500)
        outbox.close()
    }

    @Test func anAssignThenARevokeBeforeEitherRanCostsNoCall() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Tenant()
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|2", assign: ["admin"]))
        // The second login's token does not show admin yet, so the planner skips the revoke as "not held".
        try await outbox.commit(try record(user: "auth0|2", revoke: ["admin"]))
        let status = try outbox.status()
        #expect(status.pending == 0)
        #expect(status.coalesced == 1)
        let worker = tenant.worker(outbox)
        worker.start()
        usleep(300_000)
        worker.stop()
        outbox.close()
        #expect(tenant.roleCalls == 0)
        #expect(tenant.sandbox.roles(ofUser: "auth0|2").isEmpty)
    }

    @Test func twoLoginsAssigningTheSameRoleCostOneCall() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Tenant()
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|3", assign: ["member"]))
        try await outbox.commit(try record(user: "auth0|3", assign: ["member"]))
        #expect(try outbox.status().pending == 1)
        let worker = tenant.worker(outbox)
        worker.start()
        #expect(try eventually { try outbox.status().done == 1 })
        worker.stop()
        outbox.close()
        #expect(tenant.roleCalls == 1)
    }

    @Test func aFailingTenantDelaysButLosesNothing() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Tenant { $0.faults.serverErrors = 1_000_000 }
        let outbox = try Outbox(path: file.path)
        for index in 0..<5 { try await outbox.commit(try record(user: "auth0|f\(index)", assign: ["member"])) }
        var policy = RetryPolicy()
        policy.maxAttempts = 2
        policy.baseBackoff = 0.01
        let worker = tenant.worker(outbox, policy: policy)
        worker.start()
        // Every attempt fails: the effects go back to the queue with a backoff, none is dead.
        #expect(
            try eventually { try OutboxFile(path: file.path).list(states: ["pending"]).contains { $0.attempts > 0 } })
        #expect(try outbox.status().dead == 0)
        tenant.sandbox.inject { $0.serverErrors = 0 }
        // The first backoff is about a second.
        #expect(try eventually(15) { try outbox.status().done == 5 })
        worker.stop()
        outbox.close()
        for index in 0..<5 { #expect(tenant.sandbox.changes["auth0|f\(index)|\(tenant.id("member"))|assign"] == 1) }
    }

    @Test func stoppingCutsARetryWaitShortAndLeavesTheEffectQueued() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Tenant { $0.faults.serverErrors = 1_000_000 }
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|s", assign: ["member"]))
        let worker = tenant.worker(outbox, policy: OutboxWorker.retryPolicy)
        worker.start()
        #expect(eventually { tenant.sandbox.log.contains { $0.status == 503 } })
        // The client now waits about half a second before its next attempt; the stop must not wait it out.
        let start = wallClock()
        worker.stop()
        #expect(wallClock() - start < 0.4)
        let entries = try OutboxFile(path: file.path).list()
        #expect(entries.map(\.state) == ["pending"])
        #expect(entries.map(\.attempts) == [0], "a round cut short by the stop is not an attempt")
        #expect(entries.first?.nextAttempt == 0)
        outbox.close()
    }

    @Test func aPermanentRefusalBecomesADeadLetterThatCanBeRetried() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Tenant { $0.missingUsers = ["auth0|gone"] }
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|gone", assign: ["member"]))
        try await outbox.commit(try record(user: "auth0|4", assign: ["nosuchrole"]))
        let worker = tenant.worker(outbox)
        worker.start()
        #expect(try eventually { try outbox.status().dead == 2 })
        let dead = try OutboxFile(path: file.path).list(states: ["dead"])
        #expect(dead.map(\.errorCode) == ["inexistent_user", "unknown_role"])
        #expect(dead.map(\.status) == [404, 404])
        #expect(dead[0].message?.isEmpty == false)
        // The operator retries one of them: it is tried again at once (and refused again).
        let calls = tenant.sandbox.log.filter { $0.path.contains("auth0%7Cgone") }.count
        let admin = try OutboxFile(path: file.path)
        #expect(try admin.retry(ids: [dead[0].id]).queued == [dead[0].id])
        #expect(try admin.status().dead == 1)
        let again = try admin.retry(ids: [dead[0].id])
        #expect(again.queued.isEmpty, "only dead letters are retried")
        #expect(again.notDead.map(\.id) == [dead[0].id])
        worker.wake()
        #expect(try eventually { tenant.sandbox.log.filter { $0.path.contains("auth0%7Cgone") }.count > calls })
        #expect(try eventually { try outbox.status().dead == 2 })
        worker.stop()
        outbox.close()
    }

    /// The attack: a refused login's assigns become dead letters; once the API is fixed the same user logs in
    /// blocked (no roles, nothing to queue: the tenant never held them); `retry --all` must not give the blocked
    /// user the roles back. The newest login is what the tenant follows, so the older dead letters are superseded
    /// and stay dead; another user's dead letter, with no newer login, is queued again and carried out.
    @Test func retrySkipsDeadLettersANewerDecisionForTheUserSuperseded() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Tenant { $0.faults.badRequests = 1_000_000 }
        let outbox = try Outbox(path: file.path)
        let refused = try record(user: "auth0|stale", assign: ["admin", "staff"])
        try await outbox.commit(refused)
        try await outbox.commit(try record(user: "auth0|kept", assign: ["member"]))
        let worker = tenant.worker(outbox)
        worker.start()
        #expect(try eventually { try outbox.status().dead == 3 })
        tenant.sandbox.inject { $0.badRequests = 0 }
        let blocked = try record(user: "auth0|stale")
        try await outbox.commit(blocked)
        #expect(blocked.roles.isEmpty && blocked.plan?.assign.isEmpty == true)

        let admin = try OutboxFile(path: file.path)
        let dead = try admin.list(states: ["dead"])
        let stale = dead.filter { $0.userID == "auth0|stale" }.map(\.id)
        let kept = dead.filter { $0.userID == "auth0|kept" }.map(\.id)
        #expect(stale.count == 2 && kept.count == 1)
        #expect(dead.map(\.supersededBy) == dead.map { $0.userID == "auth0|stale" ? blocked.id : nil })
        #expect(dead.first { $0.userID == "auth0|stale" }?.text(showing: Spellings([])).contains(blocked.id) == true)

        // A typo among the ids queues nothing, not even the good ones, and says which id was wrong.
        let typo = try admin.retry(ids: kept + [999_999_999])
        #expect(typo.missing == [999_999_999] && typo.queued.isEmpty)
        #expect(try admin.status().dead == 3)

        let report = try admin.retry(ids: nil)
        #expect(report.queued == kept)
        #expect(report.superseded == stale.map { OutboxRetry.Superseded(id: $0, by: blocked.id) })
        worker.wake()
        #expect(try eventually { try outbox.status().done == 1 })
        #expect(tenant.sandbox.roles(ofUser: "auth0|kept") == [tenant.id("member")])
        #expect(tenant.sandbox.roles(ofUser: "auth0|stale").isEmpty, "the blocked user got roles back")
        #expect(try admin.status().dead == 2, "superseded dead letters stay until purged")
        // Named one by one they are skipped too; the effect now done is not a dead letter.
        #expect(try admin.retry(ids: [stale[0]]).superseded.map(\.id) == [stale[0]])
        #expect(try admin.retry(ids: kept).notDead == [OutboxRetry.NotDead(id: kept[0], state: "done")])
        worker.stop()
        outbox.close()
    }

    /// A dead letter whose decision retention pruned is older than every decision still logged: a decision of its
    /// user still logged supersedes it; with none, it is queued again.
    @Test func aDeadLetterWhoseDecisionWasPrunedIsSupersededByAnyLoggedDecisionOfItsUser() throws {
        let file = try TemporaryOutbox()
        let store = try OutboxStore(path: file.path, create: true)
        let newer = try record(user: "auth0|p1")
        for logged in [
            try record(user: "auth0|p1", assign: ["member"]), try record(user: "auth0|p2", assign: ["member"]), newer,
        ] {
            try store.connection.immediateTransaction { () throws(OutboxError) in try store.insert(logged) }
        }
        let effects = try store.list(states: [], limit: 10)
        try store.settle(
            effects.map { (seq: $0.id, .dead(status: 400, errorCode: "invalid_body", message: "no")) }, now: 0)
        var options = Outbox.Options()
        options.maxLoggedDecisions = 1
        #expect(try store.enforceRetention(options, now: wallClock()) == 2)
        let report = try store.retry(ids: nil, now: wallClock())
        // p2 has no decision left in the log: its dead letter is older than retention keeps, and so may be a newer
        // decision (a block): not retried either (found by an attack: retry --all gave a user blocked more than
        // --log-retention-days ago the roles back).
        #expect(
            report.superseded == [
                OutboxRetry.Superseded(id: effects[0].id, by: newer.id),
                OutboxRetry.Superseded(id: effects[1].id, by: "pruned"),
            ])
        #expect(report.queued.isEmpty)
        #expect(try store.list(states: ["dead"], limit: 10).map(\.supersededBy) == [newer.id, "pruned"])
        // The read under the write lock takes only the decisions logged after the first read, and finds them.
        let first = try store.supersedingDecisions(of: [(effects[1].decisionID, "auth0|p2")])
        #expect(first.found == [effects[1].decisionID: "pruned"])
        let later = try record(user: "auth0|p2")
        try store.connection.immediateTransaction { () throws(OutboxError) in try store.insert(later) }
        let since = try store.supersedingDecisions(of: [(effects[1].decisionID, "auth0|p2")], after: first.through)
        #expect(since.found == [effects[1].decisionID: later.id] && since.through == first.through + 1)
    }

    @Test func effectsInterruptedByACrashAreQueuedAgain() async throws {
        let file = try TemporaryOutbox()
        do {
            let outbox = try Outbox(path: file.path)
            try await outbox.commit(try record(user: "auth0|5", assign: ["member"]))
            outbox.close()
        }
        // A crash mid-call leaves the effect `running`.
        try Self.markRunning(file.path)
        #expect(try OutboxFile(path: file.path).status().running == 1)
        let tenant = try Tenant()
        let outbox = try Outbox(path: file.path)
        #expect(try outbox.status().running == 0)
        let worker = tenant.worker(outbox)
        worker.start()
        #expect(try eventually { try outbox.status().done == 1 })
        worker.stop()
        outbox.close()
    }

    /// Marks every effect `running`, as the worker does while it calls Auth0 (or a crash leaves them).
    static func markRunning(_ path: String) throws {
        try OutboxStore(path: path, create: false).connection.execute("UPDATE effects SET state = 'running'")
    }

    @Test func aChangeBeingMadeIsNotQueuedAgainButItsOppositeIs() async throws {
        let file = try TemporaryOutbox()
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|6", assign: ["admin"]))
        try Self.markRunning(file.path)
        #expect(try outbox.status().running == 1)
        // The same assign again: the running call makes it.
        try await outbox.commit(try record(user: "auth0|6", assign: ["admin"]))
        #expect(try outbox.status().pending == 1)
        // A revoke the planner skips (the login does not show admin yet) must still run after the assign.
        try await outbox.commit(try record(user: "auth0|6", revoke: ["admin"]))
        let entries = try OutboxFile(path: file.path).list(states: ["pending"])
        #expect(entries.map(\.assign) == [false])
        #expect(try outbox.status().pending == 2)
        outbox.close()
        outbox.close()
    }

    /// Found by an attack: a revoke queued by one login, then a login whose decision no longer mentions the role
    /// (its token keeps it) must not leave the tenant without it.
    @Test func theNewestDecisionSupersedesEveryPendingEffectOfItsUser() async throws {
        let file = try TemporaryOutbox()
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|7", revoke: ["member", "staff"], held: ["member", "staff"]))
        #expect(try outbox.status().pending == 2)
        // The next login is not blocked: nothing to change, and the token keeps member and staff.
        try await outbox.commit(try record(user: "auth0|7", held: ["member", "staff"]))
        let status = try outbox.status()
        #expect(status.pending == 0)
        #expect(status.coalesced == 2)
        outbox.close()
    }

    @Test func aCallBeingMadeThatTheNewestDecisionUndoesIsFollowedByItsOpposite() async throws {
        let file = try TemporaryOutbox()
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|8", revoke: ["member"], held: ["member"]))
        try Self.markRunning(file.path)
        // The login after shows member still held (the revoke is under way) and decides nothing about it.
        try await outbox.commit(try record(user: "auth0|8", held: ["member"]))
        let pending = try OutboxFile(path: file.path).list(states: ["pending"])
        #expect(pending.map(\.role) == ["member"])
        #expect(pending.map(\.assign) == [true], "member is assigned again after the revoke")
        outbox.close()
    }

    /// Found by the second attack: a revoke whose round failed went back to the queue beside the assign a later
    /// decision queued to undo it, and the worker made both, assign first.
    @Test func onlyTheNewestChangeOfARoleIsMade() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Tenant()
        tenant.sandbox.setRoles([tenant.id("member")], ofUser: "auth0|10")
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|10", revoke: ["member"], held: ["member"]))
        try Self.markRunning(file.path)
        try await outbox.commit(try record(user: "auth0|10", held: ["member"]))
        // The revoke's round fails: it is pending again, older than the assign.
        try OutboxStore(path: file.path, create: false).connection.execute(
            "UPDATE effects SET state = 'pending' WHERE state = 'running'")
        let worker = tenant.worker(outbox)
        worker.start()
        #expect(try eventually { try outbox.status().pending == 0 })
        worker.stop()
        outbox.close()
        #expect(tenant.sandbox.roles(ofUser: "auth0|10") == [tenant.id("member")])
        #expect(!tenant.sandbox.log.contains { $0.method == "DELETE" }, "the superseded revoke is never sent")
    }

    /// Found by the second attack: Auth0 builds the event when the login starts, so a change finished in
    /// between is not in it; the tenant must still end up with the roles the answer gave the token.
    @Test func aChangeFinishedAfterTheLoginBeganIsUndoneWhenTheDecisionSaysSo() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Tenant()
        tenant.sandbox.setRoles([tenant.id("member")], ofUser: "auth0|11")
        let outbox = try Outbox(path: file.path)
        let worker = tenant.worker(outbox)
        worker.start()
        try await outbox.commit(try record(user: "auth0|11", revoke: ["member"], held: ["member"]))
        #expect(try eventually { try outbox.status().done == 1 })
        #expect(tenant.sandbox.roles(ofUser: "auth0|11").isEmpty)
        // A login whose event was built before the revoke ended: it shows member, and nothing revokes it now.
        try await outbox.commit(try record(user: "auth0|11", held: ["member"]))
        #expect(try eventually { try outbox.status().done == 2 })
        worker.stop()
        outbox.close()
        #expect(tenant.sandbox.roles(ofUser: "auth0|11") == [tenant.id("member")])
    }

    @Test func aRemovedWriteAheadLogRefusesCommits() async throws {
        let file = try TemporaryOutbox()
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|12", assign: ["member"]))
        try FileManager.default.removeItem(atPath: file.path + "-wal")
        #expect(!outbox.isWritable)
        await #expect(throws: OutboxError.self) { try await outbox.commit(try record(user: "auth0|12")) }
        outbox.close()
    }

    @Test func aRemovedOutboxFileRefusesCommitsAndIsNotReady() async throws {
        let file = try TemporaryOutbox()
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(try record(user: "auth0|9", assign: ["member"]))
        #expect(outbox.isWritable)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file.path + suffix) }
        #expect(!outbox.isWritable)
        await #expect(throws: OutboxError.self) { try await outbox.commit(try record(user: "auth0|9")) }
        outbox.close()
    }

    @Test func oneServerPerFile() throws {
        let file = try TemporaryOutbox()
        let outbox = try Outbox(path: file.path)
        #expect(throws: OutboxError.self) { try Outbox(path: file.path) }
        outbox.close()
        let again = try Outbox(path: file.path)
        again.close()
    }

    @Test func notAnOutbox() throws {
        let file = try TemporaryOutbox()
        #expect(throws: OutboxError.self) { try OutboxFile(path: file.path) }
        FileManager.default.createFile(atPath: file.path, contents: Data("not a database at all".utf8))
        let error = #expect(throws: OutboxError.self) { try OutboxFile(path: file.path) }
        #expect(error?.message.contains("not a database") == true, "\(String(describing: error))")
    }

    @Test func loggedEventsAreExportedInOrder() async throws {
        let file = try TemporaryOutbox()
        let outbox = try Outbox(path: file.path)
        for index in 0..<3 {
            var entry = try record(user: "auth0|\(index)")
            entry.time = 1_000 + Double(index)
            entry.clock = 1_796_030_100.25 + Double(index)
            entry.event = index == 1 ? nil : Array("{\"n\":\(index)}".utf8)
            try await outbox.commit(entry)
        }
        outbox.close()
        var lines: [String] = []
        let missing = try OutboxFile(path: file.path).exportEvents { lines.append(String(decoding: $0, as: UTF8.self)) }
        // Each with the clock it was decided with, first, for `rules eval --events`.
        #expect(
            lines == [
                "{\"rolecall_now\":\"2026-11-30T09:15:00.250Z\",\"n\":0}",
                "{\"rolecall_now\":\"2026-11-30T09:15:02.250Z\",\"n\":2}",
            ])
        #expect(missing == 1)
    }

    /// The decision log of schema 1 had no clock: opening such a file adds the column, keeps every row, and
    /// exports the old decisions with their time as the clock.
    @Test func anOutboxOfSchemaOneIsMigrated() async throws {
        let file = try TemporaryOutbox()
        do {
            // The schema as version 1 created it, with one logged decision and one pending effect.
            let old = try SQLiteConnection(path: file.path, create: true)
            try old.execute(
                """
                CREATE TABLE decisions(
                  id TEXT NOT NULL, time REAL NOT NULL, user_id TEXT, decision TEXT NOT NULL,
                  ruleset TEXT NOT NULL, latency_us INTEGER NOT NULL, event BLOB);
                CREATE TABLE effects(
                  seq INTEGER PRIMARY KEY AUTOINCREMENT, decision_id TEXT NOT NULL, user_id TEXT NOT NULL,
                  role TEXT NOT NULL, rule TEXT NOT NULL, assign INTEGER NOT NULL, state TEXT NOT NULL,
                  attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL DEFAULT 0, created REAL NOT NULL,
                  updated REAL NOT NULL, status INTEGER, error_code TEXT, message TEXT);
                CREATE INDEX effects_open ON effects(seq) WHERE state IN ('pending', 'running');
                CREATE INDEX effects_open_by_user ON effects(user_id) WHERE state IN ('pending', 'running');
                CREATE INDEX effects_dead ON effects(seq) WHERE state = 'dead';
                CREATE INDEX effects_done_by_user ON effects(user_id, updated) WHERE state = 'done';
                INSERT INTO decisions VALUES('01OLD', 1796030100.5, 'auth0|old', '{}', 'h', 7, CAST('{ }' AS BLOB));
                INSERT INTO effects(decision_id, user_id, role, rule, assign, state, created, updated)
                  VALUES('01OLD', 'auth0|old', 'member', 'r', 1, 'pending', 1, 1);
                PRAGMA user_version = 1;
                """)
        }
        let status = try OutboxFile(path: file.path).status()
        #expect(status.decisions == 1)
        #expect(status.pending == 1)
        // An operator's command brings it up to what it reads (schema 2) and no further: a server of schema 2 may
        // be running on it, and schema 3 would refuse that server's next start.
        let check = try SQLiteConnection(path: file.path, create: false)
        #expect(try check.prepare("PRAGMA user_version").rows { $0.integer(0) } == [2])
        #expect(try check.prepare("SELECT clock FROM decisions").rows { $0.real(0) } == [nil])
        #expect(try OutboxFile(path: file.path).list().count == 1)
        #expect(try OutboxFile(path: file.path).retry(ids: nil).queued.isEmpty)
        #expect(try check.prepare("PRAGMA user_version").rows { $0.integer(0) } == [2])

        // New decisions record their clock next to the old ones; the server brings the file up to schema 3.
        let outbox = try Outbox(path: file.path)
        #expect(try check.prepare("PRAGMA user_version").rows { $0.integer(0) } == [3])
        #expect(try check.prepare("SELECT COUNT(*) FROM signatures").rows { $0.integer(0) } == [0])
        var entry = try record(user: "auth0|new")
        entry.clock = 1_796_030_200
        entry.event = Array(#"{"user":{"user_id":"auth0|new"}}"#.utf8)
        try await outbox.commit(entry)
        outbox.close()
        var lines: [String] = []
        _ = try OutboxFile(path: file.path).exportEvents { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(
            lines == [
                #"{"rolecall_now":"2026-11-30T09:15:00.500Z" }"#,
                #"{"rolecall_now":"2026-11-30T09:16:40.000Z","user":{"user_id":"auth0|new"}}"#,
            ])
    }

    @Test func anOutboxOfANewerSchemaIsRefused() throws {
        let file = try TemporaryOutbox()
        do {
            let newer = try SQLiteConnection(path: file.path, create: true)
            try newer.execute("CREATE TABLE decisions(id TEXT); PRAGMA user_version = 9")
        }
        let error = #expect(throws: OutboxError.self) { try OutboxFile(path: file.path) }
        #expect(error?.message.hasSuffix("is an outbox of schema 9; this build reads schema 3") == true)
    }

    /// A signed request's signature is recorded with its decision and read back when the outbox is opened again,
    /// so the same request after a restart queues nothing; expired signatures are deleted.
    @Test func aCommittedSignatureIsRememberedAcrossARestart() async throws {
        let file = try TemporaryOutbox()
        let signature = RequestSignature(bytes: Array(repeating: 7, count: 32), expires: wallClock() + 300)
        do {
            let outbox = try Outbox(path: file.path)
            var first = try record(user: "auth0|signed", assign: ["staff"])
            first.signature = signature
            try await outbox.commit(first)
            var expired = try record(user: "auth0|expired", assign: ["staff"])
            expired.signature = RequestSignature(bytes: Array(repeating: 9, count: 32), expires: wallClock() - 1)
            try await outbox.commit(expired)
            outbox.close()
        }
        let outbox = try Outbox(path: file.path)
        var again = try record(user: "auth0|signed", assign: ["staff"])
        again.signature = signature
        try await outbox.commit(again)
        outbox.close()
        let entries = try OutboxFile(path: file.path).list()
        #expect(entries.count == 2)
        #expect(!entries.contains { $0.decisionID == again.id }, "\(entries)")
        #expect(try OutboxFile(path: file.path).status().decisions == 3)
        let check = try SQLiteConnection(path: file.path, create: false)
        #expect(try check.prepare("SELECT COUNT(*) FROM signatures").rows { $0.integer(0) } == [1])
    }

    /// Identical signed records queued while the writer is busy share one transaction: the first queues its
    /// effects, the others are logged without (a signature counts within its transaction too).
    @Test func identicalSignedRecordsCommittedTogetherQueueTheirEffectsOnce() async throws {
        let file = try TemporaryOutbox()
        let outbox = try Outbox(path: file.path)
        let signature = RequestSignature(bytes: Array(repeating: 5, count: 32), expires: wallClock() + 300)
        // The first commit keeps the writer busy (an fsync) while the identical ones queue behind it.
        var records = [try record(user: "auth0|other", assign: ["staff"])]
        for _ in 0..<8 {
            var same = try record(user: "auth0|same", assign: ["staff"])
            same.signature = signature
            records.append(same)
        }
        let group = DispatchGroup()
        for entry in records {
            group.enter()
            outbox.commit(entry) { _ in group.leave() }
        }
        await withCheckedContinuation { continuation in group.notify(queue: .global()) { continuation.resume() } }
        outbox.close()
        let entries = try OutboxFile(path: file.path).list().filter { $0.userID == "auth0|same" }
        #expect(entries.map(\.decisionID) == [records[1].id], "\(entries)")
        #expect(try OutboxFile(path: file.path).status().decisions == 9)
    }
}
