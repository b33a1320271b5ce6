import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RolecallEngine
import RolecallLanguage
import RolecallServer
import Testing

@Suite struct DecideTests {
    @Test func answersTheDecisionWithADecisionID() async throws {
        let app = try ServerFixture().application()
        try await app.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                body: ByteBuffer(string: ServerFixture.event()))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let prefix =
                "{\"assign\":[\"member\",\"staff\"],\"revoke\":[],\"roles\":[\"member\",\"staff\"],"
                + "\"matched\":[\"first login gets member\",\"acme staff\"],\"errors\":[],\"decision_id\":\"dec_"
            #expect(response.text.hasPrefix(prefix))
            #expect(response.text.hasSuffix("\"}"))
            let id = try #require(response.object?["decision_id"] as? String)
            #expect(id.count == 30)
        }
    }

    @Test func decisionIDsDiffer() async throws {
        let app = try ServerFixture().application()
        try await app.test(.router) { client in
            var ids = Set<String>()
            for _ in 0..<3 {
                let response = try await client.execute(
                    uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                    body: ByteBuffer(string: ServerFixture.event()))
                ids.insert(response.object?["decision_id"] as? String ?? "")
            }
            #expect(ids.count == 3)
        }
    }

    @Test(arguments: [
        ("{\"user\":", "invalid_event"),
        ("{\"user\":{\"user_id\":\"a\"}} x", "invalid_event"),
        ("{\"user\":{\"user_id\":\"a\",\"user_id\":\"b\"}}", "invalid_event"),
        (ServerFixture.event(user: nil), "no_user"),
        ("{\"user\":{\"user_id\":42}}", "no_user"),
        ("{\"user\":\"auth0|1\"}", "no_user"),
        ("[1,2]", "invalid_event"),
    ])
    func refusesBadEvents(body: String, code: String) async throws {
        let app = try ServerFixture().application()
        try await app.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer, body: ByteBuffer(string: body))
            #expect(response.status == .badRequest)
            #expect(response.errorCode == code, "\(response.text)")
            if code == "no_user" {
                #expect(response.object?["message"] as? String == "the event has no user.user_id string")
            }
        }
    }

    @Test func malformedJSONNamesWhereTheReaderStopped() async throws {
        let app = try ServerFixture().application()
        try await app.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer, body: ByteBuffer(string: "{\"user\":"))
            let message = try #require(response.object?["message"] as? String)
            #expect(message.hasPrefix("invalid event: "))
            #expect(message.contains("at byte 8"))
        }
    }

    @Test(arguments: [
        ("application/json", HTTPResponse.Status.ok),
        ("application/json; charset=utf-8", .ok),
        ("Application/JSON;charset=\"UTF-8\"", .ok),
        ("text/plain", .unsupportedMediaType),
        ("application/json; charset=latin1", .unsupportedMediaType),
        ("application/jsonx", .unsupportedMediaType),
        ("", .unsupportedMediaType),
    ])
    func contentType(_ type: String, status: HTTPResponse.Status) async throws {
        let app = try ServerFixture().application()
        try await app.test(.router) { client in
            var headers: HTTPFields = [.authorization: "Bearer \(ServerFixture.secret)"]
            if !type.isEmpty { headers[.contentType] = type }
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: headers, body: ByteBuffer(string: ServerFixture.event()))
            #expect(response.status == status)
            if status == .unsupportedMediaType { #expect(response.errorCode == "unsupported_media_type") }
        }
    }

    @Test func unknownPathsAndWrongMethods() async throws {
        let app = try ServerFixture().application()
        try await app.test(.router) { client in
            let missing = try await client.execute(uri: "/v2/decide", method: .post)
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
            let wrong = try await client.execute(uri: "/v1/decide", method: .get)
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.headers[.allow] == "POST")
            #expect(wrong.errorCode == "method_not_allowed")
            let health = try await client.execute(uri: "/healthz", method: .post, body: ByteBuffer())
            #expect(health.status == .methodNotAllowed)
            #expect(health.headers[.allow] == "GET, HEAD")
        }
    }
}

@Suite struct AuthenticationTests {
    static let body = ServerFixture.event()

    func status(_ headers: HTTPFields, body: String = AuthenticationTests.body, secret: Bool = true) async throws
        -> (HTTPResponse.Status, HTTPFields)
    {
        var fixture = try ServerFixture()
        if !secret { fixture.configuration.secret = nil }
        return try await fixture.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: headers, body: ByteBuffer(string: body))
            return (response.status, response.headers)
        }
    }

    @Test func noCredentials() async throws {
        let (status, headers) = try await status([.contentType: "application/json"])
        #expect(status == .unauthorized)
        #expect(headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
    }

    @Test(arguments: ["Bearer wrong", "Bearer s3cret-shared-", "Bearer s3cret-share", "Basic czNjcmV0", "Bearer", ""])
    func badBearer(_ value: String) async throws {
        let (status, _) = try await status([.contentType: "application/json", .authorization: value])
        #expect(status == .unauthorized)
    }

    @Test func goodBearer() async throws {
        #expect(try await status(ServerFixture.bearer).0 == .ok)
        var lowercase = ServerFixture.bearer
        lowercase[.authorization] = "bearer \(ServerFixture.secret)"
        #expect(try await status(lowercase).0 == .ok)
    }

    @Test func goodSignature() async throws {
        #expect(try await status(ServerFixture.signed(Self.body)).0 == .ok)
    }

    @Test func signatureWithinTheWindowEitherWay() async throws {
        #expect(try await status(ServerFixture.signed(Self.body, timestamp: ServerFixture.now - 300)).0 == .ok)
        #expect(try await status(ServerFixture.signed(Self.body, timestamp: ServerFixture.now + 300)).0 == .ok)
    }

    @Test func signatureOfAnotherBody() async throws {
        let headers = ServerFixture.signed(Self.body)
        let (status, _) = try await status(headers, body: ServerFixture.event(user: "auth0|666"))
        #expect(status == .unauthorized)
    }

    @Test func signatureWithTheWrongSecret() async throws {
        #expect(try await status(ServerFixture.signed(Self.body, secret: "other")).0 == .unauthorized)
    }

    @Test func replayedOldSignature() async throws {
        let old = ServerFixture.signed(Self.body, timestamp: ServerFixture.now - 301)
        #expect(try await status(old).0 == .unauthorized)
    }

    @Test func futureSignature() async throws {
        let future = ServerFixture.signed(Self.body, timestamp: ServerFixture.now + 301)
        #expect(try await status(future).0 == .unauthorized)
    }

    @Test func malformedSignatures() async throws {
        var headers = ServerFixture.signed(Self.body)
        let good = headers[ServerFixture.signatureHeader] ?? ""
        for bad in [good.uppercased(), String(good.dropFirst(3)), good + "00", "v2=" + good.dropFirst(3), "v1="] {
            headers[ServerFixture.signatureHeader] = bad
            #expect(try await status(headers).0 == .unauthorized, "\(bad)")
        }
        headers = ServerFixture.signed(Self.body)
        headers[ServerFixture.timestampHeader] = "1.8e9"
        #expect(try await status(headers).0 == .unauthorized)
        headers[ServerFixture.timestampHeader] = nil
        #expect(try await status(headers).0 == .unauthorized)
    }

    @Test func noSecretAcceptsAll() async throws {
        #expect(try await status([.contentType: "application/json"], secret: false).0 == .ok)
    }

    @Test func rulesetNeedsCredentialsButProbesDoNot() async throws {
        let app = try ServerFixture().application()
        try await app.test(.router) { client in
            let ruleset = try await client.execute(uri: "/v1/ruleset", method: .get)
            #expect(ruleset.status == .unauthorized)
            for probe in ["/healthz", "/readyz", "/metrics"] {
                let response = try await client.execute(uri: probe, method: .get)
                #expect(response.status == .ok, "\(probe)")
            }
        }
    }
}

@Suite struct SizeLimitTests {
    /// An event of exactly `size` bytes (padded with spaces, which JSON allows).
    static func event(size: Int) -> String {
        let event = ServerFixture.event()
        return event + String(repeating: " ", count: size - event.utf8.count)
    }

    static let limit = 200

    @Test(arguments: [(limit, HTTPResponse.Status.ok), (limit + 1, .contentTooLarge), (limit - 1, .ok)])
    func byContentLength(size: Int, status: HTTPResponse.Status) async throws {
        let app = try ServerFixture(maxEventBytes: Self.limit).application()
        try await app.test(.live) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                body: ByteBuffer(string: Self.event(size: size)))
            #expect(response.status == status)
            if status == .contentTooLarge { #expect(response.errorCode == "event_too_large") }
        }
    }

    @Test func contentLengthRefusedBeforeTheBodyIsSent() async throws {
        // A head that announces far more than the limit: the answer comes without a byte of the body.
        let app = try ServerFixture(maxEventBytes: Self.limit).application()
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let status = try await RawHTTP.exchange(
                port: port,
                head: "POST /v1/decide HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(ServerFixture.secret)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")
            #expect(status == 413)
        }
    }

    @Test(arguments: [(limit, 200), (limit + 1, 413), (limit - 1, 200), (10 * limit, 413)])
    func byChunkedBody(size: Int, status: Int) async throws {
        let app = try ServerFixture(maxEventBytes: Self.limit).application()
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let answer = try await RawHTTP.postChunked(
                port: port,
                head: "POST /v1/decide HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(ServerFixture.secret)\r\n"
                    + "Content-Type: application/json",
                body: Array(Self.event(size: size).utf8), chunkSize: 60)
            #expect(answer == status)
        }
    }
}

@Suite struct RuleSetEndpointTests {
    @Test func describesTheLoadedSet() async throws {
        let fixture = try ServerFixture()
        let files = try RuleSet.load([fixture.directory.path])
        try await fixture.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/ruleset", method: .get, headers: [.authorization: "Bearer \(ServerFixture.secret)"])
            #expect(response.status == .ok)
            let object = try #require(response.object)
            #expect(object["hash"] as? String == files.hash)
            #expect((object["hash"] as? String)?.count == 64)
            #expect(object["files"] as? [String] == [fixture.directory.path + "/main.rules"])
            #expect(object["rules"] as? Int == 2)
            let loadedAt = try #require(object["loaded_at"] as? String)
            #expect(loadedAt.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
            #expect(object["load_ms"] is Double || object["load_ms"] is Int)
        }
    }

    @Test func hashFollowsContentAndNames() throws {
        let a = RuleSet.hash([SourceFile(path: "a.rules", text: "x")])
        #expect(a == RuleSet.hash([SourceFile(path: "a.rules", text: "x")]))
        #expect(a != RuleSet.hash([SourceFile(path: "b.rules", text: "x")]))
        #expect(a != RuleSet.hash([SourceFile(path: "a.rules", text: "y")]))
        // The boundary between a name and its content is not ambiguous.
        #expect(
            RuleSet.hash([SourceFile(path: "a", text: "bc")]) != RuleSet.hash([SourceFile(path: "ab", text: "c")]))
    }
}

@Suite struct MetricsTests {
    @Test func exportsTheServersMetrics() async throws {
        let app = try ServerFixture().application()
        try await app.test(.router) { client in
            _ = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                body: ByteBuffer(string: ServerFixture.event()))
            _ = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer, body: ByteBuffer(string: "{"))
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = response.text
            for name in [
                "rolecall_http_request_duration_seconds_bucket{route=\"/v1/decide\",method=\"POST\",status=\"200\"",
                "rolecall_http_request_duration_seconds_count{route=\"/v1/decide\",method=\"POST\",status=\"400\"} 1",
                "rolecall_decisions_total 1",
                "rolecall_rules_fired_total{rule=\"first login gets member\"} 1",
                "rolecall_rules_fired_total{rule=\"acme staff\"} 1",
                "rolecall_build_info{version=\"test\"} 1",
                "rolecall_ruleset_rules 2",
            ] {
                #expect(text.contains(name), "\(name)")
            }
        }
    }

    @Test func countsEvaluationErrorsByCode() async throws {
        let directory = try RuleDirectory(
            """
            rule "plan compare"
            when user.app_metadata.plan < 3
            assign "x"
            """)
        let app = try ServerFixture(directory).application()
        try await app.test(.router) { client in
            let event = "{\"user\":{\"user_id\":\"u\",\"app_metadata\":{\"plan\":\"gold\"}}}"
            let decided = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer, body: ByteBuffer(string: event))
            #expect(decided.status == .ok)
            let text = try await client.execute(uri: "/metrics", method: .get).text
            #expect(text.contains("rolecall_evaluation_errors_total{code=\""), "\(decided.text)")
        }
    }
}

@Suite struct HotReloadTests {
    static let changed = """
        rule "everyone is a guest"
        when true
        assign "guest"
        """

    @Test func aBrokenFileKeepsTheOldRulesAndAGoodChangeIsPickedUp() async throws {
        let fixture = try ServerFixture()
        let store = fixture.store
        let before = store.current.hash
        #expect(store.reload(force: false, reason: "test") == .unchanged)

        try fixture.directory.write("rule \"broken\" when assign")
        // A change is loaded once it has held still for a poll: a file being written is not read half-written.
        #expect(store.reload(force: false, reason: "test") == .settling)
        guard case .refused(let why) = store.reload(force: false, reason: "test") else {
            Issue.record("a broken rule set was not refused")
            return
        }
        #expect(why.contains("main.rules"))
        #expect(store.current.hash == before)
        #expect(store.current.generation == 1)
        // Refused once; the poll does not keep reporting the same broken files.
        #expect(store.reload(force: false, reason: "test") == .unchanged)

        try await fixture.application().test(.router) { client in
            let old = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                body: ByteBuffer(string: ServerFixture.event()))
            #expect(old.object?["assign"] as? [String] == ["member", "staff"])

            try fixture.directory.write(Self.changed)
            #expect(store.reload(force: false, reason: "test") == .settling)
            #expect(store.reload(force: false, reason: "test") == .loaded(generation: 2))
            let new = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                body: ByteBuffer(string: ServerFixture.event()))
            #expect(new.object?["assign"] as? [String] == ["guest"])
            let ruleset = try await client.execute(
                uri: "/v1/ruleset", method: .get, headers: [.authorization: "Bearer \(ServerFixture.secret)"])
            #expect(ruleset.object?["generation"] as? Int == 2)
            #expect(ruleset.object?["hash"] as? String != before)
        }
    }

    @Test func aNewFileInTheDirectoryCounts() throws {
        let fixture = try ServerFixture()
        try fixture.directory.write(Self.changed, name: "more.rules")
        #expect(fixture.store.reload(force: false, reason: "test") == .settling)
        #expect(fixture.store.reload(force: false, reason: "test") == .loaded(generation: 2))
        #expect(fixture.store.current.files.count == 2)
    }

    @Test func theWatcherPollsTheFiles() async throws {
        var fixture = try ServerFixture()
        fixture.configuration.reloadInterval = .milliseconds(50)
        let directory = fixture.directory
        try await fixture.application().test(.router) { client in
            try directory.write("rule \"broken\" when assign")
            try await Task.sleep(for: .milliseconds(300))
            var response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                body: ByteBuffer(string: ServerFixture.event()))
            #expect(response.object?["assign"] as? [String] == ["member", "staff"])
            try directory.write(Self.changed)
            for _ in 0..<100 {
                response = try await client.execute(
                    uri: "/v1/decide", method: .post, headers: ServerFixture.bearer,
                    body: ByteBuffer(string: ServerFixture.event()))
                if response.object?["assign"] as? [String] == ["guest"] { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(response.object?["assign"] as? [String] == ["guest"])
        }
    }

    @Test func theMetricsCountRefusedReloads() async throws {
        let fixture = try ServerFixture()
        try fixture.directory.write("rule \"broken\" when assign")
        fixture.store.reload(force: true, reason: "test")
        let text = String(decoding: fixture.metrics.exposition(), as: UTF8.self)
        #expect(text.contains("rolecall_ruleset_reload_failures_total 1"))
    }
}
