import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RolecallEffects
import RolecallEngine
import RolecallOutbox
import RolecallServer
import Testing

/// Decisions with effects: committed to the outbox before the answer.
@Suite struct EffectsTests {
    /// An outbox in a temporary folder, and a worker whose calls go nowhere (port 9 on loopback refuses them),
    /// so the effects stay pending.
    static func effects(in directory: RuleDirectory) throws -> ServerEffects {
        let outbox = try Outbox(path: directory.path + "/outbox.db")
        let tenant = TenantConfiguration(
            domain: "tenant.example.com", clientID: "id", clientSecret: "secret", baseURL: "http://127.0.0.1:9")
        let worker = OutboxWorker(outbox: outbox) { hooks in
            EffectRunner(
                client: ManagementClient(
                    configuration: tenant, limiter: RateLimiter(rate: 1000), deadline: hooks.deadline,
                    clock: hooks.clock, sleep: hooks.sleep))
        }
        return ServerEffects(outbox: outbox, worker: worker)
    }

    @Test func aDecisionIsCommittedBeforeTheAnswer() async throws {
        var fixture = try ServerFixture()
        let effects = try Self.effects(in: fixture.directory)
        fixture.effects = effects
        try await fixture.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                body: ByteBuffer(string: ServerFixture.event()))
            #expect(response.status == .ok)
            let status = try effects.outbox.status()
            #expect(status.decisions == 1)
            #expect(status.pending + status.done + status.dead == 2)
            #expect(status.pending >= 1)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
        }
    }

    /// Found by the second attack: a captured signed login replayed within the window undid a newer one.
    @Test func aSignedRequestSeenBeforeIsAnsweredButQueuesNothing() async throws {
        var fixture = try ServerFixture()
        let effects = try Self.effects(in: fixture.directory)
        fixture.effects = effects
        let body = ServerFixture.event()
        let headers = ServerFixture.signed(body)
        try await fixture.application().test(.router) { client in
            for _ in 0..<2 {
                let response = try await client.execute(
                    uri: "/v1/decide", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status == .ok)
            }
            let status = try effects.outbox.status()
            #expect(status.decisions == 2, "both are logged")
            #expect(status.pending + status.done + status.dead + status.coalesced == 2, "only the first queues changes")
            #expect(status.coalesced == 0)
        }
    }

    @Test func loggedEventsAreRedacted() async throws {
        var fixture = try ServerFixture()
        let effects = try Self.effects(in: fixture.directory)
        fixture.effects = effects
        fixture.configuration.logEvents = true
        fixture.configuration.redactor = try EventRedactor(paths: ["user.email"])
        try await fixture.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                body: ByteBuffer(string: ServerFixture.event()))
            #expect(response.status == .ok)
        }
        var events: [String] = []
        _ = try OutboxFile(path: fixture.directory.path + "/outbox.db").exportEvents {
            events.append(String(decoding: $0, as: UTF8.self))
        }
        #expect(events.count == 1)
        #expect(events.first?.contains("{\"user_id\":\"auth0|123\",\"email\":\"[redacted]\"}") == true, "\(events)")
    }

    /// Each decision is made at the server's clock, read once per request and logged with it; a `rolecall_now`
    /// in the request is not honoured (an invalid one is no error) and the export carries the server's clock only.
    @Test func theServersClockIsLoggedAndARequestsOwnIsIgnored() async throws {
        var fixture = try ServerFixture()
        let effects = try Self.effects(in: fixture.directory)
        fixture.effects = effects
        fixture.configuration.logEvents = true
        let bodies = [
            #"{"rolecall_now":"not a time","user":{"user_id":"auth0|1"}}"#,
            #"{"user":{"user_id":"auth0|2"},"rolecall_now":"2000-01-01T00:00:00Z"}"#,
        ]
        try await fixture.application().test(.router) { client in
            for body in bodies {
                let response = try await client.execute(
                    uri: "/v1/decide", method: .post, headers: ServerFixture.bearer, body: ByteBuffer(string: body))
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
        }
        var events: [String] = []
        _ = try OutboxFile(path: fixture.directory.path + "/outbox.db").exportEvents {
            events.append(String(decoding: $0, as: UTF8.self))
        }
        // ServerFixture.now, 1_800_000_000.
        #expect(
            events == [
                #"{"rolecall_now":"2027-01-15T08:00:00.000Z","user":{"user_id":"auth0|1"}}"#,
                #"{"rolecall_now":"2027-01-15T08:00:00.000Z","user":{"user_id":"auth0|2"}}"#,
            ])
    }

    /// With `days_since` (once the checker accepts it): the server decides by its clock, not the request's.
    @Test func daysSinceCountsToTheServersClock() async throws {
        let rules = #"rule "new" when days_since(user.created_at) < 1 assign "new""#
        let directory = try RuleDirectory(rules)
        let fixture = try ServerFixture(directory)
        // Created a day before the server's clock; the request claims to be made the same second.
        let body =
            #"{"rolecall_now":"2027-01-14T08:00:00Z","user":{"user_id":"auth0|1","created_at":"2027-01-14T08:00:00Z"}}"#
        try await fixture.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer, body: ByteBuffer(string: body))
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).contains(#""assign":[]"#), "\(String(buffer: response.body))")
        }
    }

    @Test func aRefusedEventCommitsNothing() async throws {
        var fixture = try ServerFixture()
        let effects = try Self.effects(in: fixture.directory)
        fixture.effects = effects
        try await fixture.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                body: ByteBuffer(string: ServerFixture.event(user: nil)))
            #expect(response.status == .badRequest)
            #expect(try effects.outbox.status().decisions == 0)
        }
    }
}
