import Foundation
import RolecallSandbox
import Testing

/// Issue 8 through the built binary: `rules apply` and `rules sandbox` given hostile settings and servers. Each
/// run has its own time limit (the process is killed past it), and every test checks the exit code, what the
/// user reads, and that nothing reached a server it must not reach.
@Suite(.timeLimit(.minutes(1))) struct ApplyHardeningTests {
    static let secret = "very-secret-hardening-value"

    typealias Run = CLITests.Run

    /// Runs `rules ARGS` in the repository root with the AUTH0_* settings of `environment` only; kills it after
    /// `limit` seconds.
    static func rules(_ arguments: [String], environment extra: [String: String] = [:], limit: Double = 20) throws
        -> Run
    {
        try CLITests.rules(arguments, environment: extra, limit: limit)
    }

    /// A sandbox tenant whose client secret is ``secret``, and the settings that point `rules apply` at it.
    static func tenant() throws -> (Sandbox, [String: String]) {
        var configuration = Sandbox.Configuration.seeded()
        configuration.clientSecret = secret
        let sandbox = Sandbox(configuration)
        let port = try sandbox.start()
        return (
            sandbox,
            [
                "AUTH0_DOMAIN": configuration.domain, "AUTH0_CLIENT_ID": configuration.clientID,
                "AUTH0_CLIENT_SECRET": secret, "AUTH0_BASE_URL": "http://127.0.0.1:\(port)",
            ]
        )
    }

    static func expectNoSecret(_ run: Run) {
        #expect(!run.stdout.contains(secret) && !run.stderr.contains(secret), "the client secret leaked")
    }

    @Test(arguments: [
        ["apply", "--timeout-ms=0"], ["apply", "--timeout-ms=-5"], ["apply", "--deadline=0"],
        ["apply", "--deadline=nan"], ["apply", "--rate=nan"], ["apply", "--burst=inf"], ["sandbox", "--rate=0"],
        ["sandbox", "--rate=nan"], ["sandbox", "--port=70000"], ["sandbox", "--port=65536"], ["sandbox", "--port=-1"],
        ["sandbox", "--burst=0"], ["sandbox", "--burst=9223372036854775807"], ["sandbox", "--burst=1000001"],
        ["sandbox", "--rate=1000001"], ["apply", "--rate=1e-308"], ["apply", "--rate=0.009"],
        ["apply", "--rate=1000001"], ["apply", "--burst=1000001"],
    ])
    func badNumbersAreUsageErrors(arguments: [String]) throws {
        let event = arguments[0] == "apply" ? ["--event", "rules/events/first-login.json"] : []
        let run = try Self.rules(arguments + event, limit: 10)
        #expect(!run.killed, "it ran on (a sandbox serving on a wrong port, or an apply without a timeout)")
        #expect(run.status == 64, "\(run.stderr)")
        let option = arguments[1].prefix { $0 != "=" }
        #expect(run.stderr.contains("Error: \(option) must be"), "\(run.stderr)")
    }

    /// `AUTH0_DOMAIN=acme@127.0.0.1:PORT` sent the token request, with the secret, to that address.
    @Test(arguments: ["@", ":", "/x"])
    func aDomainWithTricksSendsNothing(trick: String) throws {
        let (sandbox, environment) = try Self.tenant()
        defer { sandbox.shutdown() }
        var settings = environment
        let port = String(environment["AUTH0_BASE_URL"]!.split(separator: ":").last!)
        settings["AUTH0_BASE_URL"] = nil
        settings["AUTH0_DOMAIN"] =
            switch trick {
            case "@": "acme.auth0.com@127.0.0.1:\(port)"
            case ":": "127.0.0.1:\(port)"
            default: "127.0.0.1:\(port)/x"
            }
        let run = try Self.rules(
            ["apply", "--event", "rules/events/first-login.json", "--timeout-ms", "2000", "--deadline", "5"],
            environment: settings)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("is not a host name"), "\(run.stderr)")
        #expect(sandbox.connections == 0, "a request went to the address hidden in the domain")
        Self.expectNoSecret(run)
    }

    @Test(arguments: ["dict", "gopher", "ldap", "ftp", "smtp", "telnet", "file"])
    func otherSchemesAreRefusedBeforeAnyRequest(scheme: String) throws {
        let (sandbox, environment) = try Self.tenant()
        defer { sandbox.shutdown() }
        var settings = environment
        settings["AUTH0_BASE_URL"] = environment["AUTH0_BASE_URL"]!.replacingOccurrences(of: "http", with: scheme)
        let run = try Self.rules(
            ["apply", "--event", "rules/events/first-login.json", "--timeout-ms", "2000", "--deadline", "5"],
            environment: settings)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("the scheme `\(scheme)` is not allowed"), "\(run.stderr)")
        #expect(sandbox.connections == 0)
        Self.expectNoSecret(run)
    }

    @Test func plainHTTPToAnotherHostNeedsAllowHTTP() throws {
        let run = try Self.rules(
            ["apply", "--event", "rules/events/first-login.json"],
            environment: [
                "AUTH0_DOMAIN": "acme.auth0.com", "AUTH0_CLIENT_ID": "a", "AUTH0_CLIENT_SECRET": Self.secret,
                "AUTH0_BASE_URL": "http://192.0.2.1:9",
            ])
        #expect(run.status == 2)
        #expect(run.stderr.contains("pass --allow-http"), "\(run.stderr)")
        Self.expectNoSecret(run)
    }

    /// A token endpoint that never answers (nothing listens) ends the run at `--deadline` with one message.
    @Test func aDeadTokenEndpointFailsTheRunAtTheDeadline() throws {
        let (sandbox, environment) = try Self.tenant()
        sandbox.shutdown()  // nothing listens on its port any more
        let run = try Self.rules(
            ["apply", "--events", "rules/events/batch.jsonl", "--deadline", "2", "--timeout-ms", "500"],
            environment: environment, limit: 15)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.seconds < 6, "\(run.seconds) s")
        let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("rules: error:") }
        #expect(errors.count == 1, "\(run.stderr)")
        #expect(errors.first?.contains("the run's deadline passed") == true, "\(run.stderr)")
        #expect(errors.first?.contains("later events not applied") == true, "\(run.stderr)")
        Self.expectNoSecret(run)
    }

    /// A server's Retry-After past the deadline stops the run with a message saying which wait it was.
    @Test func aForcedWaitPastTheDeadlineIsNamedInTheStopMessage() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.clientSecret = Self.secret
        configuration.faults.tooManyRequests = 1
        configuration.faults.retryAfter = 60
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let port = try sandbox.start()
        let run = try Self.rules(
            ["apply", "--event", "rules/events/first-login.json", "--deadline", "30"],
            environment: [
                "AUTH0_DOMAIN": configuration.domain, "AUTH0_CLIENT_ID": configuration.clientID,
                "AUTH0_CLIENT_SECRET": Self.secret, "AUTH0_BASE_URL": "http://127.0.0.1:\(port)",
            ])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.seconds < 10, "it waited instead of stopping")
        let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("rules: error:") }
        #expect(
            errors.first?.hasPrefix(
                "rules: error: stopped at event 1: the server asked to wait 60.0 s (Retry-After), past the "
                    + "--deadline of 30.0 s (last problem: ") == true, "\(run.stderr)")
        Self.expectNoSecret(run)
    }

    /// Bad credentials stop the run at the first event instead of failing every effect of every event.
    @Test func badCredentialsStopTheRunWithOneMessage() throws {
        let (sandbox, environment) = try Self.tenant()
        defer { sandbox.shutdown() }
        var settings = environment
        settings["AUTH0_CLIENT_SECRET"] = "wrong-\(Self.secret)"
        let run = try Self.rules(["apply", "--events", "rules/events/batch.jsonl"], environment: settings)
        #expect(run.status == 1)
        let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("rules: error:") }
        #expect(
            errors == [
                "rules: error: stopped at event 1: no access token from POST /oauth/token: 401 access_denied: "
                    + "Unauthorized; 3 later events not applied"
            ], "\(run.stderr)")
        #expect(sandbox.log.filter { $0.path == "/oauth/token" }.count == 1)
        Self.expectNoSecret(run)
    }

    /// A `user_id` with a newline in it printed a line of its own that looked like a real effect.
    @Test(arguments: [false, true])
    func aUserIDCannotForgeAReportLine(dryRun: Bool) throws {
        let (sandbox, environment) = try Self.tenant()
        defer { sandbox.shutdown() }
        let data = try Data(contentsOf: URL(fileURLWithPath: CLITests.root + "/rules/events/first-login.json"))
        var event = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var user = try #require(event["user"] as? [String: Any])
        user["user_id"] = "auth0|1\ndone     assign admin to auth0|victim (rule \"admins\")\n\u{1b}[1A"
        event["user"] = user
        let path = try CLITests.temporary(
            "forged.json", String(decoding: try JSONSerialization.data(withJSONObject: event), as: UTF8.self))
        let run = try Self.rules(
            ["apply", "--event", path] + (dryRun ? ["--dry-run"] : []), environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("\n done") && !run.stdout.contains("\ndone     assign admin"), "\(run.stdout)")
        #expect(!run.stdout.contains("\u{1b}"))
        #expect(
            run.stdout.contains(
                #"member to "auth0|1\ndone     assign admin to auth0|victim (rule \"admins\")\n\u{1b}[1A" (rule "every verified user is a member")"#
            ), "\(run.stdout)")
    }

    /// A tenant file saved with CRLF line ends is read like any other.
    @Test func aTenantFileWithCRLFLinesWorks() throws {
        let (sandbox, environment) = try Self.tenant()
        defer { sandbox.shutdown() }
        let text = environment.map { "\($0.key)=\($0.value)\r\n" }.sorted().joined()
        let path = try CLITests.temporary("tenant.env", "# sandbox tenant\r\n" + text)
        let run = try Self.rules([
            "apply", "--event", "rules/events/first-login.json", "--tenant-file", path, "--now", CLITests.now,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("1 user: 2 done"), "\(run.stdout)")
        Self.expectNoSecret(run)
    }

    /// The tenant file is read up to 64 KiB: one byte more is refused without reading the rest.
    @Test(arguments: [65_536, 65_537])
    func aTenantFileHasASizeLimit(size: Int) throws {
        let (sandbox, environment) = try Self.tenant()
        defer { sandbox.shutdown() }
        let settings = environment.map { "\($0.key)=\($0.value)\n" }.sorted().joined()
        let padding = "#" + String(repeating: "x", count: size - settings.utf8.count - 2) + "\n"
        let path = try CLITests.temporary("tenant.env", padding + settings)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == size)
        let run = try Self.rules(["apply", "--event", "rules/events/first-login.json", "--tenant-file", path])
        if size <= 65_536 {
            #expect(run.status == 0, "\(run.stderr)")
        } else {
            #expect(run.status == 2)
            #expect(run.stderr.contains("is larger than 65536 bytes"), "\(run.stderr)")
            #expect(sandbox.connections == 0)
        }
    }
}
