import ArgumentParser
import Foundation
import Logging
import RolecallCommandLine
import RolecallEffects
import RolecallEngine
import RolecallJSON
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
            paced to --rate; 429, 408, 5xx, network failures and invalid answers are retried (Retry-After, then \
            x-ratelimit-reset, then backoff, each wait at most 60 s), other 4xx are reported. Requests go over \
            https only (plain http only to a loopback address, or with --allow-http). The run stops with one \
            message when --deadline passes or no access token can be had. Every effect ends with one line; the \
            summary comes last. Exits 1 when any effect failed or the run stopped, 2 for unreadable input or \
            missing or unsafe tenant settings.

            `days_since` counts to the wall clock, or to --now. With --events and no --now, an event's own \
            `rolecall_now` (as `rules log export` writes it) is its clock.
            """
    )

    @Argument(help: "Rule files or directories (default: rules/).")
    var paths: [String] = []

    @OptionGroup var input: EventInput

    @Flag(help: "Print the plan and call nothing.")
    var dryRun = false

    @OptionGroup var tenant: TenantOptions

    @Option(help: "Seconds the whole run may take; past it, no request starts and the run stops with one message.")
    var deadline: Double = 3_600

    @OptionGroup var clock: ClockOption

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard deadline.isFinite, deadline > 0 else { throw ValidationError("--deadline must be a positive number") }
    }

    func run() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .notice
            return handler
        }
        let evaluator = Evaluator(program: try RuleFiles.compile(paths, diagnostics: diagnostics))
        clock.configure(evaluator, batch: input.isBatch)
        var sandboxTenant: Sandbox?
        defer { sandboxTenant?.shutdown() }
        var runner: EffectRunner?
        if !dryRun {
            let (configuration, local) = try tenant.resolve(
                doing: "applying to", alternatives: "--sandbox, or --dry-run")
            sandboxTenant = local
            let logger = Logger(label: "rolecall.apply")
            let client = tenant.makeClient(configuration, logger: logger, deadline: wallClock() + deadline)
            runner = EffectRunner(client: client, logger: Logger(label: "rolecall.apply"))
        }
        let workflow = ApplyWorkflow(evaluator: evaluator, runner: runner)
        let start = wallClock()
        var stop: (event: Int, reason: String)?
        var notApplied = 0
        try input.forEach { number, item in
            if stop != nil {
                notApplied += 1
                return
            }
            guard case .event(let buffer) = item else {
                workflow.countInvalid()
                Output.standardError("rules: event \(number): larger than --max-event-bytes \(input.maxEventBytes)\n")
                return
            }
            let plan: UserPlan
            do {
                (_, plan) = try workflow.decide(buffer)
            } catch {
                Output.standardError("rules: event \(number): \(error)\n")
                return
            }
            guard runner != nil else {
                Output.standardOutput(plan.text)
                return
            }
            let shown = plan.spellings
            Output.standardOutput(workflow.carryOut(plan).map { $0.text(showing: shown) + "\n" }.joined())
            switch workflow.stop {
            case .deadline(let wait, let last)?:
                let what =
                    wait.map { "\($0), past the --deadline of \(deadline) s" }
                    ?? "the run's deadline passed (--deadline \(deadline) s)"
                stop = (number, HumanText.line(what + (last.map { " (last problem: \($0))" } ?? "")))
            case .noToken(let failure)?:
                stop = (number, "no access token from POST /oauth/token: \(HumanText.line(failure.description))")
            case nil: break
            }
        }
        if let stop {
            Output.standardError(
                "rules: error: stopped at event \(stop.event): \(stop.reason); \(notApplied) later event"
                    + "\(notApplied == 1 ? "" : "s") not applied\n")
        }
        let summary = workflow.finish(seconds: wallClock() - start)
        Output.standardOutput((dryRun ? "dry run, nothing called: " : "") + summary.text)
        if summary.invalidEvents > 0 { throw ExitStatus.badInput }
        if !summary.succeeded || stop != nil { throw ExitStatus.ruleErrors }
    }
}
