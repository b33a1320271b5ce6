import Foundation
import RolecallEffects
import RolecallEngine
import RolecallLanguage
import RolecallSandbox
import Testing

/// The sandbox speaks Auth0's shapes, checked with raw requests.
@Suite(.serialized) struct SandboxTests {
    /// An access token from the sandbox at `base`, with the default test client.
    static func token(_ base: String, domain: String) throws -> String? {
        let answer = try request(
            "POST", base + "/oauth/token",
            body:
                #"{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret","audience":"https://\#(domain)/api/v2/"}"#
        )
        guard case .string(let bearer)? = try JSONValue.parse(answer.body)["access_token"] else { return nil }
        return bearer
    }

    static func request(_ method: String, _ url: String, headers: [(String, String)] = [], body: String? = nil) throws
        -> HTTPResponse
    {
        try CurlClient().send(
            HTTPRequest(method: method, url: url, headers: headers, body: body.map { Array($0.utf8) }))
    }

    @Test func tokenEndpointAcceptsJSONAndFormBodies() throws {
        let sandbox = Sandbox()
        defer { sandbox.shutdown() }
        let base = "http://127.0.0.1:\(try sandbox.start())"
        let audience = "https://\(sandbox.configuration.domain)/api/v2/"
        let form = try Self.request(
            "POST", base + "/oauth/token", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: "grant_type=client_credentials&client_id=sandbox-client&client_secret=sandbox-secret&audience="
                + ManagementClient.percentEncoded(audience))
        #expect(form.status == 200)
        let token = try JSONValue.parse(form.body)
        #expect(token["token_type"] == .string("Bearer"))
        #expect(token["expires_in"] == .number(86_400))
        let json = try Self.request(
            "POST", base + "/oauth/token", headers: [("Content-Type", "application/json")],
            body:
                #"{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"nope","audience":"\#(audience)"}"#
        )
        #expect(json.status == 401)
        #expect(json.text == #"{"error":"access_denied","error_description":"Unauthorized"}"#)
        let wrongAudience = try Self.request(
            "POST", base + "/oauth/token",
            body:
                #"{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret","audience":"https://other/api/v2/"}"#
        )
        #expect(wrongAudience.status == 403)
    }

    @Test func rolesComeInBothShapesWithPagesAndRateLimitHeaders() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.roles += [("rol_a", "Member-Admins"), ("rol_b", "members-old")]
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let base = "http://127.0.0.1:\(try sandbox.start())"
        let unauthenticated = try Self.request("GET", base + "/api/v2/roles")
        #expect(unauthenticated.status == 401)
        #expect(try JSONValue.parse(unauthenticated.body)["errorCode"] == .string("invalid_token"))
        guard let bearer = try Self.token(base, domain: configuration.domain) else {
            Issue.record("no token")
            return
        }
        let auth = [("Authorization", "Bearer \(bearer)")]
        let totals = try Self.request(
            "GET", base + "/api/v2/roles?name_filter=MEMBER&per_page=2&page=0&include_totals=true", headers: auth)
        #expect(totals.status == 200)
        let document = try JSONValue.parse(totals.body)
        #expect(document["total"] == .number(4))  // member, org-member and the two seeded here
        #expect(document["limit"] == .number(2))
        guard case .array(let firstPage)? = document["roles"] else {
            Issue.record("no roles")
            return
        }
        #expect(firstPage.count == 2)
        let bare = try JSONValue.parse(
            try Self.request("GET", base + "/api/v2/roles?name_filter=member&per_page=2&page=1", headers: auth).body)
        guard case .array(let secondPage) = bare else {
            Issue.record("expected a bare array without include_totals")
            return
        }
        #expect(secondPage.count == 2)
        #expect(totals.headers["x-ratelimit-limit"] == "50")
        #expect(totals.headers["x-ratelimit-remaining"] != nil)
        #expect(totals.headers["x-ratelimit-reset"].flatMap(Double.init) != nil)
        let empty = try Self.request("POST", base + "/api/v2/users/u/roles", headers: auth, body: #"{"roles":[]}"#)
        #expect(empty.status == 400)
        #expect(try JSONValue.parse(empty.body)["errorCode"] == .string("invalid_body"))
    }

    /// `GET /api/v2/users/{id}/roles` pages like Auth0's: a bare array by default, `{"roles", "start", "limit",
    /// "total"}` with `include_totals=true` (auth0-python asks for it by default and could not read the bare array the
    /// sandbox used to send). Errors carry Auth0's four fields.
    @Test func userRolesComeInBothShapesWithPages() throws {
        var configuration = Sandbox.Configuration.seeded()
        configuration.missingUsers = ["auth0|ghost"]
        let sandbox = Sandbox(configuration)
        defer { sandbox.shutdown() }
        let base = "http://127.0.0.1:\(try sandbox.start())"
        let bearer = try #require(try Self.token(base, domain: configuration.domain))
        let auth = [("Authorization", "Bearer \(bearer)")]
        let ids = (0..<5).map(Sandbox.roleID(for:))
        sandbox.setRoles(ids, ofUser: "auth0|123")
        let users = base + "/api/v2/users/auth0%7C123/roles"
        func roleIDs(_ value: JSONValue?) -> [String]? {
            guard case .array(let items)? = value else { return nil }
            return items.compactMap { item in
                if case .string(let id)? = item["id"] { id } else { nil }
            }
        }

        let bare = try Self.request("GET", users, headers: auth)
        #expect(bare.status == 200)
        #expect(roleIDs(try JSONValue.parse(bare.body)) == ids)
        let bareFalse = try Self.request("GET", users + "?include_totals=false&per_page=2", headers: auth)
        #expect(roleIDs(try JSONValue.parse(bareFalse.body)) == Array(ids[0..<2]))

        let totals = try Self.request("GET", users + "?include_totals=true&per_page=2&page=1", headers: auth)
        #expect(totals.status == 200)
        let document = try JSONValue.parse(totals.body)
        #expect(roleIDs(document["roles"]) == Array(ids[2..<4]))
        #expect(document["start"] == .number(2))
        #expect(document["limit"] == .number(2))
        #expect(document["total"] == .number(5))
        #expect(totals.headers["x-ratelimit-remaining"] != nil)

        let last = try JSONValue.parse(
            try Self.request("GET", users + "?include_totals=true&per_page=2&page=3", headers: auth).body)
        #expect(roleIDs(last["roles"]) == [])
        #expect(last["start"] == .number(6))
        #expect(last["total"] == .number(5))

        let defaults = try JSONValue.parse(try Self.request("GET", users + "?include_totals=true", headers: auth).body)
        #expect(defaults["start"] == .number(0))
        #expect(defaults["limit"] == .number(50))
        #expect(roleIDs(defaults["roles"]) == ids)

        let nobody = try JSONValue.parse(
            try Self.request("GET", base + "/api/v2/users/auth0%7C456/roles?include_totals=true", headers: auth).body)
        #expect(roleIDs(nobody["roles"]) == [])
        #expect(nobody["total"] == .number(0))

        let badPage = try Self.request("GET", users + "?include_totals=true&per_page=101", headers: auth)
        #expect(badPage.status == 400)
        #expect(try JSONValue.parse(badPage.body)["errorCode"] == .string("invalid_query_string"))

        let ghost = try Self.request(
            "GET", base + "/api/v2/users/auth0%7Cghost/roles?include_totals=true", headers: auth)
        #expect(ghost.status == 404)
        let error = try JSONValue.parse(ghost.body)
        #expect(error["statusCode"] == .number(404))
        #expect(error["error"] == .string("Not Found"))
        #expect(error["errorCode"] == .string("inexistent_user"))
        #expect(error["message"] != nil)
    }

    /// A page whose first role would be past the largest integer (it overflowed and killed the sandbox) is a 400,
    /// as are pages and page sizes that are not whole numbers in range; the page just below still answers.
    @Test func pagesOutOfRangeAre400sNotCrashes() throws {
        let sandbox = Sandbox()
        defer { sandbox.shutdown() }
        let base = "http://127.0.0.1:\(try sandbox.start())"
        let token = try Self.request(
            "POST", base + "/oauth/token",
            body:
                #"{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret","audience":"https://\#(sandbox.configuration.domain)/api/v2/"}"#
        )
        guard case .string(let bearer)? = try JSONValue.parse(token.body)["access_token"] else {
            Issue.record("no token")
            return
        }
        let auth = [("Authorization", "Bearer \(bearer)")]
        func status(_ query: String) throws -> Int {
            try Self.request("GET", base + "/api/v2/roles?" + query, headers: auth).status
        }
        #expect(try status("page=1000000000000000000&per_page=50") == 400)
        #expect(try status("page=\(Int.max / 50 + 1)&per_page=50") == 400)
        #expect(try status("page=\(Int.max / 50)&per_page=50") == 200)
        #expect(try status("page=\(Int.max)&per_page=1") == 200)
        #expect(try status("page=-1") == 400)
        #expect(try status("page=1e3") == 400)
        #expect(try status("per_page=101") == 400)
        #expect(try status("per_page=100") == 200)
        #expect(try status("per_page=0") == 400)
        let refusal = try Self.request("GET", base + "/api/v2/roles?page=99999999999999999999", headers: auth)
        #expect(try JSONValue.parse(refusal.body)["errorCode"] == .string("invalid_query_string"))
        #expect(try status("page=0") == 200, "the sandbox still serves")
    }

    @Test func aSandboxRefusesWhatItCannotServe() {
        let sandbox = Sandbox()
        defer { sandbox.shutdown() }
        #expect(throws: SandboxError.self) { try sandbox.start(port: 70_000) }
        #expect(throws: SandboxError.self) { try sandbox.start(port: -1) }
        for rate in [0, -1, Double.nan, Double.infinity] {
            var configuration = Sandbox.Configuration.seeded()
            configuration.rateLimit = rate
            #expect(throws: SandboxError.self) { try configuration.validate() }
        }
    }

    /// The example rule set applied to many users while every kind of fault is injected: the tenant ends up with
    /// exactly the roles the rules decide, and no change happens twice.
    @Test func everyDecisionLandsExactlyOnceUnderFaults() throws {
        let root = String(#filePath[..<#filePath.range(of: "/Tests/")!.lowerBound])
        let files = try ["company.rules", "default-roles.rules"].map {
            SourceFile(path: $0, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: root + "/rules/" + $0))))
        }
        let evaluator = Evaluator(program: try #require(RuleEngine.compile(files).program))
        let harness = try Harness(
            {
                $0.rateLimit = 500
                $0.burst = 50
            }, rate: 400, burst: 20,
            policy: {
                var policy = RetryPolicy()
                policy.baseBackoff = 0.02
                return policy
            }())
        let names = Dictionary(uniqueKeysWithValues: harness.sandbox.configuration.roles.map { ($0.id, $0.name) })
        let emails = ["a@acme.com", "b@ACME.COM", "c@example.org", "d@acme.com.evil.example"]
        let countries = ["DE", "US", "FR", "NO"]
        let groups = [[], ["admin"], ["billing"], ["finance", "admin"]]
        var expected: [String: Set<String>] = [:]
        for index in 0..<48 {
            switch index % 8 {
            case 1: harness.sandbox.inject { $0.tooManyRequests = 1 }
            case 3: harness.sandbox.inject { $0.serverErrors = 2 }
            case 5: harness.sandbox.inject { $0.droppedConnections = 2 }
            case 7: harness.sandbox.inject { $0.expireTokens = true }
            default: break
            }
            let user = "auth0|user\(index)"
            let held = index % 3 == 0 ? ["member", "staff"] : []
            harness.sandbox.setRoles(held.map(harness.id), ofUser: user)
            let event = """
                {"user": {"user_id": "\(user)", "email": "\(emails[index % 4])", "email_verified": \(index % 5 != 0),
                  "app_metadata": {"groups": \(JSONValue.array(groups[index % 4].map(JSONValue.string)).serialized),
                  "blocked": \(index % 11 == 0)}},
                 "request": {"geoip": {"countryCode": "\(countries[index / 4 % 4])"}},
                 "connection": {"strategy": "\(index % 6 == 0 ? "samlp" : "auth0")"},
                 "stats": {"logins_count": \(index % 7 + 1)},
                 "authorization": {"roles": \(JSONValue.array(held.map(JSONValue.string)).serialized)}}
                """
            let decision = try evaluator.evaluate(Array(event.utf8))
            expected[user] = Set(decision.roles)
            let plan = try UserPlan.make(decision)
            let outcomes = harness.runner.apply(plan)
            #expect(
                outcomes.allSatisfy {
                    if case .failed = $0.status { false } else if case .gaveUp = $0.status { false } else { true }
                }, "\(outcomes.map(\.text))")
        }
        for (user, roles) in expected {
            #expect(Set(harness.sandbox.roles(ofUser: user).compactMap { names[$0] }) == roles, "\(user)")
        }
        #expect(harness.sandbox.changes.values.allSatisfy { $0 == 1 }, "a change happened twice")
        #expect(harness.client.statistics.retries >= 6 * 3)
    }
}
