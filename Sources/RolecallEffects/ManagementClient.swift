import Logging
import RolecallEngine
import RolecallJSON
import RolecallLanguage

/// Why a Management API call did not succeed.
public enum APIFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A 4xx other than 408/429 (or a 401 that survived a token refresh): permanent, never retried.
    case permanent(status: Int, errorCode: String?, message: String)
    /// Every attempt failed with something worth retrying; the last failure is described. An answer that is not
    /// what the API sends (HTML, the wrong JSON shape) is such a failure: `invalid response from ...`.
    case gaveUp(attempts: Int, lastError: String)
    /// The run's deadline came (or would come during the next wait) before an answer; the last failure, if any,
    /// and the wait that would have ended past the deadline, when one did (`the server asked to wait 60 s
    /// (x-ratelimit-reset)`).
    case deadline(lastError: String?, wait: String? = nil)

    public var description: String {
        switch self {
        case .permanent(let status, let code, let message): "\(status) \(code ?? "error"): \(message)"
        case .gaveUp(let attempts, let last): "gave up after \(attempts) attempts: \(last)"
        case .deadline(let last, let wait):
            "gave up: " + (wait.map { "\($0), past the run's deadline" } ?? "the run's deadline passed")
                + (last.map { " (last problem: \($0))" } ?? "")
        }
    }
}

/// The Auth0 Management API calls Rolecall makes, with token caching, retries and pacing.
///
/// Everything a server sends is checked before it is used: numbers out of range count as absent, a 2xx whose
/// body is not the expected JSON is an invalid response (retried like a 5xx, never cached), an access token that
/// could not travel in a header is refused, role listings stop at the tenant limit of 1,000 roles or at a page
/// that is short or repeats. Every wait is capped and logged, and an optional ``deadline`` bounds the whole run.
///
/// Not thread-safe (it owns one ``CurlClient``); use one per thread. Every call blocks.
public final class ManagementClient {
    /// Counters for the summary.
    public struct Statistics: Sendable {
        /// HTTP requests sent, retries (and libcurl's own resends) included.
        public var requests = 0
        /// Requests repeated after a retryable failure, and requests libcurl sent again by itself.
        public var retries = 0
        /// Seconds spent waiting on rate limits (the pacer, 429s and reset headers).
        public var rateLimitWait = 0.0
        /// Seconds spent in backoff after 5xx, invalid answers and network failures.
        public var backoffWait = 0.0
        /// Tokens fetched.
        public var tokens = 0
        /// Answers that were 429 Too Many Requests.
        public var tooManyRequests = 0
    }

    /// Roles a tenant can have at most (Auth0's documented limit): role listings never page past it.
    public static let maxTenantRoles = 1_000
    /// Roles asked for per page.
    public static let rolesPerPage = 50
    /// The shortest token lifetime believed, in seconds: a smaller `expires_in` (0 or negative included) is
    /// raised to it, with a warning, so a broken token endpoint does not cost a token request per API request.
    public static let minimumTokenLifetime = 60.0
    /// The longest token lifetime believed, in seconds (30 days).
    public static let maximumTokenLifetime = 2_592_000.0

    /// The tenant it talks to.
    public let configuration: TenantConfiguration
    /// What it has done so far.
    public private(set) var statistics = Statistics()
    /// A Unix time after which no request starts and no wait is begun that would end later: calls fail with
    /// ``APIFailure/deadline(lastError:)`` instead. Nil for none. Setting it clears ``deadlineFailure``.
    public var deadline: Double? {
        didSet { deadlineFailure = nil }
    }
    /// The first failure caused by ``deadline``, if one happened: after it, every call fails the same way.
    public private(set) var deadlineFailure: APIFailure?
    /// The last failure to get an access token, until a token is fetched again: without a token no call can
    /// succeed, so a caller running a batch may stop at the first one.
    public private(set) var tokenFailure: APIFailure?
    let http: CurlClient
    let limiter: RateLimiter
    let policy: RetryPolicy
    let logger: Logger
    let clock: () -> Double
    let sleep: (Double) -> Void
    var token: (value: String, expires: Double)?
    /// The last two access tokens fetched (the current one and the one a 401 replaced), for ``redacted(_:)``.
    var recentTokens: [String] = []
    /// Role ids by name (nil: the tenant has no such role), by the name's bytes (``ExactString``): Auth0 holds
    /// `"caf\u{E9}"` and `"cafe\u{301}"` as two roles, and a `String` key would give one the other's id.
    var roleIDs: [ExactString: String?] = [:]
    /// Role listings judged invalid (a repeating page, more roles than a tenant can have), by name: the answer
    /// was complete and wrong, so asking again in the same run would page up to 21 times for the same verdict.
    var roleFailures: [ExactString: APIFailure] = [:]
    /// For a name the tenant has no role of: a role name it listed that prints alike but is different bytes
    /// (`cafe\u{301}` for `caf\u{e9}`), to say so in the failure.
    var alikeRoleNames: [ExactString: String] = [:]
    var random = SystemRandomNumberGenerator()

    /// A client for `configuration`.
    public init(
        configuration: TenantConfiguration, http: CurlClient = CurlClient(), limiter: RateLimiter,
        policy: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "rolecall.effects"),
        deadline: Double? = nil, clock: @escaping () -> Double = wallClock,
        sleep: @escaping (Double) -> Void = sleepSeconds
    ) {
        self.configuration = configuration
        self.http = http
        self.limiter = limiter
        self.policy = policy
        self.logger = logger
        self.deadline = deadline
        self.clock = clock
        self.sleep = sleep
    }

    // MARK: the calls

    /// The id of the role named exactly `name`, or nil when the tenant has none. Only complete answers are
    /// cached: a listing that ends early with a failure is not.
    ///
    /// `name_filter` is case-insensitive and matches substrings, so every page is searched for the exact name:
    /// the same bytes, as Auth0 compares names (a canonically equivalent spelling is another role).
    /// Paging stops at a short page, at `total`, or past ``maxTenantRoles``; a page that only repeats roles
    /// already seen, or more roles than a tenant can have, is an invalid response, remembered for the rest of the
    /// run (the same name fails again without a request).
    /// A name of a tenant role that prints like `name` but is different bytes, seen while looking `name` up with
    /// ``roleID(named:)`` and finding no role of that name.
    public func alikeRoleName(_ name: String) -> String? { alikeRoleNames[ExactString(name)] }

    public func roleID(named name: String) throws(APIFailure) -> String? {
        let key = ExactString(name)
        if let cached = roleIDs[key] { return cached }
        if let failure = roleFailures[key] { throw failure }
        let route = "GET /api/v2/roles"
        // Role ids seen, by their bytes too: ids are opaque, and two that `String` finds equal are two ids.
        var seen: Set<ExactString> = []
        var page = 0
        while true {
            let query =
                "name_filter=\(Self.percentEncoded(name))&per_page=\(Self.rolesPerPage)&page=\(page)&include_totals=true"
            let listing = try perform(route: route, authenticated: true, parse: Self.rolesPage) { bearer in
                self.apiRequest("GET", "/api/v2/roles?\(query)", bearer: bearer, body: nil)
            }
            if let match = listing.roles.first(where: { ExactString($0.name) == key }) {
                roleIDs[key] = match.id
                return match.id
            }
            if alikeRoleNames[key] == nil,
                let alike = listing.roles.first(where: { Spelling.differOnlyInEncoding($0.name, name) })
            {
                alikeRoleNames[key] = alike.name
            }
            let fresh = Set(listing.roles.map { ExactString($0.id) }).subtracting(seen)
            if !listing.roles.isEmpty && fresh.isEmpty {
                let failure = APIFailure.gaveUp(
                    attempts: 1, lastError: "invalid response from \(route): page \(page) repeats roles already listed")
                roleFailures[key] = failure
                throw failure
            }
            seen.formUnion(fresh)
            if seen.count > Self.maxTenantRoles {
                let failure = APIFailure.gaveUp(
                    attempts: 1,
                    lastError: "invalid response from \(route): more than \(Self.maxTenantRoles) roles, "
                        + "more than a tenant can have")
                roleFailures[key] = failure
                throw failure
            }
            page += 1
            if listing.roles.count < Self.rolesPerPage { break }
            if let total = listing.total, page * Self.rolesPerPage >= total { break }
        }
        roleIDs[key] = .some(nil)
        return nil
    }

    /// Assigns (`assign`) or removes roles `ids` for user `userID`, in one request.
    public func setRoles(_ ids: [String], assign: Bool, userID: String) throws(APIFailure) {
        let body = Array(JSONValue.object([("roles", .array(ids.map(JSONValue.string)))]).serialized.utf8)
        let method = assign ? "POST" : "DELETE"
        try perform(route: "\(method) /api/v2/users/{id}/roles", authenticated: true, parse: Self.roleChangeAnswer) {
            self.apiRequest(method, "/api/v2/users/\(Self.percentEncoded(userID))/roles", bearer: $0, body: body)
        }
    }

    /// Whether an answer to `POST` or `DELETE /api/v2/users/{id}/roles` says the change was made. Auth0 answers
    /// 201 or 204 with an empty body (200 with an empty body is taken too, and a JSON body from a proxy): any
    /// other 2xx, such as a captive portal's 200 with HTML, is an invalid response, never counted as done.
    static func roleChangeAnswer(_ response: HTTPResponse) -> Result<Void, InvalidAnswer> {
        guard [200, 201, 204].contains(response.status) else {
            return .failure(InvalidAnswer(problem: "HTTP \(response.status) is not how the API confirms a change"))
        }
        let blank = response.body.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard blank || (try? JSONValue.parse(response.body)) != nil else { return .failure(notJSON(response)) }
        return .success(())
    }

    /// One page of a `GET /api/v2/roles` answer.
    struct RolesPage {
        var roles: [(id: String, name: String)]
        var total: Int?
    }

    /// A 2xx answer that is not what the API sends, and what is wrong with it.
    struct InvalidAnswer: Error {
        var problem: String
    }

    /// The roles and total of a `GET /api/v2/roles` answer, in either of its shapes (a bare array, or an object
    /// with `roles` and `total`). Anything else is invalid; a `total` that is not a sensible count is unknown.
    static func rolesPage(_ response: HTTPResponse) -> Result<RolesPage, InvalidAnswer> {
        guard let document = try? JSONValue.parse(response.body) else { return .failure(notJSON(response)) }
        var items: [JSONValue]
        var total: Int?
        switch document {
        case .array(let list): items = list
        case .object:
            guard case .array(let list)? = document["roles"] else {
                return .failure(InvalidAnswer(problem: "the body has no `roles` list"))
            }
            items = list
            if case .number(let count)? = document["total"] {
                total = NetworkValue.integer(count, in: 0...Int(Int32.max))
            }
        default: return .failure(InvalidAnswer(problem: "the body is neither a list nor an object"))
        }
        var roles: [(id: String, name: String)] = []
        for item in items {
            guard case .string(let id)? = item["id"], case .string(let name)? = item["name"], !id.isEmpty else {
                return .failure(InvalidAnswer(problem: "a role has no string `id` and `name`"))
            }
            roles.append((id, name))
        }
        return .success(RolesPage(roles: roles, total: total))
    }

    static func notJSON(_ response: HTTPResponse) -> InvalidAnswer {
        let type = response.headers["content-type"].map { " (Content-Type \(HumanText.word(String($0.prefix(100)))))" }
        return InvalidAnswer(problem: "HTTP \(response.status) with a body that is not JSON\(type ?? "")")
    }

    // MARK: requests, retries, tokens

    /// An authenticated API request.
    func apiRequest(_ method: String, _ path: String, bearer: String?, body: [UInt8]?) -> HTTPRequest {
        var headers = [("Authorization", "Bearer \(bearer ?? "")"), ("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return HTTPRequest(method: method, url: configuration.baseURL + path, headers: headers, body: body)
    }

    /// Sends the request `make` builds (given the bearer token when `authenticated`) until `parse` accepts a 2xx
    /// answer, a failure is permanent, the attempts are spent or the deadline comes. An authenticated request
    /// that gets a 401 fetches a new token once.
    @discardableResult
    func perform<Value>(
        route: String, authenticated: Bool, parse: (HTTPResponse) -> Result<Value, InvalidAnswer>,
        _ make: (String?) -> HTTPRequest
    ) throws(APIFailure) -> Value {
        if let deadlineFailure { throw deadlineFailure }
        var refreshed = false
        var attempt = 0
        var lastProblem: String?
        while true {
            attempt += 1
            let bearer = authenticated ? try accessToken() : nil
            let result = try paced(make(bearer), route: route, lastProblem: lastProblem)
            switch result {
            case .success(let response) where (200...299).contains(response.status):
                switch parse(response) {
                case .success(let value): return value
                case .failure(let invalid):
                    let problem = "invalid response from \(route): \(redacted(invalid.problem))"
                    lastProblem = problem
                    try retry(after: attempt, route: route, status: response.status, headers: [:], problem: problem)
                }
            case .success(let response) where authenticated && response.status == 401 && !refreshed:
                // The token expired or was revoked early: fetch a new one, once.
                refreshed = true
                token = nil
                attempt -= 1
                logger.info("refreshing the access token after a 401", metadata: ["request": "\(route)"])
            case .success(let response) where RetryPolicy.isRetryable(status: response.status):
                let problem = Self.describe(response, redact: redacted)
                lastProblem = problem
                try retry(
                    after: attempt, route: route, status: response.status, headers: response.headers, problem: problem)
            // A redirect is permanent, a dead letter in the outbox, not retried: the Management API never
            // redirects, so something in between does (`http` behind an `https` redirect, a proxy's login or
            // maintenance page), most often a setting that will not fix itself; a dead letter shows it at once
            // with its `Location`, and `rules outbox retry` queues what the newest logins still want once it is
            // fixed. Never followed: that would carry the token to another host.
            case .success(let response) where [301, 302, 303, 307, 308].contains(response.status):
                let location = response.headers["location"].map { " to `\(String(redacted($0).prefix(200)))`" } ?? ""
                throw .permanent(
                    status: response.status, errorCode: "redirect",
                    message: "the server redirected\(location); redirects are not followed")
            case .success(let response) where !(400...499).contains(response.status):
                // 1xx, 304 and the other 3xx, 6xx and beyond: nothing the API answers.
                throw .permanent(
                    status: response.status, errorCode: "unexpected_status",
                    message: "HTTP \(response.status) is not an answer the Management API gives")
            case .success(let response):
                let (code, message) = Self.errorDetails(response, redact: redacted)
                throw .permanent(status: response.status, errorCode: code, message: message)
            case .failure(let error) where error.kind != .other:
                lastProblem = error.message
                try retry(after: attempt, route: route, status: nil, headers: [:], problem: error.message)
            case .failure(let error):
                throw .permanent(status: 0, errorCode: "transport", message: error.message)
            }
        }
    }

    /// `text` from a server with every occurrence of the client secret and of the access tokens this client
    /// holds or held last (as they are, and as JSON would escape them) replaced by `***`: a server that echoes
    /// a request (a 400 quoting the token request's body, a 403 quoting the Authorization header) cannot put
    /// them in an outcome, a log line or the stop message.
    func redacted(_ text: String) -> String {
        var text = text
        for secret in [configuration.clientSecret] + recentTokens where !secret.isEmpty {
            let escaped = String(JSONValue.string(secret).serialized.dropFirst().dropLast())
            for form in Set([secret, escaped]) { text = text.replacing(form, with: "***") }
        }
        return text
    }

    /// Waits before the next attempt, or gives up when the attempts are spent or the wait would end past the
    /// deadline.
    func retry(after attempt: Int, route: String, status: Int?, headers: [String: String], problem: String)
        throws(APIFailure)
    {
        guard attempt < policy.maxAttempts else { throw .gaveUp(attempts: attempt, lastError: problem) }
        let (wait, reason) = policy.wait(
            afterAttempt: attempt, headers: headers, now: clock(), random: Double.random(in: 0..<1, using: &random))
        if let deadline, clock() + wait >= deadline {
            // A wait a server's header forced is named: the run did not simply run out of time.
            let forced =
                reason == .backoff ? nil : "the server asked to wait \(RateLimiter.rounded(wait)) s (\(reason))"
            throw deadlineFailure(route: route, lastProblem: problem, wait: forced)
        }
        statistics.retries += 1
        if status == 429 || reason != .backoff {
            statistics.rateLimitWait += wait
        } else {
            statistics.backoffWait += wait
        }
        logger.notice(
            "waiting before retrying a Management API request",
            metadata: [
                "request": "\(route)", "attempt": "\(attempt)", "http.status": "\(status.map(String.init) ?? "none")",
                "problem": "\(HumanText.line(problem))", "wait.seconds": "\(RateLimiter.rounded(wait))",
                "wait.reason": "\(reason)",
            ])
        sleep(wait)
    }

    /// The deadline failure, noted so the caller can stop the run.
    func deadlineFailure(route: String, lastProblem: String?, wait: String? = nil) -> APIFailure {
        let failure = APIFailure.deadline(lastError: lastProblem.map { "\(route): \($0)" }, wait: wait)
        if deadlineFailure == nil {
            deadlineFailure = failure
            logger.notice(
                "the run's deadline came before a Management API request could finish",
                metadata: [
                    "request": "\(route)", "problem": "\(HumanText.line(lastProblem ?? "none"))",
                    "wait": "\(wait ?? "none")",
                ])
        }
        return failure
    }

    /// One request through the pacer, within the deadline; rate-limit headers are fed back to the pacer, and
    /// requests libcurl resent by itself are counted as retries.
    func paced(_ request: HTTPRequest, route: String, lastProblem: String?) throws(APIFailure)
        -> Result<HTTPResponse, TransportError>
    {
        guard let waited = limiter.acquire(before: deadline ?? .infinity) else {
            let wait = limiter.refusedWait.map { wait in
                wait.reason == .reset
                    ? "the server asked to wait \(RateLimiter.rounded(wait.seconds)) s (x-ratelimit-remaining=0 until "
                        + "x-ratelimit-reset)"
                    : "pacing to the configured rate would wait \(RateLimiter.rounded(wait.seconds)) s"
            }
            throw deadlineFailure(route: route, lastProblem: lastProblem, wait: wait)
        }
        statistics.rateLimitWait += waited
        var request = request
        if let deadline {
            let remaining = deadline - clock()
            guard remaining > 0 else { throw deadlineFailure(route: route, lastProblem: lastProblem) }
            request.timeoutMilliseconds = Int(min(remaining * 1000, 1e9).rounded(.up))
        }
        statistics.requests += 1
        let result: Result<HTTPResponse, TransportError>
        do {
            let response = try http.send(request)
            // A 429's own wait is the retry policy's to decide (Retry-After first); other answers steer the pacer.
            if response.status != 429 {
                limiter.observe(headers: response.headers)
            } else {
                statistics.tooManyRequests += 1
            }
            result = .success(response)
        } catch {
            result = .failure(error)
        }
        let resends =
            switch result {
            case .success(let response): response.resends
            case .failure(let error): error.resends
            }
        if resends > 0 {
            statistics.requests += resends
            statistics.retries += resends
            logger.notice(
                "libcurl sent a request again on a new connection after the kept-alive one died",
                metadata: ["request": "\(route)", "resends": "\(resends)"])
        }
        return result
    }

    /// A cached access token, fetched with the client-credentials grant when missing or about to expire.
    ///
    /// The answer must carry an `access_token` that can travel in a header (printable ASCII, no spaces, at most
    /// 16 KiB): anything else, CR/LF above all, is an invalid response and never sent. `expires_in` is raised to
    /// ``minimumTokenLifetime`` (with a warning) and capped at ``maximumTokenLifetime``; missing or not a finite
    /// number, a day is assumed.
    func accessToken() throws(APIFailure) -> String {
        if let token, clock() < token.expires { return token.value }
        let body = JSONValue.object([
            ("grant_type", .string("client_credentials")), ("client_id", .string(configuration.clientID)),
            ("client_secret", .string(configuration.clientSecret)), ("audience", .string(configuration.audience)),
        ]).serialized
        let answer: (value: String, expiresIn: Double?)
        do {
            answer = try perform(route: "POST /oauth/token", authenticated: false, parse: Self.tokenAnswer) { _ in
                HTTPRequest(
                    method: "POST", url: self.configuration.baseURL + "/oauth/token",
                    headers: [("Content-Type", "application/json"), ("Accept", "application/json")],
                    body: Array(body.utf8))
            }
        } catch {
            tokenFailure = error
            throw error
        }
        tokenFailure = nil
        var lifetime = 86_400.0
        if let seconds = answer.expiresIn, seconds.isFinite {
            if seconds < Self.minimumTokenLifetime {
                logger.warning(
                    "the token endpoint gave a lifetime too short to use; using the floor",
                    metadata: [
                        "token.expires_in": "\(seconds)", "token.lifetime": "\(Self.minimumTokenLifetime)",
                    ])
            }
            lifetime = min(max(seconds, Self.minimumTokenLifetime), Self.maximumTokenLifetime)
        }
        // Refresh a minute early (or a tenth of a short lifetime), so no request carries a dying token.
        token = (answer.value, clock() + lifetime - min(60, lifetime / 10))
        recentTokens = [answer.value] + recentTokens.prefix(1)
        statistics.tokens += 1
        logger.info("fetched a Management API access token", metadata: ["token.lifetime": "\(lifetime)"])
        return answer.value
    }

    /// The token and `expires_in` of a token answer, or what is wrong with it (never quoting the token).
    static func tokenAnswer(_ response: HTTPResponse) -> Result<(value: String, expiresIn: Double?), InvalidAnswer> {
        guard let document = try? JSONValue.parse(response.body) else { return .failure(notJSON(response)) }
        guard case .string(let value)? = document["access_token"] else {
            return .failure(InvalidAnswer(problem: "the token answer has no `access_token`"))
        }
        guard !value.isEmpty, value.utf8.count <= 16 << 10, value.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            return .failure(
                InvalidAnswer(problem: "the access token is empty, too long, or has characters a header cannot carry"))
        }
        var expiresIn: Double?
        if case .number(let seconds)? = document["expires_in"] { expiresIn = seconds }
        return .success((value, expiresIn))
    }

    /// Auth0's error code and message from an error body (`{statusCode, error, message, errorCode}` for the API,
    /// `{error, error_description}` for the token endpoint).
    /// `redact` is applied to the server's words before they are cut short, so no part of a secret survives.
    static func errorDetails(_ response: HTTPResponse, redact: (String) -> String = { $0 }) -> (String?, String) {
        guard case .object(let fields)? = try? JSONValue.parse(response.body) else {
            return (nil, "HTTP \(response.status)")
        }
        func text(_ key: String) -> String? {
            if case .string(let value)? = fields.first(where: { $0.key == key })?.value { return value }
            return nil
        }
        let code = (text("errorCode") ?? text("error")).map(redact)
        let message = redact(text("message") ?? text("error_description") ?? text("error") ?? "HTTP \(response.status)")
        // A server's words are kept short: a report line is not the place for a megabyte of them.
        return (code.map { String($0.prefix(100)) }, message.count > 500 ? message.prefix(500) + "..." : message)
    }

    static func describe(_ response: HTTPResponse, redact: (String) -> String = { $0 }) -> String {
        let (code, message) = errorDetails(response, redact: redact)
        return "\(response.status) \(code ?? "")".trimmingCharacters(in: " ") + ": \(message)"
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters (`auth0|123` becomes `auth0%7C123`), and
    /// `.` too: a user id of `..` or `.` left as it is would be a dot segment, which a URL resolver collapses
    /// (`/api/v2/users/../roles` is `POST /api/v2/roles`, creating a role). Auth0 decodes `%2E` like any other.
    public static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
