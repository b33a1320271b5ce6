import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RolecallOutbox
import RolecallServer
import Testing

/// A signed request seen before queues no role change: not after a restart either, and a request whose commit
/// failed (503) is not counted as seen. Live servers over real sockets, with an outbox on disk.
@Suite struct ReplayTests {
    /// A blocked login revokes every role; any other login at acme is staff.
    static let rules = """
        rule "blocked"
        when user.app_metadata.blocked == true
        revoke all
        stop

        rule "acme staff"
        when user.email ends_with "@acme.com"
        assign "staff"
        """

    /// A login of `user`, holding `held`, blocked or not.
    static func login(_ user: String, blocked: Bool = false, held: [String] = []) -> String {
        let roles = held.map { "\"\($0)\"" }.joined(separator: ",")
        return
            "{\"user\":{\"user_id\":\"\(user)\",\"email\":\"ann@acme.com\",\"app_metadata\":{\"blocked\":\(blocked)}},"
            + "\"authorization\":{\"roles\":[\(roles)]}}"
    }

    /// Every effect in the outbox, in every state.
    static func effects(_ directory: RuleDirectory) throws -> [OutboxEntry] {
        try OutboxFile(path: directory.path + "/outbox.db").list(limit: 10_000)
    }

    /// The `decision_id` of an answer.
    static func decisionID(_ response: TestResponse) -> String {
        response.object?["decision_id"] as? String ?? "(none)"
    }

    /// Runs a live server on the outbox in `directory` until `body` returns, then stops its worker and closes
    /// its outbox, as a stopped server does.
    static func serve(
        _ directory: RuleDirectory, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var fixture = try ServerFixture(directory)
        let effects = try EffectsTests.effects(in: directory)
        fixture.effects = effects
        defer {
            effects.worker.stop()
            effects.outbox.close()
        }
        try await fixture.application().test(.live, body)
    }

    static func post(_ client: any TestClientProtocol, _ body: String, _ headers: HTTPFields) async throws
        -> TestResponse
    {
        try await client.execute(uri: "/v1/decide", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// Found by the third attack: the signatures seen were only in the process, so after a restart a captured
    /// older login, replayed within its window, queued its role changes again and undid a newer login's.
    @Test func aSignedLoginReplayedAfterARestartQueuesNothing() async throws {
        let directory = try RuleDirectory(Self.rules)
        let older = Self.login("auth0|replayed")
        let olderHeaders = ServerFixture.signed(older, timestamp: ServerFixture.now - 8)
        try await Self.serve(directory) { client in
            #expect(try await Self.post(client, older, olderHeaders).status == .ok)
            let newer = Self.login("auth0|replayed", blocked: true, held: ["staff"])
            let answer = try await Self.post(
                client, newer, ServerFixture.signed(newer, timestamp: ServerFixture.now - 4))
            #expect(answer.status == .ok)
            #expect(answer.text.contains(#""revoke":["staff"]"#), "\(answer.text)")
        }
        let before = try Self.effects(directory)
        #expect(before.contains { !$0.assign && $0.role == "staff" }, "\(before)")

        // Another server on the same outbox: the older login's captured bytes are answered, and queue nothing.
        try await Self.serve(directory) { client in
            let replay = try await Self.post(client, older, olderHeaders)
            #expect(replay.status == .ok)
            let id = Self.decisionID(replay)
            let queued = try Self.effects(directory).filter { $0.decisionID == id }
            #expect(queued.isEmpty, "the replay queued \(queued)")
            #expect(try OutboxFile(path: directory.path + "/outbox.db").status().decisions == 3, "it is logged")
        }
        #expect(try Self.effects(directory).count == before.count)
    }

    /// Found by the third attack: a signed login refused with 503 (its commit failed) was remembered, so the
    /// client's retry of the same request was answered 200 and queued nothing.
    @Test func aRetryAfterAFailedCommitQueuesItsRoleChanges() async throws {
        let directory = try RuleDirectory(Self.rules)
        let path = directory.path + "/outbox.db"
        let body = Self.login("auth0|retried")
        let headers = ServerFixture.signed(body)
        try await Self.serve(directory) { client in
            // The outbox file is taken away: the commit fails, nothing is acknowledged.
            try FileManager.default.moveItem(atPath: path, toPath: path + ".away")
            let refused = try await Self.post(client, body, headers)
            #expect(refused.status == .serviceUnavailable, "\(refused.text)")
            try FileManager.default.moveItem(atPath: path + ".away", toPath: path)

            let retried = try await Self.post(client, body, headers)
            #expect(retried.status == .ok, "\(retried.text)")
            let id = Self.decisionID(retried)
            let queued = try Self.effects(directory).filter { $0.decisionID == id }
            #expect(queued.map(\.role) == ["staff"], "the retry queued \(queued)")

            // Once committed, the same request again is a replay.
            let again = try await Self.post(client, body, headers)
            #expect(again.status == .ok)
            let replayed = Self.decisionID(again)
            #expect(try Self.effects(directory).filter { $0.decisionID == replayed }.isEmpty)
        }
    }

    /// The same signed request sent many times at once, each on its own connection: every one is answered and
    /// logged, and the role changes are queued once.
    @Test func identicalSignedRequestsAtOnceQueueTheirChangesOnce() async throws {
        let directory = try RuleDirectory(Self.rules)
        let body = Self.login("auth0|twins")
        let headers = ServerFixture.signed(body)
        var head = "POST /v1/decide HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        for field in headers { head += "\(field.name.rawName): \(field.value)\r\n" }
        let request = Array((head + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
        try await Self.serve(directory) { client in
            let port = try #require(client.port)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<16 { group.addTask { try await RawHTTP.exchange(port: port, request) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 16))
        }
        #expect(try OutboxFile(path: directory.path + "/outbox.db").status().decisions == 16)
        let effects = try Self.effects(directory)
        #expect(effects.map(\.role) == ["staff"], "\(effects)")
    }
}
