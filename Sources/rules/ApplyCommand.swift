import ArgumentParser
import Foundation
import Logging
import RolecallEffects
import RolecallEngine
import RolecallSandbox

/// `rules apply`: evaluate events and carry out the role changes through the Auth0 Management API.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Evaluate events and assign or revoke the roles through the Auth0 Management API.",
        discussion: """
            The tenant comes from AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (or --tenant-file with \
            the same KEY=VALUE lines); AUTH0_BASE_URL sends the requests elsewhere (a proxy, a test server) while \
            the token audience stays https://AUTH0_DOMAIN/api/v2/. --sandbox starts a local sandbox tenant instead. \
            Roles the user already holds are not assigned again and roles they lack are not revoked. Requests are \
            paced to --rate; 429, 408, 5xx and network failures are retried (Retry-After, then x-ratelimit-reset, \
            then backoff), other 4xx are reported. Every effect ends with one line; the summary comes last. \
            Exits 1 when any effect failed, 2 for unreadable input or missing tenant settings.
            """
    )

    @Argument(help: "Rule files or directories (default: rules/).")
    var paths: [String] = []

    @OptionGroup var input: EventInput

    @Flag(help: "Print the plan and call nothing.")
    var dryRun = false

    @Flag(help: "Start a local sandbox tenant (seeded with the example roles) and apply to it.")
    var sandbox = false

    @Option(help: "A file of KEY=VALUE lines (AUTH0_DOMAIN, ...) read over the environment.")
    var tenantFile: String?

    @Option(help: "Requests per second to pace to (Auth0's free tenants allow about 2).")
    var rate: Double = 2

    @Option(help: "Requests allowed back to back.")
    var burst: Double = 2

    @Option(help: "Total timeout of one request, in milliseconds.")
    var timeoutMs: Int = 15_000

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard rate > 0, burst >= 1 else { throw ValidationError("--rate must be positive and --burst at least 1") }
    }

    func run() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .notice
            return handler
        }
        let evaluator = Evaluator(program: try RuleFiles.compile(paths, diagnostics: diagnostics))
        var sandboxTenant: Sandbox?
        defer { sandboxTenant?.shutdown() }
        var runner: EffectRunner?
        if !dryRun {
            let tenant: TenantConfiguration
            if sandbox {
                let local = Sandbox(.seeded())
                let port = try local.start()
                sandboxTenant = local
                let configuration = local.configuration
                tenant = TenantConfiguration(
                    domain: configuration.domain, clientID: configuration.clientID,
                    clientSecret: configuration.clientSecret, baseURL: "http://127.0.0.1:\(port)")
                Output.standardError("rules: applying to a sandbox tenant at http://127.0.0.1:\(port)\n")
            } else {
                tenant = try tenantConfiguration()
            }
            let client = ManagementClient(
                configuration: tenant, http: CurlClient(timeouts: .init(totalMilliseconds: timeoutMs)),
                limiter: RateLimiter(rate: rate, burst: burst), logger: Logger(label: "rolecall.apply"))
            runner = EffectRunner(client: client, logger: Logger(label: "rolecall.apply"))
        }
        let start = wallClock()
        var summary = ApplySummary()
        try input.forEach { number, item in
            guard case .event(let buffer) = item else {
                summary.invalidEvents += 1
                Output.standardError("rules: event \(number): larger than --max-event-bytes \(input.maxEventBytes)\n")
                return
            }
            let decision: Decision
            do {
                decision = try evaluator.evaluate(buffer)
            } catch {
                summary.invalidEvents += 1
                Output.standardError("rules: event \(number): invalid event: \(error)\n")
                return
            }
            let plan: UserPlan
            do {
                plan = try UserPlan.make(decision: decision, event: decision.plannerEvent)
            } catch {
                summary.invalidEvents += 1
                Output.standardError("rules: event \(number): \(error)\n")
                return
            }
            summary.users += 1
            guard let runner else {
                summary.planned += plan.assign.count + plan.revoke.count
                summary.add(plan.skipped)
                Output.standardOutput(plan.text)
                return
            }
            let outcomes = runner.apply(plan)
            summary.add(outcomes)
            Output.standardOutput(outcomes.map { $0.text + "\n" }.joined())
        }
        if let client = runner?.client {
            summary.retries = client.statistics.retries
            summary.requests = client.statistics.requests
            summary.rateLimitWait = client.statistics.rateLimitWait
            summary.backoffWait = client.statistics.backoffWait
        }
        summary.seconds = wallClock() - start
        Output.standardOutput((dryRun ? "dry run, nothing called: " : "") + summary.text)
        if summary.invalidEvents > 0 { throw ExitStatus.badInput }
        if !summary.succeeded { throw ExitStatus.ruleErrors }
    }

    /// The tenant from the environment, with `--tenant-file` read over it; exits 2 naming what is missing.
    func tenantConfiguration() throws -> TenantConfiguration {
        var environment = ProcessInfo.processInfo.environment
        if let tenantFile {
            guard let text = try? String(contentsOfFile: tenantFile, encoding: .utf8) else {
                Output.standardError("rules: error: cannot read \(tenantFile)\n")
                throw ExitStatus.badInput
            }
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 {
                    environment[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(
                        in: .whitespaces)
                }
            }
        }
        do {
            return try TenantConfiguration.fromEnvironment(environment)
        } catch {
            Output.standardError("rules: error: \(error) (or use --sandbox, or --dry-run)\n")
            throw ExitStatus.badInput
        }
    }
}
