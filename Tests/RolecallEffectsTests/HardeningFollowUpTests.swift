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
        let token = try SandboxTests.request(
            "POST", base + "/oauth/token",
            body:
                #"{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret","audience":"https://\#(configuration.domain)/api/v2/"}"#
        )
        guard case .string(let bearer)? = try JSONValue.parse(token.body)["access_token"] else {
            Issue.record("no token")
            return
        }
        let roles = try SandboxTests.request(
            "GET", base + "/api/v2/roles", headers: [("Authorization", "Bearer \(bearer)")])
        #expect(roles.status == 200)
        #expect(roles.headers["x-ratelimit-remaining"] == String(1 << 53))
        #expect(roles.headers["x-ratelimit-reset"].flatMap(Int.init) != nil)
    }
}
