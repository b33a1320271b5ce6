import Foundation
import Logging
import NIOConcurrencyHelpers
import RolecallEffects
import RolecallEngine
import RolecallJSON
import RolecallLanguage
import RolecallSandbox
import Testing

/// Issue 8: the client pointed at a hostile or broken Management API. Every test bounds its own time, checks the
/// honest outcome, and that neither the secret nor the token shows in any outcome or log line.
@Suite(.serialized, .timeLimit(.minutes(1))) struct HardeningTests {
    static let secret = "s3cr3t-hostile-value"

    /// Waits the client asked for, recorded instead of slept where a real wait could last a day.
    final class Waits: Sendable {
        let seconds = NIOLockedValueBox<[Double]>([])
        var all: [Double] { seconds.withLockedValue { $0 } }
        func record(_ value: Double) { seconds.withLockedValue { $0.append(value) } }
    }

    /// A retry policy with short waits, so a test spends milliseconds where production spends seconds.
    static func quickPolicy(attempts: Int = 3) -> RetryPolicy {
        var policy = RetryPolicy()
        policy.maxAttempts = attempts
        policy.baseBackoff = 0.01
        policy.minimumResetWait = 0.01
        policy.maximumWait = 0.2
        return policy
    }

    /// A client for `server`, recording its log in `log`; `waits` records waits instead of sleeping them.
    /// A well-behaved server whose every answer says no requests remain until `reset`.
    static func noneRemaining(reset: String) throws -> HostileServer {
        try HostileServer { request, _ in
            guard case .respond(let status, let headers, let body) = HostileServer.wellBehaved(request) else {
                return .close
            }
            return .respond(
                status: status, headers: headers + [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)],
                body: body)
        }
    }

    static func client(
        _ server: HostileServer, log: RecordingLog, policy: RetryPolicy = quickPolicy(),
        timeouts: CurlClient.Timeouts = .init(connectMilliseconds: 1_000, totalMilliseconds: 2_000),
        deadline: Double? = nil, waits: Waits? = nil, maximumWait: Double = 60
    ) -> ManagementClient {
        let sleep: @Sendable (Double) -> Void = { seconds in
            if let waits { waits.record(seconds) } else { sleepSeconds(seconds) }
        }
        return ManagementClient(
            configuration: TenantConfiguration(
                domain: "hostile.example", clientID: "client", clientSecret: secret, baseURL: server.baseURL),
            http: CurlClient(timeouts: timeouts),
            limiter: RateLimiter(rate: 1000, maximumWait: maximumWait, logger: log.logger(), sleep: sleep),
            policy: policy, logger: log.logger(), deadline: deadline, sleep: sleep)
    }

    /// Plans and applies `assign` for `user` through `client`, which must come back within `limit` seconds
    /// (every hostile mode here ends in well under that with the fixes, and in a hang or a trap without them).
    static func apply(
        _ client: ManagementClient, user: String = "auth0|1", assign: [String] = ["member"], limit: Double = 5
    ) -> [EffectOutcome] {
        var decision = Decision(assign: assign, revoke: [], roles: [], matched: ["r"], errors: [])
        for role in assign { decision.decidedBy[ExactString(role)] = "rule for \(role)" }
        decision.userID = user
        let plan = try! UserPlan.make(decision)
        let start = wallClock()
        let outcomes = EffectRunner(client: client).apply(plan)
        #expect(wallClock() - start < limit, "applying took longer than \(limit) s")
        return outcomes
    }

    /// Neither the client secret nor `token` appears in the outcomes or the log.
    static func expectNoSecrets(_ outcomes: [EffectOutcome], _ log: RecordingLog, token: String? = nil) {
        let logged = log.entries.withLockedValue { $0.map { "\($0.1) \($0.2)" } }.joined(separator: "\n")
        let text = outcomes.map(\.text).joined(separator: "\n") + logged
        #expect(!text.contains(secret), "the client secret leaked")
        #expect(!text.contains(HostileServer.goodToken), "the access token leaked")
        if let token { #expect(!text.contains(token), "the access token leaked") }
    }

    static func elapsed(_ body: () throws -> Void) rethrows -> Double {
        let start = wallClock()
        try body()
        return wallClock() - start
    }

    // MARK: 1. numbers from the network

    /// A reset that is not a sensible Unix time on a 2xx (which trapped converting to Int) is ignored.
    @Test(arguments: ["inf", "1e300", "nan", "-inf", "-5", "99999999999999999999", "0x1p70", ""])
    func anAbsurdResetOnASuccessIsIgnored(reset: String) throws {
        let server = try Self.noneRemaining(reset: reset)
        defer { server.stop() }
        let log = RecordingLog()
        let waits = Waits()
        let client = Self.client(server, log: log, waits: waits)
        var outcomes: [EffectOutcome] = []
        let seconds = Self.elapsed {
            outcomes = Self.apply(client, user: "a") + Self.apply(client, user: "b")
        }
        #expect(outcomes.map(\.status) == [.done, .done])
        #expect(waits.all.allSatisfy { $0 <= 0.01 }, "no pause for an unknown reset: \(waits.all)")
        #expect(seconds < 3)
        Self.expectNoSecrets(outcomes, log)
    }

    /// NaN or infinity in the headers of a 429 (NaN trapped while logging the wait) falls back to backoff.
    @Test(arguments: ["nan", "inf", "1e300", "-1"])
    func anAbsurdResetOrRetryAfterOnA429FallsBackToBackoff(value: String) throws {
        let server = try HostileServer { request, index in
            if request.path == "/api/v2/users/auth0%7C1/roles", index < 4 {
                return HostileServer.json(
                    429, #"{"statusCode":429,"error":"Too Many Requests","message":"slow down"}"#,
                    [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", value), ("Retry-After", value)])
            }
            return HostileServer.wellBehaved(request)
        }
        defer { server.stop() }
        let log = RecordingLog()
        let outcomes = Self.apply(Self.client(server, log: log, policy: Self.quickPolicy(attempts: 5)))
        #expect(outcomes.map(\.status) == [.done])
        #expect(!log.waits.isEmpty && log.waits.allSatisfy { $0["wait.reason"] == "backoff" }, "\(log.waits)")
    }

    /// A `total` of 1e300 (which trapped) is an unknown total; paging goes on by page size.
    @Test func anAbsurdTotalIsUnknown() throws {
        let server = try HostileServer { request, _ in
            guard request.path == "/api/v2/roles" else { return HostileServer.wellBehaved(request) }
            let page = request.target.contains("page=1&") ? #"[{"id":"rol_member","name":"member"}]"# : "[]"
            let roles = request.target.contains("page=0&") ? Self.rolePage(from: 0) : page
            return HostileServer.json(200, #"{"roles":\#(roles),"total":1e300}"#)
        }
        defer { server.stop() }
        let log = RecordingLog()
        #expect(Self.apply(Self.client(server, log: log)).map(\.status) == [.done])
    }

    @Test func networkValuesAreReadDefensively() {
        #expect(NetworkValue.count("0") == 0)
        #expect(NetworkValue.count("1e300") == nil && NetworkValue.count("-1") == nil && NetworkValue.count("") == nil)
        #expect(NetworkValue.count("99999999999999999999") == nil)
        #expect(NetworkValue.unixTime("1700000000") == 1_700_000_000)
        for absurd in ["nan", "inf", "-inf", "1e300", "-1", "253402300800", "x"] {
            #expect(NetworkValue.unixTime(absurd) == nil, "\(absurd)")
        }
        #expect(NetworkValue.unixTime("253402300799") == 253_402_300_799)
        #expect(NetworkValue.integer(1e300, in: 0...1_000) == nil)
        #expect(NetworkValue.integer(.nan, in: 0...1_000) == nil)
        #expect(NetworkValue.integer(1_000, in: 0...1_000) == 1_000)
        #expect(NetworkValue.integer(1_001, in: 0...1_000) == nil)
        #expect(NetworkValue.retryAfter("7", now: 0) == 7)
        #expect(NetworkValue.retryAfter("-7", now: 0) == nil)
        #expect(NetworkValue.retryAfter("nan", now: 0) == nil)
    }

    @Test func httpDatesInAllThreeForms() {
        let expected = 784_111_777.0  // 1994-11-06 08:49:37 UTC
        #expect(NetworkValue.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == expected)
        #expect(NetworkValue.httpDate("Sunday, 06-Nov-94 08:49:37 GMT") == expected)
        #expect(NetworkValue.httpDate("Sun Nov  6 08:49:37 1994") == expected)
        #expect(NetworkValue.httpDate("Thu, 29 Feb 2024 00:00:00 GMT") == 1_709_164_800)
        for bad in [
            "Fri, 29 Feb 2023 00:00:00 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 PST", "tomorrow", "Sun, 06 Nov 99999 08:49:37 GMT",
        ] {
            #expect(NetworkValue.httpDate(bad) == nil, "\(bad)")
        }
        #expect(NetworkValue.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: expected - 5) == 5)
        #expect(NetworkValue.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: expected + 5) == 0)
    }

    // MARK: 2. bounded waits

    /// A reset 100,000 s away pauses the pacer for the cap, and says so in the log.
    @Test func aResetFarInTheFutureIsCappedAndLogged() throws {
        let reset = String(Int(wallClock()) + 100_000)
        let server = try Self.noneRemaining(reset: reset)
        defer { server.stop() }
        let log = RecordingLog()
        let waits = Waits()
        let outcomes = Self.apply(Self.client(server, log: log, waits: waits, maximumWait: 60))
        #expect(outcomes.map(\.status) == [.done])
        #expect(!waits.all.isEmpty && waits.all.allSatisfy { $0 <= 60 }, "\(waits.all)")
        let pauses = log.entries.withLockedValue {
            $0.filter { $0.1 == "pausing requests until the rate limit resets" }
        }
        #expect(!pauses.isEmpty && pauses.allSatisfy { $0.2["wait.seconds"] == "60.0" }, "\(pauses)")
    }

    /// `Retry-After` as an HTTP-date is obeyed (it used to be ignored for the reset header's 30 s).
    @Test func retryAfterAsAnHTTPDateIsObeyed() {
        var policy = RetryPolicy()
        policy.maximumWait = 60
        let now = 1_700_000_000.0
        let date = "Tue, 14 Nov 2023 22:13:25 GMT"  // now + 5
        let (wait, reason) = policy.wait(
            afterAttempt: 1, headers: ["retry-after": date, "x-ratelimit-reset": String(Int(now) + 30)], now: now,
            random: 0.5)
        #expect(reason == .retryAfter)
        #expect(wait == 5)
        #expect(
            policy.wait(afterAttempt: 1, headers: ["retry-after": "Fri, 01 Jan 9999 00:00:00 GMT"], now: now, random: 0)
                == (60, .retryAfter))
    }

    /// The same through the client, against a server sending a 429 with both headers.
    @Test func aRetryAfterDateOnA429IsWhatTheClientWaits() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let server = try HostileServer { request, index in
            guard request.path.hasPrefix("/api/v2/users/"), index == 2 else {
                return HostileServer.wellBehaved(request)
            }
            let now = Date()
            return HostileServer.json(
                429, #"{"statusCode":429,"error":"Too Many Requests","message":"slow down"}"#,
                [
                    ("Retry-After", formatter.string(from: now.addingTimeInterval(3))),
                    ("x-ratelimit-reset", String(Int(now.timeIntervalSince1970) + 30)),
                ])
        }
        defer { server.stop() }
        let log = RecordingLog()
        let waits = Waits()
        var policy = RetryPolicy()
        policy.maximumWait = 60
        let outcomes = Self.apply(Self.client(server, log: log, policy: policy, waits: waits))
        #expect(outcomes.map(\.status) == [.done])
        #expect(log.waits.map { $0["wait.reason"] } == ["Retry-After"])
        let wait = waits.all.max() ?? 0
        #expect(wait > 1 && wait <= 3, "\(waits.all)")
    }

    /// Found by an attack: a `Retry-After` HTTP-date in the past made every retry of a 429 follow at once
    /// (`wait.seconds=0.0`, back to back); it now waits at least the second a past `x-ratelimit-reset` waits.
    @Test func aRetryAfterDateInThePastWaitsASecond() throws {
        let server = try HostileServer { request, index in
            guard request.path.hasPrefix("/api/v2/users/"), index == 2 || index == 3 else {
                return HostileServer.wellBehaved(request)
            }
            return HostileServer.json(
                429, #"{"statusCode":429,"error":"Too Many Requests","message":"slow down"}"#,
                [("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")])
        }
        defer { server.stop() }
        let log = RecordingLog()
        let waits = Waits()
        let outcomes = Self.apply(Self.client(server, log: log, policy: RetryPolicy(), waits: waits))
        #expect(outcomes.map(\.status) == [.done])
        #expect(log.waits.map { $0["wait.reason"] } == ["Retry-After", "Retry-After"])
        #expect(waits.all.count >= 2 && waits.all.allSatisfy { $0 >= 1 }, "\(waits.all)")
        let policy = RetryPolicy()
        #expect(
            policy.wait(afterAttempt: 1, headers: ["retry-after": "Sun, 06 Nov 1994 08:49:37 GMT"], now: 1e9, random: 0)
                == (1, .retryAfter))
        // Delta-seconds are the server's own count: 0 stays 0.
        #expect(policy.wait(afterAttempt: 1, headers: ["retry-after": "0"], now: 1e9, random: 0) == (0, .retryAfter))
    }

    /// A total timeout of 0 (libcurl's "none") or less still ends a request to a server dripping a byte at a time.
    @Test(arguments: [0, -1])
    func aNonPositiveTimeoutStillEndsARequest(milliseconds: Int) throws {
        let server = try HostileServer(connectionLifetime: 4) { _, _ in
            .drip("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + String(repeating: "x", count: 100), interval: 0.2)
        }
        defer { server.stop() }
        let log = RecordingLog()
        var outcomes: [EffectOutcome] = []
        let seconds = Self.elapsed {
            outcomes = Self.apply(
                Self.client(
                    server, log: log, policy: Self.quickPolicy(attempts: 2),
                    timeouts: .init(connectMilliseconds: milliseconds, totalMilliseconds: milliseconds)))
        }
        #expect(seconds < 2, "the request ran until the server gave up (\(seconds) s)")
        guard case .gaveUp(2, let last)? = outcomes.first?.status else {
            Issue.record("expected to give up, got \(outcomes.map(\.text))")
            return
        }
        #expect(last.lowercased().contains("timeout") || last.lowercased().contains("timed out"), "\(last)")
    }

    /// A dead token endpoint fails every call at the run's deadline, not after 8 attempts per role.
    @Test func aDeadTokenEndpointEndsAtTheDeadline() throws {
        let server = try HostileServer { _, _ in .close }
        defer { server.stop() }
        let log = RecordingLog()
        let client = Self.client(server, log: log, policy: RetryPolicy(), deadline: wallClock() + 1.5)
        var outcomes: [EffectOutcome] = []
        let seconds = Self.elapsed {
            for user in ["a", "b", "c"] { outcomes += Self.apply(client, user: user) }
        }
        #expect(seconds < 2.5, "\(seconds) s")
        #expect(client.deadlineFailure != nil)
        #expect(client.tokenFailure != nil)
        #expect(outcomes.count == 3)
        for outcome in outcomes {
            guard case .gaveUp(0, let last) = outcome.status else {
                Issue.record("expected the deadline, got \(outcome.text)")
                continue
            }
            #expect(last.hasPrefix("the run's deadline passed"), "\(last)")
        }
        #expect(server.requests.allSatisfy { $0.path == "/oauth/token" })
        Self.expectNoSecrets(outcomes, log)
    }

    /// Without a token every role of a plan fails the same way, after one round of attempts, not one per role.
    @Test func aDeadTokenEndpointCostsOneRoundPerPlan() throws {
        let server = try HostileServer { request, _ in
            request.path == "/oauth/token" ? .close : HostileServer.wellBehaved(request)
        }
        defer { server.stop() }
        let log = RecordingLog()
        let client = Self.client(server, log: log, policy: Self.quickPolicy(attempts: 3))
        let outcomes = Self.apply(client, assign: ["member", "staff", "admin"])
        #expect(server.requests.count == 3, "\(server.requests.map(\.path))")
        #expect(outcomes.count == 3)
        #expect(outcomes.allSatisfy { $0.status == outcomes[0].status }, "\(outcomes.map(\.text))")
        #expect(outcomes.allSatisfy { $0.status.isGaveUp })
        #expect(client.tokenFailure != nil)
    }

    // MARK: 3. pagination

    /// A page of 50 roles numbered from `first`, none named `member`.
    static func rolePage(from first: Int, count: Int = 50) -> String {
        "[" + (first..<first + count).map { #"{"id":"rol_\#($0)","name":"other-\#($0)"}"# }.joined(separator: ",") + "]"
    }

    /// A server listing `roles` roles (none of them the one asked for), in full pages and without a total.
    static func listing(roles: Int) throws -> HostileServer {
        try HostileServer { request, _ in
            guard request.path == "/api/v2/roles" else { return HostileServer.wellBehaved(request) }
            let page = Int(request.target.split(separator: "&").first { $0.hasPrefix("page=") }!.dropFirst(5))!
            let first = page * 50
            return HostileServer.json(200, rolePage(from: first, count: max(0, min(50, roles - first))))
        }
    }

    @Test func endlessFullPagesStopPastTheTenantLimit() throws {
        let server = try Self.listing(roles: Int.max / 2)
        defer { server.stop() }
        let log = RecordingLog()
        let client = Self.client(server, log: log)
        var outcomes: [EffectOutcome] = []
        let seconds = Self.elapsed { outcomes = Self.apply(client) }
        #expect(seconds < 5)
        #expect(server.requests.filter { $0.path == "/api/v2/roles" }.count == 21)
        guard case .gaveUp(_, let last)? = outcomes.first?.status else {
            Issue.record("expected an invalid response, got \(outcomes.map(\.text))")
            return
        }
        #expect(last == "invalid response from GET /api/v2/roles: more than 1000 roles, more than a tenant can have")
        // Remembered for the run: the next user fails the same way without paging 21 times again.
        #expect(Self.apply(client, user: "auth0|2").map(\.status) == outcomes.map(\.status))
        #expect(server.requests.filter { $0.path == "/api/v2/roles" }.count == 21)
    }

    /// A tenant with exactly 1,000 roles is listed to the end; one more is more than a tenant can have.
    @Test(arguments: [(1_000, true), (1_001, false)])
    func theTenantLimitIsExact(roles: Int, complete: Bool) throws {
        let server = try Self.listing(roles: roles)
        defer { server.stop() }
        let outcomes = Self.apply(Self.client(server, log: RecordingLog()))
        if complete {
            #expect(
                outcomes.map(\.status) == [
                    .failed(status: 404, errorCode: "unknown_role", message: "the tenant has no role named \"member\"")
                ])
        } else {
            #expect(outcomes.first?.status.isGaveUp == true, "\(outcomes.map(\.text))")
        }
    }

    @Test func aRepeatedPageStopsThePaging() throws {
        let server = try HostileServer { request, _ in
            guard request.path == "/api/v2/roles" else { return HostileServer.wellBehaved(request) }
            return HostileServer.json(200, Self.rolePage(from: 0))
        }
        defer { server.stop() }
        let outcomes = Self.apply(Self.client(server, log: RecordingLog()))
        #expect(server.requests.filter { $0.path == "/api/v2/roles" }.count == 2)
        #expect(
            outcomes.map(\.status) == [
                .gaveUp(
                    attempts: 1,
                    lastError: "invalid response from GET /api/v2/roles: page 1 repeats roles already listed")
            ])
    }

    // MARK: 4. invalid responses

    @Test func htmlInsteadOfJSONIsRetriedThenReportedAndNeverCached() throws {
        let html = HostileServer.Reply.respond(
            status: 200, headers: [("Content-Type", "text/html")],
            body: "<html><body>Sign in to the Wi-Fi</body></html>")
        let server = try HostileServer { request, _ in
            request.path == "/api/v2/roles" ? html : HostileServer.wellBehaved(request)
        }
        defer { server.stop() }
        let log = RecordingLog()
        let client = Self.client(server, log: log)
        let first = Self.apply(client, user: "auth0|1")
        let second = Self.apply(client, user: "auth0|2")
        let expected = EffectOutcome.Status.gaveUp(
            attempts: 3,
            lastError: "invalid response from GET /api/v2/roles: HTTP 200 with a body that is not JSON "
                + "(Content-Type text/html)")
        #expect(first.map(\.status) == [expected])
        #expect(second.map(\.status) == [expected], "the failure was cached")
        #expect(server.requests.filter { $0.path == "/api/v2/roles" }.count == 6)
        #expect(
            first[0].text.hasPrefix("GAVE UP  assign member to auth0|1 (rule \"rule for member\") after 3 attempts"))
        #expect(!server.requests.contains { $0.path.hasPrefix("/api/v2/users/") }, "a role change was attempted")
    }

    @Test(arguments: [
        #"{"roles":"member"}"#, #"{"users":[]}"#, #"[{"id":1,"name":"member"}]"#, #""member""#, "null",
    ])
    func aWrongShapeIsAnInvalidResponse(body: String) throws {
        let server = try HostileServer { request, index in
            // Invalid once, then a real answer: the retry gets it, and only that is used.
            request.path == "/api/v2/roles" && index == 1
                ? HostileServer.json(200, body) : HostileServer.wellBehaved(request)
        }
        defer { server.stop() }
        let log = RecordingLog()
        let client = Self.client(server, log: log)
        #expect(Self.apply(client).map(\.status) == [.done])
        #expect(client.statistics.retries == 1)
        #expect(log.waits.first?["problem"]?.description.hasPrefix("invalid response from GET /api/v2/roles") == true)
    }

    // MARK: 5. requests where they must not go

    @Test(arguments: ["dict", "gopher", "ldap", "ftp", "smtp", "telnet", "file", "scp", "HTTPS+x"])
    func onlyHTTPSOrLoopbackHTTPIsSpoken(scheme: String) throws {
        let server = try HostileServer { request, _ in HostileServer.wellBehaved(request) }
        defer { server.stop() }
        let url = "\(scheme)://127.0.0.1:\(server.port)/oauth/token"
        #expect(throws: TransportError.self) { try CurlClient().send(HTTPRequest(method: "GET", url: url)) }
        #expect(throws: ConfigurationError.self) {
            try TenantConfiguration.fromEnvironment([
                "AUTH0_DOMAIN": "acme.auth0.com", "AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": Self.secret,
                "AUTH0_BASE_URL": "\(scheme)://127.0.0.1:\(server.port)",
            ])
        }
        Thread.sleep(forTimeInterval: 0.1)
        #expect(server.connections == 0)
    }

    @Test func plainHTTPGoesOnlyToLoopbackUnlessAllowed() throws {
        let refused = #expect(throws: TransportError.self) {
            try CurlClient().send(HTTPRequest(method: "GET", url: "http://192.0.2.1:9/oauth/token"))
        }
        #expect(refused?.message.contains("refused to send plain http") == true)
        for base in [
            "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2", "https://acme.auth0.com",
            "https://proxy.example.com/auth0/",
        ] {
            #expect(throws: Never.self) {
                try TenantConfiguration(domain: "acme.auth0.com", clientID: "a", clientSecret: "b", baseURL: base)
                    .validate(allowHTTP: false)
            }
        }
        for base in ["http://192.0.2.1", "http://127.0.0.1.evil.example", "http://10.0.0.1:80"] {
            let configuration = TenantConfiguration(
                domain: "acme.auth0.com", clientID: "a", clientSecret: "b", baseURL: base)
            #expect(throws: ConfigurationError.self) { try configuration.validate(allowHTTP: false) }
            #expect(throws: Never.self) { try configuration.validate(allowHTTP: true) }
        }
    }

    @Test(arguments: [
        "acme.auth0.com@127.0.0.2:18081", "acme.auth0.com:443", "acme.auth0.com/x", "https://acme.auth0.com",
        "acme.auth0.com#", "acme .auth0.com", "acme.auth0.com\r\nx", "-acme.auth0.com", "acme..auth0.com", "",
        "a%40b.com",
    ])
    func theDomainMustBeAHostName(domain: String) {
        let configuration = TenantConfiguration(domain: domain, clientID: "a", clientSecret: "b")
        #expect(throws: ConfigurationError.self) { try configuration.validate(allowHTTP: false) }
    }

    @Test(arguments: [
        "https://user@acme.auth0.com", "https://acme.auth0.com@127.0.0.2", "https://acme.auth0.com:70000",
        "https://acme.auth0.com:0", "https://acme.auth0.com:+443", "https://acme.auth0.com/a b", "https://",
        "https://acme.auth0.com?x=1", "https://acme.auth0.com/#x", "https://acme.auth0.com/\r\nX: y", "acme.auth0.com",
    ])
    func theBaseURLHasNoTricks(base: String) {
        let configuration = TenantConfiguration(
            domain: "acme.auth0.com", clientID: "a", clientSecret: "b", baseURL: base)
        #expect(throws: ConfigurationError.self) { try configuration.validate(allowHTTP: true) }
    }

    @Test func aValidDomainIsAccepted() throws {
        for domain in ["acme.auth0.com", "acme.eu.auth0.com", "login.example-corp.io", "sandbox.rolecall.test"] {
            #expect(throws: Never.self) {
                try TenantConfiguration(domain: domain, clientID: "a", clientSecret: "b").validate(allowHTTP: false)
            }
        }
    }

    /// A token with CR/LF in it would add a header to every API call; it is refused and never sent.
    @Test(arguments: ["tok\\r\\nX-Injected: yes", "tok\\nX-Injected: yes", "tok en", "tok\\u0000x", ""])
    func aTokenThatCannotTravelInAHeaderIsRefused(token: String) throws {
        let server = try HostileServer { request, _ in
            request.path == "/oauth/token"
                ? HostileServer.json(200, #"{"access_token":"\#(token)","expires_in":86400}"#)
                : HostileServer.wellBehaved(request)
        }
        defer { server.stop() }
        let log = RecordingLog()
        let outcomes = Self.apply(Self.client(server, log: log))
        #expect(!server.requests.contains { $0.path != "/oauth/token" }, "an API request was sent")
        #expect(!server.requests.contains { $0.header("X-Injected") != nil })
        #expect(
            outcomes.map(\.status) == [
                .gaveUp(
                    attempts: 3,
                    lastError: "invalid response from POST /oauth/token: the access token is empty, too long, "
                        + "or has characters a header cannot carry")
            ])
        Self.expectNoSecrets(outcomes, log, token: "X-Injected")
        #expect(!outcomes.map(\.text).joined().contains("tok en"))
    }

    @Test func aHeaderWithALineBreakIsNeverSent() throws {
        let server = try HostileServer { request, _ in HostileServer.wellBehaved(request) }
        defer { server.stop() }
        #expect(throws: TransportError.self) {
            try CurlClient().send(
                HTTPRequest(method: "GET", url: server.baseURL + "/x", headers: [("Authorization", "Bearer a\r\nX: y")])
            )
        }
        #expect(server.requests.isEmpty)
    }

    /// Redirects are reported, not followed: the other server hears nothing, the secret stays home.
    @Test func redirectsAreNotFollowed() throws {
        let elsewhere = try HostileServer { request, _ in HostileServer.wellBehaved(request) }
        defer { elsewhere.stop() }
        let server = try HostileServer { _, _ in
            .respond(status: 307, headers: [("Location", elsewhere.baseURL + "/oauth/token")], body: "")
        }
        defer { server.stop() }
        let log = RecordingLog()
        let outcomes = Self.apply(Self.client(server, log: log))
        #expect(elsewhere.connections == 0)
        #expect(
            outcomes.map(\.status) == [
                .failed(
                    status: 307, errorCode: "redirect",
                    message: "the server redirected to `\(elsewhere.baseURL)/oauth/token`; redirects are not followed")
            ])
        Self.expectNoSecrets(outcomes, log)
    }

    /// An endless header section is cut off at 256 KiB (libcurl 7.88 limits only each line), not buffered.
    @Test func anEndlessHeaderSectionIsCutOff() throws {
        let line = "X-Padding: " + String(repeating: "p", count: 1_000) + "\r\n"
        let server = try HostileServer { _, _ in
            .raw("HTTP/1.1 200 OK\r\n" + String(repeating: line, count: 300) + "Content-Length: 2\r\n\r\n{}")
        }
        defer { server.stop() }
        let refused = #expect(throws: TransportError.self) {
            try CurlClient().send(HTTPRequest(method: "GET", url: server.baseURL + "/api/v2/roles"))
        }
        #expect(refused?.message.hasPrefix("response too large") == true, "\(String(describing: refused))")
    }

    // MARK: 6. forged report lines

    @Test func aUserIDWithANewlineCannotForgeAReportLine() throws {
        let server = try HostileServer { request, _ in HostileServer.wellBehaved(request) }
        defer { server.stop() }
        let forged = "auth0|1\ndone     assign admin to auth0|victim (rule \"admins\")"
        let outcomes = Self.apply(Self.client(server, log: RecordingLog()), user: forged)
        let text = outcomes.map { $0.text + "\n" }.joined()
        #expect(text.split(separator: "\n").count == 1, "\(text)")
        #expect(
            text
                == #"done     assign member to "auth0|1\ndone     assign admin to auth0|victim (rule \"admins\")" (rule "rule for member")"#
                + "\n")
        var decision = Decision(assign: ["member"], revoke: [], roles: [], matched: [], errors: [])
        decision.userID = forged
        let plan = try UserPlan.make(decision)
        #expect(plan.text.split(separator: "\n").count == 1, "\(plan.text)")
    }

    @Test func aServerMessageWithControlCharactersStaysOnItsLine() throws {
        let server = try HostileServer { request, _ in
            request.path.hasPrefix("/api/v2/users/")
                ? HostileServer.json(
                    400, #"{"statusCode":400,"errorCode":"bad\ncode","message":"no\r\ndone     assign admin\u001b[2K"}"#
                )
                : HostileServer.wellBehaved(request)
        }
        defer { server.stop() }
        let outcomes = Self.apply(Self.client(server, log: RecordingLog()))
        #expect(
            outcomes.map(\.text) == [
                #"FAILED   assign member to auth0|1 (rule "rule for member"): 400 "bad\ncode": no\r\ndone     assign admin\u{1b}[2K"#
            ])
    }

    @Test func humanTextKeepsPlainWordsAndQuotesTheRest() {
        #expect(HumanText.word("auth0|64f1c0a1ada00002") == "auth0|64f1c0a1ada00002")
        #expect(HumanText.word("jürgen") == "jürgen")
        #expect(HumanText.word("a b") == #""a b""#)
        #expect(HumanText.word("") == #""""#)
        #expect(HumanText.word("a\u{202E}b") == #""a\u{202e}b""#)
        #expect(HumanText.word("a\u{2028}b") == #""a\u{2028}b""#)
        #expect(HumanText.line("one\ntwo\u{7F}") == #"one\ntwo\u{7f}"#)
    }

    // MARK: 8. smaller items

    /// `expires_in` of 0 or less no longer means a token request before every API request.
    @Test(arguments: [0, -5, 1e-9])
    func aTokenLifetimeBelowTheFloorIsRaisedWithAWarning(expiresIn: Double) throws {
        let server = try HostileServer { request, _ in
            request.path == "/oauth/token"
                ? HostileServer.json(200, #"{"access_token":"\#(HostileServer.goodToken)","expires_in":\#(expiresIn)}"#)
                : HostileServer.wellBehaved(request)
        }
        defer { server.stop() }
        let log = RecordingLog()
        let client = Self.client(server, log: log)
        for user in ["a", "b", "c"] { #expect(Self.apply(client, user: user).map(\.status) == [.done]) }
        #expect(server.requests.filter { $0.path == "/oauth/token" }.count == 1)
        #expect(client.statistics.tokens == 1)
        let warnings = log.entries.withLockedValue { $0.filter { $0.0 == .warning } }
        #expect(warnings.count == 1 && warnings[0].2["token.lifetime"] == "60.0", "\(warnings)")
    }

    @Test func tenantFilesWithCRLFLinesAreRead() {
        let text =
            "# tenant\r\nAUTH0_DOMAIN=acme.auth0.com\r\nexport AUTH0_CLIENT_ID = abc \r\n\r\nAUTH0_CLIENT_SECRET=x=y\r\n"
        #expect(
            TenantFile.settings(Array(text.utf8)) == [
                "AUTH0_DOMAIN": "acme.auth0.com", "AUTH0_CLIENT_ID": "abc", "AUTH0_CLIENT_SECRET": "x=y",
            ])
    }

    /// A kept-alive connection that dies under a request is resent by libcurl on its own: it counts as a retry.
    @Test func aRequestLibcurlResentIsCountedAsARetry() throws {
        let harness = try Harness()
        _ = try harness.apply(user: "warm", assign: ["member"])  // token and role id cached, connection kept alive
        #expect(harness.client.statistics.retries == 0)
        harness.sandbox.inject { $0.droppedConnections = 1 }
        #expect(try harness.apply(user: "auth0|2", assign: ["member"]).map(\.status) == [.done])
        #expect(harness.sandbox.log.filter { $0.status == 0 }.count == 1)
        #expect(harness.client.statistics.retries == 1)
        #expect(harness.log.waits.isEmpty, "the runner itself retried, so libcurl did not resend")
        #expect(
            harness.log.entries.withLockedValue {
                $0.contains { $0.1 == "libcurl sent a request again on a new connection after the kept-alive one died" }
            })
        #expect(harness.sandbox.changes["auth0|2|\(harness.id("member"))|assign"] == 1)
    }
}

extension EffectOutcome.Status {
    var isGaveUp: Bool {
        if case .gaveUp = self { return true }
        return false
    }
}
