import Logging
import NIOConcurrencyHelpers
import RolecallEffects
import RolecallEngine
import RolecallLanguage
import RolecallSandbox
import Testing

/// Records log messages so tests can check what the runner said about waiting.
final class RecordingLog: Sendable {
    let entries = NIOLockedValueBox<[(Logger.Level, String, Logger.Metadata)]>([])

    func logger() -> Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: RecordingLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.entries.withLockedValue { $0.append((event.level, event.message.description, event.metadata ?? [:])) }
        }
    }

    var waits: [Logger.Metadata] {
        entries.withLockedValue { $0.filter { $0.1 == "waiting before retrying a Management API request" }.map(\.2) }
    }
}

/// A running sandbox and a client for it; the sandbox stops when the value is gone.
final class Harness {
    let sandbox: Sandbox
    let client: ManagementClient
    let runner: EffectRunner
    let log = RecordingLog()

    init(
        _ configure: (inout Sandbox.Configuration) -> Void = { _ in }, rate: Double = 1000, burst: Double? = nil,
        timeouts: CurlClient.Timeouts = CurlClient.Timeouts(), policy: RetryPolicy = RetryPolicy()
    ) throws {
        var configuration = Sandbox.Configuration.seeded()
        configure(&configuration)
        sandbox = Sandbox(configuration)
        let port = try sandbox.start()
        let tenant = TenantConfiguration(
            domain: configuration.domain, clientID: configuration.clientID, clientSecret: configuration.clientSecret,
            baseURL: "http://127.0.0.1:\(port)")
        client = ManagementClient(
            configuration: tenant, http: CurlClient(timeouts: timeouts), limiter: RateLimiter(rate: rate, burst: burst),
            policy: policy, logger: log.logger())
        runner = EffectRunner(client: client, logger: log.logger())
    }

    deinit { sandbox.shutdown() }

    func id(_ name: String) -> String {
        sandbox.configuration.roles.first { $0.name == name }!.id
    }

    /// Plans and applies a decision assigning `assign` and revoking `revoke` for `user` holding `held`.
    func apply(user: String, assign: [String] = [], revoke: [String] = [], held: [String] = []) throws
        -> [EffectOutcome]
    {
        var decision = Decision(assign: assign, revoke: revoke, roles: [], matched: ["r"], errors: [])
        for role in assign + revoke { decision.decidedBy[ExactString(role)] = "rule for \(role)" }
        decision.userID = user
        decision.currentRoles = held
        return runner.apply(try UserPlan.make(decision))
    }
}

@Suite(.serialized) struct EffectsTests {
    @Test func happyPathAssignsRevokesAndSkips() throws {
        let harness = try Harness()
        harness.sandbox.setRoles([harness.id("eu")], ofUser: "auth0|1")
        let outcomes = try harness.apply(
            user: "auth0|1", assign: ["member", "staff", "admin"], revoke: ["eu", "finance"], held: ["eu", "admin"])
        #expect(
            outcomes.map(\.text).sorted() == [
                "done     assign member to auth0|1 (rule \"rule for member\")",
                "done     assign staff to auth0|1 (rule \"rule for staff\")",
                "done     revoke eu from auth0|1 (rule \"rule for eu\")",
                "skipped  assign admin to auth0|1 (rule \"rule for admin\"): already held",
                "skipped  revoke finance from auth0|1 (rule \"rule for finance\"): not held",
            ])
        #expect(Set(harness.sandbox.roles(ofUser: "auth0|1")) == [harness.id("member"), harness.id("staff")])
        // One token, one lookup per role name, one request per direction; the user id is percent-encoded.
        let paths = harness.sandbox.log.map { "\($0.method) \($0.path)" }
        #expect(paths.filter { $0.hasPrefix("POST /oauth/token") }.count == 1)
        #expect(paths.contains("POST /api/v2/users/auth0%7C1/roles"))
        #expect(paths.contains("DELETE /api/v2/users/auth0%7C1/roles"))
        #expect(harness.client.statistics.retries == 0)
        // Token, three lookups, a POST and a DELETE over one kept-alive connection.
        #expect(harness.client.statistics.requests == 6)
        #expect(harness.sandbox.connections == 1)
    }

    @Test func roleLookupsAreCachedAndExact() throws {
        let harness = try Harness { $0.roles.append(("rol_zz", "Member-Plus")) }
        _ = try harness.apply(user: "u1", assign: ["member"])
        _ = try harness.apply(user: "u2", assign: ["member"])
        let lookups = harness.sandbox.log.filter { $0.path == "/api/v2/roles" }
        #expect(lookups.count == 1)
        #expect(harness.sandbox.roles(ofUser: "u2") == [harness.id("member")])
    }

    @Test func aBurstOf429sIsWaitedOutAsTheResetHeaderSays() throws {
        let harness = try Harness()
        _ = try harness.apply(user: "warm", assign: ["member"])  // token and role id cached
        harness.sandbox.inject {
            $0.tooManyRequests = 3
            $0.resetAfter = 1
        }
        let start = wallClock()
        let outcomes = try harness.apply(user: "auth0|2", assign: ["member"])
        let elapsed = wallClock() - start
        #expect(outcomes.map(\.status) == [.done])
        #expect(harness.client.statistics.retries == 3)
        #expect(elapsed >= 1.0, "the reset header asked for at least a second in all")
        let waits = harness.log.waits
        #expect(waits.count == 3)
        #expect(waits.allSatisfy { $0["wait.reason"] == "x-ratelimit-reset" && $0["http.status"] == "429" })
        #expect(harness.sandbox.changes["auth0|2|\(harness.id("member"))|assign"] == 1)
    }

    @Test func retryAfterIsPreferred() throws {
        let harness = try Harness()
        harness.sandbox.inject {
            $0.tooManyRequests = 1
            $0.retryAfter = 1
            $0.resetAfter = 30
        }
        let start = wallClock()
        #expect(try harness.apply(user: "u", assign: ["member"]).map(\.status) == [.done])
        #expect(wallClock() - start < 5, "Retry-After (1 s) wins over a 30 s reset")
        #expect(harness.log.waits.first?["wait.reason"] == "Retry-After")
    }

    @Test func serverErrorsAndDroppedConnectionsAreRetriedWithBackoff() throws {
        let harness = try Harness()
        harness.sandbox.inject {
            $0.serverErrors = 2
            $0.droppedConnections = 1
        }
        #expect(try harness.apply(user: "u", assign: ["member", "staff"]).map(\.status) == [.done, .done])
        // libcurl itself resends once on a reused connection that dies, so a drop may not reach the runner.
        #expect(harness.client.statistics.retries >= 2)
        #expect(harness.sandbox.log.filter { $0.status == 503 }.count == 2)
        #expect(harness.sandbox.log.filter { $0.status == 0 }.count == 1)
        #expect(harness.log.waits.allSatisfy { $0["wait.reason"] == "backoff" })
        #expect(harness.sandbox.changes.values.allSatisfy { $0 == 1 })
        #expect(harness.sandbox.changes.count == 2)
    }

    @Test func permanentErrorsAreReportedWithoutRetrying() throws {
        let harness = try Harness { $0.missingUsers = ["auth0|gone"] }
        harness.sandbox.inject { $0.badRequests = 1 }
        let bad = try harness.apply(user: "u", assign: ["member"])
        #expect(
            bad.map(\.status) == [
                .failed(status: 400, errorCode: "invalid_body", message: "Payload validation error: injected")
            ])
        let missing = try harness.apply(user: "auth0|gone", assign: ["member"])
        #expect(
            missing.map(\.status) == [
                .failed(status: 404, errorCode: "inexistent_user", message: "The user does not exist.")
            ])
        #expect(harness.client.statistics.retries == 0)
        #expect(missing.first?.rule == "rule for member")
    }

    @Test func insufficientScopeIsAPermanentFailure() throws {
        let harness = try Harness { $0.scopes = ["read:roles"] }
        let outcomes = try harness.apply(user: "u", assign: ["member"])
        guard case .failed(403, "insufficient_scope", let message)? = outcomes.first?.status else {
            Issue.record("expected a 403, got \(outcomes)")
            return
        }
        #expect(message.hasPrefix("Insufficient scope, expected any of: update:users,create:role_members"))
    }

    @Test func aTokenThatExpiresMidRunIsRefreshedOnce() throws {
        let harness = try Harness()
        #expect(try harness.apply(user: "a", assign: ["member"]).map(\.status) == [.done])
        harness.sandbox.inject { $0.expireTokens = true }
        #expect(try harness.apply(user: "b", assign: ["member"]).map(\.status) == [.done])
        #expect(harness.client.statistics.tokens == 2)
        #expect(harness.sandbox.log.filter { $0.status == 401 }.count == 1)
    }

    @Test func badCredentialsFailEveryEffectClearly() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.clientSecret = "right"
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let port = try sandbox.start()
        let client = ManagementClient(
            configuration: TenantConfiguration(
                domain: configuration.domain, clientID: configuration.clientID, clientSecret: "wrong",
                baseURL: "http://127.0.0.1:\(port)"),
            limiter: RateLimiter(rate: 1000))
        var decision = Decision(assign: ["member"], revoke: [], roles: [], matched: [], errors: [])
        decision.userID = "u"
        let plan = try UserPlan.make(decision)
        let outcomes = EffectRunner(client: client).apply(plan)
        #expect(outcomes.map(\.status) == [.failed(status: 401, errorCode: "access_denied", message: "Unauthorized")])
        #expect(!outcomes[0].text.contains("wrong"), "secrets never appear in outcomes")
    }

    /// The tenant has the other spelling: the failure says so, with both written out.
    @Test func anUnknownRoleNamesATenantRoleThatPrintsLikeIt() throws {
        let harness = try Harness { $0.roles.append((id: "rol_nfd", name: "cafe\u{301}")) }
        let outcomes = try harness.apply(user: "u", assign: ["caf\u{E9}"])
        #expect(
            outcomes.map(\.status) == [
                .failed(
                    status: 404, errorCode: "unknown_role",
                    message: #"the tenant has no role named "caf\u{e9}", but has "cafe\u{301}", which differs only in "#
                        + "how its characters are encoded")
            ])
    }

    @Test func anUnknownRoleFailsOnlyItsOwnEffect() throws {
        let harness = try Harness()
        let outcomes = try harness.apply(user: "u", assign: ["member", "no-such-role"])
        #expect(outcomes.map(\.status).contains(.done))
        #expect(
            outcomes.contains {
                $0.role == "no-such-role"
                    && $0.status
                        == .failed(
                            status: 404, errorCode: "unknown_role",
                            message: "the tenant has no role named \"no-such-role\"")
            })
        #expect(harness.sandbox.roles(ofUser: "u") == [harness.id("member")])
    }

    @Test func aSlowServerHitsTheTimeoutAndTheRunnerGivesUp() throws {
        var policy = RetryPolicy()
        policy.maxAttempts = 2
        policy.baseBackoff = 0.05
        let harness = try Harness(
            timeouts: CurlClient.Timeouts(connectMilliseconds: 1_000, totalMilliseconds: 300), policy: policy)
        _ = try harness.apply(user: "warm", assign: ["member"])
        harness.sandbox.inject { $0.delayMilliseconds = 1_500 }
        let start = wallClock()
        let outcomes = try harness.apply(user: "u", assign: ["member"])
        guard case .gaveUp(2, let last)? = outcomes.first?.status else {
            Issue.record("expected to give up after 2 attempts, got \(outcomes)")
            return
        }
        #expect(last.lowercased().contains("timeout") || last.lowercased().contains("timed out"), "\(last)")
        #expect(wallClock() - start < 3)
    }

    @Test func aThousandEventsArePacedUnderTheSandboxLimit() throws {
        // The sandbox allows 400 requests a second in bursts of 20; the client paces itself a little below that.
        let harness = try Harness(
            {
                $0.rateLimit = 400
                $0.burst = 20
            }, rate: 300, burst: 10)
        var done = 0
        for index in 0..<1000 {
            let outcomes = try harness.apply(
                user: "user|\(index)", assign: index % 3 == 0 ? ["member", "eu"] : ["member"])
            done += outcomes.filter { $0.status == .done }.count
        }
        #expect(done == 1000 + 334)
        #expect(harness.sandbox.log.filter { $0.status == 429 }.isEmpty, "the pacer never let the bucket run dry")
        #expect(harness.client.statistics.retries == 0)
        #expect(harness.sandbox.changes.count == 1334)
        #expect(harness.sandbox.changes.values.allSatisfy { $0 == 1 })
    }

    @Test func userIDsArePercentEncoded() {
        #expect(ManagementClient.percentEncoded("auth0|123") == "auth0%7C123")
        #expect(ManagementClient.percentEncoded("google-oauth2|1 2/é") == "google-oauth2%7C1%202%2F%C3%A9")
    }

    @Test func retryWaitsFollowThePolicy() {
        let policy = RetryPolicy()
        #expect(policy.wait(afterAttempt: 1, headers: ["retry-after": "7"], now: 100, random: 0.5) == (7, .retryAfter))
        #expect(
            policy.wait(afterAttempt: 1, headers: ["x-ratelimit-reset": "103"], now: 100.5, random: 0.5) == (
                2.5, .rateLimitReset
            ))
        #expect(
            policy.wait(afterAttempt: 1, headers: ["x-ratelimit-reset": "100"], now: 100, random: 0.5) == (
                1, .rateLimitReset
            ))
        #expect(policy.wait(afterAttempt: 1, headers: ["retry-after": "600"], now: 0, random: 0).0 == 60)
        #expect(policy.wait(afterAttempt: 4, headers: [:], now: 0, random: 0.5) == (2, .backoff))
        #expect(policy.wait(afterAttempt: 30, headers: [:], now: 0, random: 1).0 == 60)
        #expect(
            RetryPolicy.isRetryable(status: 429) && RetryPolicy.isRetryable(status: 408)
                && RetryPolicy.isRetryable(status: 502))
        #expect(
            !RetryPolicy.isRetryable(status: 400) && !RetryPolicy.isRetryable(status: 403)
                && !RetryPolicy.isRetryable(status: 404))
    }

    @Test func configurationNeverShowsTheSecret() throws {
        let configuration = try TenantConfiguration.fromEnvironment([
            "AUTH0_DOMAIN": "acme.eu.auth0.com", "AUTH0_CLIENT_ID": "abc", "AUTH0_CLIENT_SECRET": "s3cr3t",
            "AUTH0_BASE_URL": "http://127.0.0.1:9/",
        ])
        #expect(configuration.audience == "https://acme.eu.auth0.com/api/v2/")
        #expect(configuration.baseURL == "http://127.0.0.1:9")
        #expect(!configuration.description.contains("s3cr3t"))
        #expect(throws: ConfigurationError.self) { try TenantConfiguration.fromEnvironment(["AUTH0_DOMAIN": "x"]) }
    }
}

/// The planner compares decided roles with `authorization.roles`, which holds role *names*.
@Suite struct PlannerTests {
    static func plan(assign: [String], held: [String], userID: String? = "u") throws -> UserPlan {
        var decision = Decision(assign: assign, revoke: [], roles: [], matched: [], errors: [])
        decision.userID = userID
        decision.currentRoles = held
        return try UserPlan.make(decision)
    }

    /// Found by an attacker: a role *named* `rol_123` is not the role whose id is `rol_123`; the assign by id was
    /// skipped as "already held" and lost.
    @Test func anAssignByIDIsNeverSkippedForAHeldName() throws {
        let plan = try Self.plan(assign: ["rol_123", "admin"], held: ["rol_123", "admin"])
        #expect(plan.assign.map(\.role) == ["rol_123"])
        #expect(plan.skipped.map(\.role) == ["admin"])
    }

    /// Two spellings that print alike (`caf\u{E9}` held, `cafe\u{301}` decided) are written out in the plan, so
    /// "assign" beside "already held" reads as two roles.
    @Test func rolesThatPrintAlikeAreWrittenOutInThePlan() throws {
        let plan = try Self.plan(assign: ["caf\u{E9}", "cafe\u{301}", "x"], held: ["caf\u{E9}"])
        #expect(
            plan.text == #"""
                assign "cafe\u{301}" to u (rule "")
                assign x to u (rule "")
                skipped  assign "caf\u{e9}" to u (rule ""): already held

                """#)
        // Held, not planned: the planned spelling is still written out.
        let other = try Self.plan(assign: ["caf\u{E9}"], held: ["cafe\u{301}"])
        #expect(other.text == #"assign "caf\u{e9}" to u (rule "")"# + "\n")
    }

    /// The evaluator leaves ``Decision/userID`` nil when `user.user_id` is missing or not a string.
    @Test func anEventWithoutAUserIsNamedSo() throws {
        let error = #expect(throws: PlanError.self) { try Self.plan(assign: ["a"], held: [], userID: nil) }
        #expect(error?.message == "the event has no user.user_id string, so there is no user to change")
        let evaluator = Evaluator(program: try RuleEngine.compile(source: "when true assign \"a\""))
        let decision = try evaluator.evaluate(Array(#"{"user":{"user_id":123}}"#.utf8))
        #expect(throws: PlanError.self) { try UserPlan.make(decision) }
    }
}
