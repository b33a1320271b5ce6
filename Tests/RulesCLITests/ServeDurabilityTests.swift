import Foundation
import RolecallSandbox
import Testing

/// `rules serve` with effects on, over real sockets, against a sandbox tenant in this process: what it acknowledged
/// is done exactly once, whatever happens to the server or the tenant.
@Suite(.serialized) struct ServeDurabilityTests {
    static let secret = "durability-test-secret"

    /// A login of `user` that the example rules give `staff` and `member`.
    static func event(_ user: String, held: [String] = []) -> Data {
        let roles = held.map { "\"\($0)\"" }.joined(separator: ",")
        return Data(
            """
            {"user":{"user_id":"\(user)","email":"\(user.dropFirst(6))@acme.com","email_verified":true,\
            "app_metadata":{}},"connection":{"name":"acme-okta"},"stats":{"logins_count":1},\
            "authorization":{"roles":[\(roles)]}}
            """.utf8)
    }

    /// The AUTH0_* settings that point `rules serve` at `sandbox`.
    static func tenant(_ sandbox: Sandbox, port: Int) -> [String: String] {
        let configuration = sandbox.configuration
        return [
            "AUTH0_DOMAIN": configuration.domain, "AUTH0_CLIENT_ID": configuration.clientID,
            "AUTH0_CLIENT_SECRET": configuration.clientSecret, "AUTH0_BASE_URL": "http://127.0.0.1:\(port)",
            "ROLECALL_SECRET": secret,
        ]
    }

    /// `rules outbox status --format json` as numbers.
    static func status(_ outbox: String) throws -> [String: Any] {
        let run = try CLITests.rules(["outbox", "status", "--outbox", outbox, "--format", "json"])
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
    }

    static func waitFor(_ seconds: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    /// The headers that sign `body` at `timestamp` with ``secret``, as the Action does, computed by `openssl`
    /// (not by the server's code).
    static func signed(_ body: Data, timestamp: Int) throws -> [String: String] {
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "dgst", "-sha256", "-hmac", secret, "-r"]
        let input = Pipe()
        let output = Pipe()
        openssl.standardInput = input
        openssl.standardOutput = output
        try openssl.run()
        input.fileHandleForWriting.write(Data("\(timestamp).".utf8) + body)
        try input.fileHandleForWriting.close()
        let digest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        openssl.waitUntilExit()
        let hex = digest.prefix { $0 != " " }
        guard openssl.terminationStatus == 0, hex.count == 64 else { throw ServeError("openssl failed: \(digest)") }
        return ["X-Rolecall-Timestamp": "\(timestamp)", "X-Rolecall-Signature": "v1=\(hex)"]
    }

    /// Found by the third attack: the signatures seen were only in the process, so after a restart (a `kill -9`
    /// here) a captured older login, replayed within its window, queued its role changes again and undid a
    /// newer login's at the tenant.
    @Test func aLoginReplayedAfterAKillChangesNoRole() throws {
        let sandbox = Sandbox(Sandbox.Configuration.seeded())
        defer { sandbox.shutdown() }
        let port = try sandbox.start()
        let environment = Self.tenant(sandbox, port: port)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rolecall-replay-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now = Int(Date().timeIntervalSince1970)
        let older = Self.event("auth0|replayed")
        let olderHeaders = try Self.signed(older, timestamp: now - 8)
        let newer = Data(
            String(decoding: Self.event("auth0|replayed", held: ["staff", "member"]), as: UTF8.self)
                .replacingOccurrences(of: "\"app_metadata\":{}", with: "\"app_metadata\":{\"blocked\":true}").utf8)

        var server = try ServeProcess(["rules/", "--rate", "1000"], environment: environment, directory: directory)
        #expect(server.post("/v1/decide", older, secret: nil, headers: olderHeaders).status == 200)
        #expect(try Self.waitFor { try Self.status(server.outbox)["done"] as? Int == 2 }, "\(server.text)")
        let blocked = server.post("/v1/decide", newer, secret: nil, headers: try Self.signed(newer, timestamp: now - 4))
        #expect(blocked.status == 200)
        #expect(try Self.waitFor { try Self.status(server.outbox)["done"] as? Int == 4 }, "\(server.text)")
        server.kill9()

        server = try ServeProcess(["rules/", "--rate", "1000"], environment: environment, directory: directory)
        let replay = server.post("/v1/decide", older, secret: nil, headers: olderHeaders)
        #expect(replay.status == 200, "answered, as a client's retry is")
        #expect(try Self.waitFor { try Self.status(server.outbox)["pending"] as? Int == 0 }, "\(server.text)")
        server.stop()
        let final = try Self.status(server.outbox)
        #expect(final["done"] as? Int == 4, "\(final)")
        #expect(final["decisions"] as? Int == 3)
        let ids = Dictionary(uniqueKeysWithValues: sandbox.configuration.roles.map { ($0.name, $0.id) })
        for role in ["staff", "member"] {
            #expect(sandbox.changes["auth0|replayed|\(ids[role] ?? "?")|assign"] == 1, "\(role) assigned once")
            #expect(sandbox.changes["auth0|replayed|\(ids[role] ?? "?")|revoke"] == 1, "\(role) revoked once")
        }
    }

    @Test func aKilledServerLosesNothingItAcknowledgedAndRepeatsNothing() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.faults.serverErrors = 1_000_000
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let port = try sandbox.start()
        let environment = Self.tenant(sandbox, port: port)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rolecall-durability-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // The tenant fails every call: the server acknowledges logins and queues their effects.
        var server = try ServeProcess(["rules/", "--rate", "1000"], environment: environment, directory: directory)
        let users = (0..<20).map { "auth0|k\($0)" }
        for user in users {
            let answer = server.post("/v1/decide", Self.event(user), secret: Self.secret)
            #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
            #expect(String(decoding: answer.body, as: UTF8.self).contains("\"decision_id\":\"dec_"))
        }
        server.kill9()
        let queued = try Self.status(server.outbox)
        #expect(queued["pending"] as? Int == 40, "\(queued)")
        #expect(queued["decisions"] as? Int == 20)
        #expect(sandbox.changes.isEmpty)

        // The tenant recovers; a new server on the same outbox carries out every effect, once.
        sandbox.inject { $0.serverErrors = 0 }
        server = try ServeProcess(["rules/", "--rate", "1000"], environment: environment, directory: directory)
        #expect(try Self.waitFor { try Self.status(server.outbox)["done"] as? Int == 40 }, "\(server.text)")
        server.stop()
        let ids = Dictionary(uniqueKeysWithValues: sandbox.configuration.roles.map { ($0.name, $0.id) })
        for user in users {
            for role in ["staff", "member"] {
                #expect(sandbox.changes["\(user)|\(ids[role] ?? "?")|assign"] == 1, "\(user) \(role)")
            }
        }
        #expect(sandbox.changes.count == 40)
        let final = try Self.status(server.outbox)
        #expect(final["pending"] as? Int == 0)
        #expect(final["dead"] as? Int == 0)
    }

    @Test func aUserWhoLogsInTwiceBeforeTheWorkerRunsCostsOneCallPerRole() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.faults.serverErrors = 1_000_000
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let port = try sandbox.start()
        let server = try ServeProcess(["rules/", "--rate", "1000"], environment: Self.tenant(sandbox, port: port))
        for _ in 0..<2 {
            #expect(server.post("/v1/decide", Self.event("auth0|twice"), secret: Self.secret).status == 200)
        }
        // The second login supersedes the first's effects if they are still queued, and adds nothing if the worker
        // is already making the same changes.
        let queued = try Self.status(server.outbox)
        #expect(queued["pending"] as? Int == 2, "\(queued)")
        sandbox.inject { $0.serverErrors = 0 }
        #expect(try Self.waitFor { try Self.status(server.outbox)["done"] as? Int == 2 }, "\(server.text)")
        let assigns = sandbox.log.filter { $0.method == "POST" && $0.path.hasSuffix("/roles") && $0.status == 204 }
        #expect(assigns.count == 1, "one call assigns both roles: \(assigns)")
    }

    /// The operator's side: dead letters listed, retried and purged; the decision log exported with the
    /// redacted paths replaced, and replayed through `rules eval --events`.
    @Test func deadLettersAndTheDecisionLogThroughTheCommands() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.missingUsers = ["auth0|ghost"]
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let port = try sandbox.start()
        let server = try ServeProcess(
            ["rules/", "--rate", "1000", "--log-events", "--redact", "user.email"],
            environment: Self.tenant(sandbox, port: port))
        for user in ["auth0|k1", "auth0|ghost"] {
            #expect(server.post("/v1/decide", Self.event(user), secret: Self.secret).status == 200)
        }
        #expect(try Self.waitFor { try Self.status(server.outbox)["dead"] as? Int == 2 }, "\(server.text)")
        let outbox = ["--outbox", server.outbox]
        let list = try CLITests.rules(["outbox", "list", "--state", "dead", "--format", "json"] + outbox)
        let dead = list.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(dead.count == 2, "\(list.stdout)")
        #expect(dead.allSatisfy { $0["error_code"] as? String == "inexistent_user" && $0["status"] as? Int == 404 })
        #expect(dead.allSatisfy { $0["user_id"] as? String == "auth0|ghost" })

        let retry = try CLITests.rules(["outbox", "retry", "--all"] + outbox)
        #expect(retry.stdout == "2 dead letters queued again\n", "\(retry.stderr)")
        #expect(try Self.waitFor { try Self.status(server.outbox)["dead"] as? Int == 2 }, "refused again")
        let purge = try CLITests.rules(["outbox", "purge", "--state", "dead"] + outbox)
        #expect(purge.stdout == "2 effects purged\n")
        #expect(try Self.status(server.outbox)["dead"] as? Int == 0)
        #expect(server.stop() == 0)

        let export = try CLITests.rules(["log", "export"] + outbox)
        let lines = export.stdout.split(separator: "\n")
        #expect(lines.count == 2, "\(export.stdout)")
        #expect(lines.allSatisfy { $0.contains(#""email":"[redacted]""#) && !$0.contains("@acme.com") })
        // Each with the server's clock first, which the replay below decides with.
        #expect(
            lines.allSatisfy {
                $0.wholeMatch(of: /\{"rolecall_now":"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",.*/) != nil
            },
            "\(export.stdout)")
        // An export that cannot be written is an error, not a success with nothing written.
        let full = try OutputFailureTests.rules(["log", "export"] + outbox, ">/dev/full")
        OutputFailureTests.expectFailure(full, "No space left on device", "log export")
        let replay = try CLITests.rules(["eval", "rules/", "--events", "-"], input: Data(export.stdout.utf8))
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.split(separator: "\n").count == 2)
    }

    /// The attack on `rules outbox retry --all`: a login's assigns refused for good (here 400s) become dead
    /// letters; the tenant is fixed; the same user logs in blocked (roles `[]`, nothing queued, since the tenant
    /// never held the roles). Retrying every dead letter must not hand the blocked user the roles back: the newest
    /// login supersedes them, `list` says so and `retry` skips them, while another user's are queued again. Ids
    /// that are not dead letters, or not in the outbox, are errors (exit 2) that queue nothing.
    @Test func retryDoesNotUndoTheNewestLoginAndRefusesIdsThatAreNotDeadLetters() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.faults.badRequests = 1_000_000
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let port = try sandbox.start()
        let server = try ServeProcess(["rules/", "--rate", "1000"], environment: Self.tenant(sandbox, port: port))
        for user in ["auth0|stale", "auth0|kept"] {
            #expect(server.post("/v1/decide", Self.event(user), secret: Self.secret).status == 200)
        }
        #expect(try Self.waitFor { try Self.status(server.outbox)["dead"] as? Int == 4 }, "\(server.text)")
        sandbox.inject { $0.badRequests = 0 }
        let blocked = String(decoding: Self.event("auth0|stale"), as: UTF8.self).replacingOccurrences(
            of: #""app_metadata":{}"#, with: #""app_metadata":{"blocked":true}"#)
        let answer = server.post("/v1/decide", Data(blocked.utf8), secret: Self.secret)
        #expect(answer.status == 200)
        let decision = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
        #expect(decision["roles"] as? [String] == [], "\(decision)")
        let newest = decision["decision_id"] as? String ?? "?"

        let outbox = ["--outbox", server.outbox]
        let list = try CLITests.rules(["outbox", "list", "--state", "dead"] + outbox)
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 4, "\(list.stdout)")
        for line in lines {
            let superseded = line.hasSuffix("; superseded by the newer decision \(newest), not retried")
            #expect(superseded == line.contains("auth0|stale"), "\(line)")
        }
        let json = try CLITests.rules(["outbox", "list", "--state", "dead", "--format", "json"] + outbox)
        let entries = json.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let stale = entries.filter { $0["user_id"] as? String == "auth0|stale" }.compactMap { $0["id"] as? Int }
        let kept = entries.filter { $0["user_id"] as? String == "auth0|kept" }.compactMap { $0["id"] as? Int }
        #expect(stale.count == 2 && kept.count == 2, "\(json.stdout)")
        #expect(
            entries.allSatisfy {
                ($0["superseded_by"] as? String == newest) == ($0["user_id"] as? String == "auth0|stale")
            })

        // A typo among good ids: said, exit 2, nothing queued.
        let typo = try CLITests.rules(["outbox", "retry", String(kept[0]), "999999999"] + outbox)
        #expect(typo.status == 2)
        #expect(typo.stdout == "")
        #expect(
            typo.stderr
                == "rules: error: no effect 999999999 in the outbox (never made, or purged)\nrules: nothing was queued again\n"
        )
        #expect(try Self.status(server.outbox)["dead"] as? Int == 4)

        let retry = try CLITests.rules(["outbox", "retry", "--all"] + outbox)
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(
            retry.stdout
                == "2 dead letters queued again, 2 skipped as superseded (a newer decision for the same user was logged "
                + "since, and the tenant follows the newest login):\n"
                + stale.map { "  \($0)\tsuperseded by \(newest)\n" }.joined())
        #expect(try Self.waitFor { try Self.status(server.outbox)["done"] as? Int == 2 }, "\(server.text)")
        #expect(sandbox.roles(ofUser: "auth0|kept").count == 2)
        #expect(sandbox.roles(ofUser: "auth0|stale").isEmpty, "the blocked user was given roles back")

        // An effect that is not a dead letter (now done) and an id never made: errors, exit 2.
        let done = try CLITests.rules(["outbox", "retry", String(kept[0])] + outbox)
        #expect(done.status == 2)
        #expect(
            done.stderr
                == "rules: error: effect \(kept[0]) is not a dead letter: it is done\nrules: nothing was queued again\n"
        )
        let missing = try CLITests.rules(["outbox", "retry", "999999999"] + outbox)
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("rules: error: no effect 999999999 in the outbox"))
        #expect(server.stop() == 0)
    }
}
