import RolecallEffects
import RolecallEngine
import RolecallLanguage
import Testing

@testable import RolecallOutbox

/// Role names are their bytes: `"caf\u{E9}"` and `"cafe\u{301}"` are two roles on the tenant, each with its own
/// id, though Swift's `String` finds the names equal. The outbox queues, claims and settles each on its own.
@Suite struct OutboxRoleSpellingTests {
    static let nfc = "caf\u{E9}"
    static let nfd = "cafe\u{301}"

    /// A tenant that has both spellings, with ids that say which is which.
    static func tenant() throws -> Tenant {
        try Tenant { $0.roles += [("rol_nfc", nfc), ("rol_nfd", nfd)] }
    }

    /// The record of what `rules` decide for a login of `user` holding `held`, as `rules serve` commits it.
    static func decided(_ rules: String, user: String, held: [String] = []) throws -> DecisionRecord {
        let evaluator = Evaluator(program: try RuleEngine.compile(source: rules))
        let roles = "[" + held.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let decision = try evaluator.evaluate(
            Array(#"{"user":{"user_id":"\#(user)"},"authorization":{"roles":\#(roles)}}"#.utf8))
        return DecisionRecord(
            id: DecisionID.make(), time: wallClock(), userID: user, decision: decision.json, ruleSetHash: "test",
            latencyMicroseconds: 1, plan: try UserPlan.make(decision), roles: decision.roles)
    }

    /// Two effects of one user on the two spellings are two effects: neither supersedes the other when claimed,
    /// and each is settled by its own outcome.
    @Test func bothSpellingsAreAssignedEachItsOwnRole() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Self.tenant()
        let outbox = try Outbox(path: file.path)
        try await outbox.commit(
            try Self.decided(
                "rule \"nfc\" assign \"\(Self.nfc)\"\nrule \"nfd\" assign \"\(Self.nfd)\"", user: "auth0|1"))
        #expect(try outbox.status().pending == 2)
        let worker = tenant.worker(outbox)
        worker.start()
        #expect(try eventually { try outbox.status().pending == 0 })
        worker.stop()
        #expect(try outbox.status().done == 2)
        #expect(try outbox.status().coalesced == 0)
        outbox.close()
        #expect(Set(tenant.sandbox.roles(ofUser: "auth0|1")) == ["rol_nfc", "rol_nfd"])
    }

    /// What the outbox did recently to one spelling says nothing of the other: an assign of the other spelling
    /// is still queued, and the recent change is undone when the newest decision's roles lack it.
    @Test func aRecentChangeOfOneSpellingIsNotAChangeOfTheOther() async throws {
        let file = try TemporaryOutbox()
        let tenant = try Self.tenant()
        let outbox = try Outbox(path: file.path)
        let worker = tenant.worker(outbox)
        worker.start()
        try await outbox.commit(try Self.decided("rule \"nfc\" assign \"\(Self.nfc)\"", user: "auth0|2"))
        #expect(try eventually { try outbox.status().done == 1 })
        #expect(tenant.sandbox.roles(ofUser: "auth0|2") == ["rol_nfc"])
        // A login whose event was built before that assign ended, under rules that now give the other spelling.
        try await outbox.commit(try Self.decided("rule \"nfd\" assign \"\(Self.nfd)\"", user: "auth0|2"))
        #expect(try eventually { try outbox.status().pending == 0 && outbox.status().done == 3 })
        worker.stop()
        outbox.close()
        #expect(tenant.sandbox.roles(ofUser: "auth0|2") == ["rol_nfd"])
    }
}

/// `rules outbox list` shows two entries whose roles print alike with their scalars written out.
@Suite struct OutboxListSpellingTests {
    static func entry(_ id: Int, _ role: String) -> OutboxEntry {
        OutboxEntry(
            id: id, decisionID: "d", userID: "u", role: role, rule: "r", assign: true, state: "pending", attempts: 0,
            created: 0, updated: 0, nextAttempt: 0, status: nil, errorCode: nil, message: nil)
    }

    @Test func rolesThatPrintAlikeAreListedApart() {
        let entries = [Self.entry(1, "caf\u{E9}"), Self.entry(2, "cafe\u{301}"), Self.entry(3, "x\u{202E}")]
        let shown = Spellings(entries.map(\.role))
        #expect(
            entries.map { $0.text(showing: shown) } == [
                "1\tpending\tassign \"caf\\u{e9}\" to u (rule \"r\"), 0 attempts, d",
                "2\tpending\tassign \"cafe\\u{301}\" to u (rule \"r\"), 0 attempts, d",
                "3\tpending\tassign \"x\\u{202e}\" to u (rule \"r\"), 0 attempts, d",
            ])
    }

    /// A dead letter's reason is Auth0's text (`errorCode` and message): `rules outbox list` shows it with every
    /// hidden scalar written out, on one line (the JSON listing keeps it exact).
    @Test func aDeadLettersReasonFromTheServerIsListedEscaped() {
        var entry = Self.entry(4, "admin")
        entry.state = "dead"
        entry.status = 400
        entry.errorCode = "bad\u{202E}code"
        entry.message = "no\r\ndone\t\u{1B}[2K\u{202E}x\u{2028}"
        #expect(
            entry.text(showing: Spellings([entry.role]))
                == "4\tdead\tassign admin to u (rule \"r\"), 0 attempts, d: "
                + #"400 "bad\u{202e}code" no\r\ndone\t\u{1b}[2K\u{202e}x\u{2028}"#)
    }
}
