import ArgumentParser
import Foundation
import RolecallCommandLine
import RolecallSandbox

/// `rules sandbox`: a local stand-in for an Auth0 tenant's Management API.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a local sandbox tenant that behaves like the Auth0 Management API.",
        discussion: """
            Seeded with the roles the example rules use. Prints the AUTH0_* settings that point `rules apply` at \
            it, then serves until interrupted. Faults can be injected to see retries at work.
            """
    )

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 8787

    @Option(help: "Requests per second the sandbox allows (at most 1000000).")
    var rate: Double = 10

    @Option(help: "Requests it allows back to back (1 to 1000000).")
    var burst: Int = 10

    @Option(name: .customLong("fail-429"), help: "Answer the first N API requests with 429.")
    var tooManyRequests = 0

    @Option(name: .customLong("fail-5xx"), help: "Answer the next N API requests with 503.")
    var serverErrors = 0

    @Option(help: "Delay every answer by this many milliseconds.")
    var delayMs = 0

    @Option(
        name: .customLong("missing-user"),
        help: "A user id that does not exist: its role endpoints answer 404 inexistent_user (repeatable).")
    var missingUsers: [String] = []

    /// The highest `--rate` taken: far above any Auth0 tenant's limit, low enough for every header number.
    static let maximumRate = 1_000_000.0
    /// The largest `--burst` taken.
    static let maximumBurst = 1_000_000

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard rate.isFinite, rate > 0, rate <= Self.maximumRate else {
            throw ValidationError("--rate must be a positive number up to \(Int(Self.maximumRate))")
        }
        guard (1...Self.maximumBurst).contains(burst) else {
            throw ValidationError("--burst must be at least 1 and at most \(Self.maximumBurst)")
        }
        guard tooManyRequests >= 0, serverErrors >= 0 else {
            throw ValidationError("--fail-429 and --fail-5xx must not be negative")
        }
        guard (0...600_000).contains(delayMs) else {
            throw ValidationError("--delay-ms must be between 0 and 600000")
        }
    }

    func run() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.rateLimit = rate
        configuration.burst = burst
        configuration.faults.tooManyRequests = tooManyRequests
        configuration.faults.serverErrors = serverErrors
        configuration.faults.delayMilliseconds = delayMs
        configuration.missingUsers = Set(missingUsers)
        let sandbox = Sandbox(configuration)
        let bound = try sandbox.start(port: port)
        let base = "http://127.0.0.1:\(bound)"
        var text = "sandbox tenant listening on \(base)\n\nexport AUTH0_DOMAIN=\(configuration.domain)"
        text += " AUTH0_CLIENT_ID=\(configuration.clientID) AUTH0_CLIENT_SECRET=\(configuration.clientSecret)"
        text += " AUTH0_BASE_URL=\(base)\n\nroles: "
        text += configuration.roles.map { "\($0.name) (\($0.id))" }.joined(separator: ", ") + "\n"
        Output.standardOutput(text)
        // Nobody can read the settings (`> /dev/full`, `>&-`): serving on would be a silent success. The exit
        // handler says `rules: error: cannot write output: REASON` and leaves with exit code 2.
        if Output.hasFailed {
            sandbox.shutdown()
            throw ExitStatus.badInput
        }
        while true { sleep(3600) }
    }
}
