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

    // MARK: F2. paths as given

    /// libcurl is told to send the path as it is given (`CURLOPT_PATH_AS_IS`): no dot segment is collapsed.
    @Test func pathsGoOutAsGiven() throws {
        let server = try HostileServer { _, _ in .respond(status: 204, headers: [], body: "") }
        defer { server.stop() }
        _ = try CurlClient().send(HTTPRequest(method: "GET", url: server.baseURL + "/a/b/../c/./d"))
        #expect(server.requests.map(\.target) == ["/a/b/../c/./d"])
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
