import Foundation
import Logging
import RolecallEffects
import RolecallEngine
import RolecallSandbox
import Testing

/// Issue 8, second round: what an attacker found after the first hardening. Each test fails on the code before
/// its fix (a trap, a request to the wrong path, a captive portal counted as done, a secret in the output).
@Suite(.serialized, .timeLimit(.minutes(1))) struct HardeningFollowUpTests {
    typealias H = HardeningTests

    // MARK: F1. sandbox header numbers

    /// A burst of Int.max trapped converting the bucket (a Double of 2^63) back to an Int for the headers.
    @Test func aHugeBurstDoesNotTrapTheSandbox() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.burst = Int.max
        configuration.rateLimit = 1e-300
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let base = "http://127.0.0.1:\(try sandbox.start())"
        guard let bearer = try SandboxTests.token(base, domain: configuration.domain) else {
            Issue.record("no token")
            return
        }
        let roles = try SandboxTests.request(
            "GET", base + "/api/v2/roles", headers: [("Authorization", "Bearer \(bearer)")])
        #expect(roles.status == 200)
        #expect(roles.headers["x-ratelimit-remaining"] == String(1 << 53))
        #expect(roles.headers["x-ratelimit-reset"].flatMap(Int.init) != nil)
    }

    // MARK: F2. dot segments

    /// A user id of `..` went out as `/api/v2/users/../roles`, which libcurl collapsed to `POST /api/v2/roles`.
    @Test(arguments: [("..", "/api/v2/users/%2E%2E/roles"), (".", "/api/v2/users/%2E/roles")])
    func aDotUserIDStaysInItsSegment(user: String, path: String) throws {
        let server = try HostileServer { request, _ in HostileServer.wellBehaved(request) }
        defer { server.stop() }
        let outcomes = H.apply(H.client(server, log: RecordingLog()), user: user)
        #expect(outcomes.map(\.status) == [.done])
        #expect(server.requests.filter { $0.method == "POST" }.map(\.target) == ["/oauth/token", path])
    }

    @Test func dotsArePercentEncoded() {
        #expect(ManagementClient.percentEncoded("email|a.b@x.io") == "email%7Ca%2Eb%40x%2Eio")
    }

    /// libcurl is told to send the path as it is given (`CURLOPT_PATH_AS_IS`): no dot segment is collapsed.
    @Test func pathsGoOutAsGiven() throws {
        let server = try HostileServer { _, _ in .respond(status: 204, headers: [], body: "") }
        defer { server.stop() }
        _ = try CurlClient().send(HTTPRequest(method: "GET", url: server.baseURL + "/a/b/../c/./d"))
        #expect(server.requests.map(\.target) == ["/a/b/../c/./d"])
    }

    // MARK: F3. what confirms a role change

    /// Auth0 confirms with an empty 201 or 204 (200 empty is taken too); a captive portal's 200 with HTML, or a
    /// 2xx Auth0 never sends here, is an invalid response, retried and then reported, never done.
    @Test(
        arguments: [
            (204, "", nil, true), (201, "", nil, true), (200, "", nil, true), (200, "{}", "application/json", true),
            (200, "<html>Log in to the hotel Wi-Fi</html>", "text/html", false), (202, "", nil, false),
            (206, "", nil, false),
        ] as [(Int, String, String?, Bool)])
    func onlyAnAuth0AnswerConfirmsARoleChange(status: Int, body: String, type: String?, done: Bool) throws {
        let server = try HostileServer { request, _ in
            guard request.path.hasPrefix("/api/v2/users/") else { return HostileServer.wellBehaved(request) }
            return .respond(status: status, headers: type.map { [("Content-Type", $0)] } ?? [], body: body)
        }
        defer { server.stop() }
        let outcomes = H.apply(H.client(server, log: RecordingLog()))
        if done {
            #expect(outcomes.map(\.status) == [.done])
        } else if type == "text/html" {
            #expect(
                outcomes.map(\.status) == [
                    .gaveUp(
                        attempts: 3,
                        lastError: "invalid response from POST /api/v2/users/{id}/roles: HTTP 200 with a body that is "
                            + "not JSON (Content-Type text/html)")
                ])
        } else {
            #expect(
                outcomes.map(\.status) == [
                    .gaveUp(
                        attempts: 3,
                        lastError: "invalid response from POST /api/v2/users/{id}/roles: HTTP \(status) is not how "
                            + "the API confirms a change")
                ])
        }
    }

    // MARK: F4. secrets echoed by a server

    /// A token endpoint that quotes the request body back (client secret included) in `error_description`.
    @Test func anEchoedClientSecretIsRedacted() throws {
        let server = try HostileServer { request, _ in
            let body = String(decoding: request.body, as: UTF8.self)
            let echo = String(decoding: JSONValue.string("bad request: " + body).serialized.utf8, as: UTF8.self)
            return HostileServer.json(400, #"{"error":"invalid_request","error_description":\#(echo)}"#)
        }
        defer { server.stop() }
        let log = RecordingLog()
        let outcomes = H.apply(H.client(server, log: log))
        guard case .failed(400, "invalid_request", let message)? = outcomes.first?.status else {
            Issue.record("expected a 400, got \(outcomes.map(\.text))")
            return
        }
        #expect(message.contains(#""client_secret":"***""#), "\(message)")
        H.expectNoSecrets(outcomes, log)
    }

    /// An API that quotes the Authorization header back, in a permanent 403 and in a retried 503.
    @Test(arguments: [403, 503])
    func anEchoedAccessTokenIsRedacted(status: Int) throws {
        let server = try HostileServer { request, _ in
            guard request.path == "/api/v2/roles" else { return HostileServer.wellBehaved(request) }
            let echo = "no access for Authorization: \(request.header("Authorization") ?? "")"
            return HostileServer.json(
                status, #"{"statusCode":\#(status),"error":"Forbidden","message":"\#(echo)","errorCode":"x"}"#)
        }
        defer { server.stop() }
        let log = RecordingLog()
        let outcomes = H.apply(H.client(server, log: log))
        let text = outcomes.map(\.text).joined()
        #expect(text.contains("no access for Authorization: Bearer ***"), "\(text)")
        if status == 503 { #expect(!log.waits.isEmpty) }
        H.expectNoSecrets(outcomes, log)
    }

    // MARK: F5. pacing waits are seen

    /// A pacing wait of a second or more is logged at notice (the CLI's level), with its length and reason; so
    /// is a server saying no requests remain.
    @Test func longPacingWaitsAreLoggedAtNotice() {
        let log = RecordingLog()
        let waits = HardeningTests.Waits()
        let limiter = RateLimiter(
            rate: 0.5, burst: 1, logger: log.logger(), clock: { 1_000 }, sleep: { waits.record($0) })
        limiter.acquire()
        limiter.acquire()
        limiter.observe(headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "1010"])
        #expect(waits.all == [2])
        let notices = log.entries.withLockedValue { $0.filter { $0.0 == .notice } }
        #expect(
            notices.map(\.1) == [
                "pacing requests to the configured rate: the next request waits",
                "the server says no requests remain until the reset",
            ])
        #expect(notices.first?.2["wait.seconds"] == "2.0")
        #expect(notices.first?.2["wait.reason"] == "rate")
    }

    // MARK: F6. which wait passed the deadline

    /// A server header forcing a wait past the deadline: the failure says which wait it was.
    @Test func aForcedWaitPastTheDeadlineIsNamed() throws {
        let server = try HostileServer { request, _ in
            guard request.path == "/api/v2/roles" else { return HostileServer.wellBehaved(request) }
            return HostileServer.json(
                429, #"{"statusCode":429,"error":"Too Many Requests","message":"slow down"}"#, [("Retry-After", "60")])
        }
        defer { server.stop() }
        let outcomes = H.apply(
            H.client(server, log: RecordingLog(), policy: RetryPolicy(), deadline: wallClock() + 5))
        #expect(
            outcomes.map(\.status) == [
                .gaveUp(
                    attempts: 0,
                    lastError: "the server asked to wait 60.0 s (Retry-After), past the run's deadline (last problem: "
                        + "GET /api/v2/roles: 429 Too Many Requests: slow down)")
            ])
    }

    /// `x-ratelimit-remaining: 0` with a reset far away pauses the pacer; past the deadline, that pause is named.
    @Test func aRateLimitPausePastTheDeadlineIsNamed() throws {
        let server = try HostileServer { request, _ in
            let reply = HostileServer.wellBehaved(request)
            guard case .respond(let status, let headers, let body) = reply else { return reply }
            let reset = String(Int(wallClock()) + 1_000)
            return .respond(
                status: status, headers: headers + [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)],
                body: body)
        }
        defer { server.stop() }
        let client = H.client(server, log: RecordingLog(), deadline: wallClock() + 5)
        let outcomes = H.apply(client)
        #expect(
            outcomes.map(\.status) == [
                .gaveUp(
                    attempts: 0,
                    lastError: "the server asked to wait 60.0 s (x-ratelimit-remaining=0 until x-ratelimit-reset), "
                        + "past the run's deadline")
            ])
        #expect(server.requests.count == 1, "only the token request went out")
    }

    // MARK: F7. loopback means a canonical 127.x.y.z

    @Test(arguments: [
        ("127.0.0.1", true), ("127.0.0.0", true), ("127.255.255.255", true), ("localhost", true),
        ("127.0.0.099", false), ("127.0.0.01", false), ("127.00.0.1", false), ("0127.0.0.1", false),
        ("127.0.0.256", false), ("127.0.1", false),
    ])
    func loopbackIsACanonicalDottedQuad(host: String, loopback: Bool) throws {
        #expect(try Endpoint(parsing: "http://\(host):8080").isLoopback == loopback)
        let configuration = TenantConfiguration(
            domain: "acme.auth0.com", clientID: "id", clientSecret: "s", baseURL: "http://\(host):8080")
        if loopback {
            #expect(throws: Never.self) { try configuration.validate(allowHTTP: false) }
        } else {
            #expect(throws: ConfigurationError.self) { try configuration.validate(allowHTTP: false) }
        }
    }

    // MARK: F8. smaller ones

    /// 304 is no redirect (and no answer the API gives): reported as an unexpected status.
    @Test func aNotModifiedIsAnUnexpectedStatus() throws {
        let server = try HostileServer { _, _ in .respond(status: 304, headers: [], body: "") }
        defer { server.stop() }
        let outcomes = H.apply(H.client(server, log: RecordingLog()))
        #expect(
            outcomes.map(\.status) == [
                .failed(
                    status: 304, errorCode: "unexpected_status",
                    message: "HTTP 304 is not an answer the Management API gives")
            ])
    }

    /// Retry-After is delta-seconds (digits) or an HTTP-date; what `Double()` also reads is not.
    @Test(
        arguments: [
            ("5", 5.0), (" 7 ", 7), ("0", 0), ("0x10", nil), ("+5", nil), ("-5", nil), ("inf", nil), ("1e3", nil),
            ("1.5", nil), ("nan", nil), ("9999999999999", nil),
        ] as [(String, Double?)])
    func retryAfterIsDigitsOrADate(text: String, seconds: Double?) {
        #expect(NetworkValue.retryAfter(text, now: 0) == seconds)
    }

    @Test func tenantFileValuesAreUnquotedAsAShellWould() {
        let text = #"""
            AUTH0_DOMAIN="acme.auth0.com"
            AUTH0_CLIENT_ID='abc "def"'
            AUTH0_CLIENT_SECRET="a\"b\\c\$d\ne"
            AUTH0_BASE_URL='unbalanced
            EMPTY=""
            """#
        #expect(
            TenantFile.settings(Array(text.utf8)) == [
                "AUTH0_DOMAIN": "acme.auth0.com", "AUTH0_CLIENT_ID": #"abc "def""#,
                "AUTH0_CLIENT_SECRET": #"a"b\c$d\ne"#, "AUTH0_BASE_URL": "'unbalanced", "EMPTY": "",
            ])
    }
}
