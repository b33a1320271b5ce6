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
