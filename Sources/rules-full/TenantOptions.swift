import ArgumentParser
import Foundation
import Logging
import RolecallCommandLine
import RolecallEffects
import RolecallSandbox

/// The tenant settings shared by `rules apply` and `rules serve`: the `AUTH0_*` environment, `--tenant-file`,
/// `--sandbox`, the pacing (`--rate`, `--burst`) and the client's limits.
struct TenantOptions: ParsableArguments {
    @Flag(help: "Start a local sandbox tenant (seeded with the example roles) and send the calls to it.")
    var sandbox = false

    @Option(help: "A file of KEY=VALUE lines (AUTH0_DOMAIN, ...) read over the environment.")
    var tenantFile: String?

    @Option(help: "Requests per second to pace to, 0.01 to 1000000 (Auth0's free tenants allow about 2).")
    var rate: Double = 2

    @Option(help: "Requests allowed back to back.")
    var burst: Double = 2

    @Option(help: "Total timeout of one request, in milliseconds (positive).")
    var timeoutMs: Int = 15_000

    @Flag(help: "Allow plain http to hosts other than loopback ones (AUTH0_BASE_URL), for a trusted proxy.")
    var allowHttp = false

    func validate() throws {
        // Below 0.01 a single pacing wait would pass the 60 s cap; 1e-308 is no rate at all.
        guard rate.isFinite, (0.01...1_000_000).contains(rate) else {
            throw ValidationError("--rate must be a number from 0.01 to 1000000 (requests per second)")
        }
        guard burst.isFinite, (1...1_000_000).contains(burst) else {
            throw ValidationError("--burst must be at least 1 and at most 1000000")
        }
        guard timeoutMs > 0 else { throw ValidationError("--timeout-ms must be positive (0 would mean no timeout)") }
    }

    /// The tenant to call: a sandbox started now (with `--sandbox`; the caller shuts it down) or the configured
    /// one. `alternatives` is the hint printed when settings are missing, e.g. "--sandbox, or --dry-run".
    func resolve(doing what: String, alternatives: String) throws -> (TenantConfiguration, Sandbox?) {
        guard sandbox else { return (try tenantConfiguration(alternatives: alternatives), nil) }
        let local = Sandbox(.seeded())
        let port = try local.start()
        let configuration = local.configuration
        Output.standardError("rules: \(what) a sandbox tenant at http://127.0.0.1:\(port)\n")
        let tenant = TenantConfiguration(
            domain: configuration.domain, clientID: configuration.clientID, clientSecret: configuration.clientSecret,
            baseURL: "http://127.0.0.1:\(port)")
        return (tenant, local)
    }

    /// A Management API client for `tenant` with these options' pacing and limits; `clock` and `sleep` are the
    /// outbox worker's when it makes the client (so that stopping it cuts waits short).
    func makeClient(
        _ tenant: TenantConfiguration, logger: Logger, deadline: Double?, policy: RetryPolicy = RetryPolicy(),
        clock: @escaping () -> Double = wallClock, sleep: @escaping (Double) -> Void = sleepSeconds
    ) -> ManagementClient {
        ManagementClient(
            configuration: tenant,
            http: CurlClient(timeouts: .init(totalMilliseconds: timeoutMs), allowHTTP: allowHttp),
            limiter: RateLimiter(rate: rate, burst: burst, logger: logger, clock: clock, sleep: sleep),
            policy: policy, logger: logger, deadline: deadline, clock: clock, sleep: sleep)
    }

    /// The tenant from the environment, with `--tenant-file` read over it; exits 2 naming what is missing or
    /// unsafe (a domain that is not a host name, a base URL that is not https).
    func tenantConfiguration(alternatives: String) throws -> TenantConfiguration {
        do {
            return try TenantConfiguration.load(
                environment: ProcessInfo.processInfo.environment, tenantFile: tenantFile, allowHTTP: allowHttp)
        } catch {
            let hint = error.missing.isEmpty ? "" : " (or use \(alternatives))"
            Output.standardError("rules: error: \(error)\(hint)\n")
            throw ExitStatus.badInput
        }
    }
}
