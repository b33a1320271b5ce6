import Logging
import RolecallEngine
import RolecallLanguage

/// Why a Management API call did not succeed.
public enum APIFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A 4xx other than 408/429 (or a 401 that survived a token refresh): permanent, never retried.
    case permanent(status: Int, errorCode: String?, message: String)
    /// Every attempt failed with something worth retrying; the last failure is described.
    case gaveUp(attempts: Int, lastError: String)

    public var description: String {
        switch self {
        case .permanent(let status, let code, let message): "\(status) \(code ?? "error"): \(message)"
        case .gaveUp(let attempts, let last): "gave up after \(attempts) attempts: \(last)"
        }
    }
}

/// The Auth0 Management API calls Rolecall makes, with token caching, retries and pacing.
///
/// Not thread-safe (it owns one ``CurlClient``); use one per thread. Every call blocks.
public final class ManagementClient {
    /// Counters for the summary.
    public struct Statistics: Sendable {
        /// HTTP requests sent, retries included.
        public var requests = 0
        /// Requests repeated after a retryable failure.
        public var retries = 0
        /// Seconds spent waiting on rate limits (the pacer, 429s and reset headers).
        public var rateLimitWait = 0.0
        /// Seconds spent in backoff after 5xx and network failures.
        public var backoffWait = 0.0
        /// Tokens fetched.
        public var tokens = 0
    }

    /// The tenant it talks to.
    public let configuration: TenantConfiguration
    /// What it has done so far.
    public private(set) var statistics = Statistics()
    let http: CurlClient
    let limiter: RateLimiter
    let policy: RetryPolicy
    let logger: Logger
    let clock: () -> Double
    let sleep: (Double) -> Void
    var token: (value: String, expires: Double)?
    var roleIDs: [String: String?] = [:]
    var random = SystemRandomNumberGenerator()

    /// A client for `configuration`.
    public init(
        configuration: TenantConfiguration, http: CurlClient = CurlClient(), limiter: RateLimiter,
        policy: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "rolecall.effects"),
        clock: @escaping () -> Double = wallClock, sleep: @escaping (Double) -> Void = sleepSeconds
    ) {
        self.configuration = configuration
        self.http = http
        self.limiter = limiter
        self.policy = policy
        self.logger = logger
        self.clock = clock
        self.sleep = sleep
    }

    // MARK: the calls

    /// The id of the role named exactly `name`, or nil when the tenant has none. Results are cached.
    ///
    /// `name_filter` is case-insensitive and matches substrings, so every page is searched for the exact name.
    public func roleID(named name: String) throws(APIFailure) -> String? {
        if let cached = roleIDs[name] { return cached }
        var page = 0
        while true {
            let query = "name_filter=\(Self.percentEncoded(name))&per_page=50&page=\(page)&include_totals=true"
            let response = try send("GET", "/api/v2/roles?\(query)", route: "GET /api/v2/roles")
            let (roles, total) = Self.roles(in: response)
            if let match = roles.first(where: { $0.name == name }) {
                roleIDs[name] = match.id
                return match.id
            }
            page += 1
            if roles.count < 50 || page * 50 >= (total ?? Int.max) { break }
        }
        roleIDs[name] = .some(nil)
        return nil
    }

    /// Assigns (`assign`) or removes roles `ids` for user `userID`, in one request.
    public func setRoles(_ ids: [String], assign: Bool, userID: String) throws(APIFailure) {
        let body = JSONValue.object([("roles", .array(ids.map(JSONValue.string)))]).serialized
        _ = try send(
            assign ? "POST" : "DELETE", "/api/v2/users/\(Self.percentEncoded(userID))/roles",
            route: "\(assign ? "POST" : "DELETE") /api/v2/users/{id}/roles", body: Array(body.utf8))
    }

    /// The roles and total of a `GET /api/v2/roles` answer, in either of its shapes.
    static func roles(in response: HTTPResponse) -> ([(id: String, name: String)], Int?) {
        guard let document = try? JSONValue.parse(response.body) else { return ([], nil) }
        var items: [JSONValue] = []
        var total: Int?
        switch document {
        case .array(let list): items = list
        case .object(let members):
            if case .array(let list)? = members.first(where: { $0.key == "roles" })?.value { items = list }
            if case .number(let count)? = members.first(where: { $0.key == "total" })?.value { total = Int(count) }
        default: break
        }
        let roles = items.compactMap { item -> (id: String, name: String)? in
            guard case .object(let fields) = item,
                case .string(let id)? = fields.first(where: { $0.key == "id" })?.value,
                case .string(let name)? = fields.first(where: { $0.key == "name" })?.value
            else { return nil }
            return (id, name)
        }
        return (roles, total)
    }

    // MARK: requests, retries, tokens

    /// Sends an authenticated API request with pacing, retries, and one token refresh on a 401.
    func send(_ method: String, _ path: String, route: String, body: [UInt8]? = nil) throws(APIFailure) -> HTTPResponse
    {
        try perform(route: route, authenticated: true) { bearer in
            var headers = [("Authorization", "Bearer \(bearer ?? "")"), ("Accept", "application/json")]
            if body != nil { headers.append(("Content-Type", "application/json")) }
            return HTTPRequest(method: method, url: configuration.baseURL + path, headers: headers, body: body)
        }
    }

    /// Sends the request `make` builds (given the bearer token when `authenticated`) until it succeeds, fails
    /// for good, or the attempts are spent. An authenticated request that gets a 401 fetches a new token once.
    func perform(route: String, authenticated: Bool, _ make: (String?) -> HTTPRequest) throws(APIFailure)
        -> HTTPResponse
    {
        var refreshed = false
        var attempt = 0
        while true {
            attempt += 1
            let bearer = authenticated ? try accessToken() : nil
            switch paced(make(bearer)) {
            case .success(let response) where (200...299).contains(response.status):
                return response
            case .success(let response) where authenticated && response.status == 401 && !refreshed:
                // The token expired or was revoked early: fetch a new one, once.
                refreshed = true
                token = nil
                attempt -= 1
                logger.info("refreshing the access token after a 401", metadata: ["request": "\(route)"])
            case .success(let response) where RetryPolicy.isRetryable(status: response.status):
                try retry(
                    after: attempt, route: route, status: response.status, headers: response.headers,
                    problem: Self.describe(response))
            case .success(let response):
                let (code, message) = Self.errorDetails(response)
                throw .permanent(status: response.status, errorCode: code, message: message)
            case .failure(let error) where error.kind != .other:
                try retry(after: attempt, route: route, status: nil, headers: [:], problem: error.message)
            case .failure(let error):
                throw .permanent(status: 0, errorCode: "transport", message: error.message)
            }
        }
    }

    /// Waits before the next attempt, or gives up when the attempts are spent.
    func retry(after attempt: Int, route: String, status: Int?, headers: [String: String], problem: String)
        throws(APIFailure)
    {
        guard attempt < policy.maxAttempts else { throw .gaveUp(attempts: attempt, lastError: problem) }
        let (wait, reason) = policy.wait(
            afterAttempt: attempt, headers: headers, now: clock(), random: Double.random(in: 0..<1, using: &random))
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
                "problem": "\(problem)", "wait.seconds": "\(Self.rounded(wait))", "wait.reason": "\(reason)",
            ])
        sleep(wait)
    }

    /// One request through the pacer; rate-limit headers are fed back to it.
    func paced(_ request: HTTPRequest) -> Result<HTTPResponse, TransportError> {
        statistics.rateLimitWait += limiter.acquire()
        statistics.requests += 1
        do {
            let response = try http.send(request)
            // A 429's own wait is the retry policy's to decide (Retry-After first); other answers steer the pacer.
            if response.status != 429 { limiter.observe(headers: response.headers) }
            return .success(response)
        } catch {
            return .failure(error)
        }
    }

    /// A cached access token, fetched with the client-credentials grant when missing or about to expire.
    func accessToken() throws(APIFailure) -> String {
        if let token, clock() < token.expires { return token.value }
        let body = JSONValue.object([
            ("grant_type", .string("client_credentials")), ("client_id", .string(configuration.clientID)),
            ("client_secret", .string(configuration.clientSecret)), ("audience", .string(configuration.audience)),
        ]).serialized
        let response = try perform(route: "POST /oauth/token", authenticated: false) { _ in
            HTTPRequest(
                method: "POST", url: configuration.baseURL + "/oauth/token",
                headers: [("Content-Type", "application/json"), ("Accept", "application/json")], body: Array(body.utf8))
        }
        guard case .object(let fields)? = try? JSONValue.parse(response.body),
            case .string(let value)? = fields.first(where: { $0.key == "access_token" })?.value
        else {
            throw .permanent(
                status: response.status, errorCode: "invalid_token_response",
                message: "the token response has no access_token")
        }
        var lifetime = 86_400.0
        if case .number(let seconds)? = fields.first(where: { $0.key == "expires_in" })?.value { lifetime = seconds }
        // Refresh a minute early (or a tenth of a short lifetime), so no request carries a dying token.
        token = (value, clock() + lifetime - min(60, lifetime / 10))
        statistics.tokens += 1
        logger.info("fetched a Management API access token", metadata: ["token.lifetime": "\(lifetime)"])
        return value
    }

    /// Auth0's error code and message from an error body (`{statusCode, error, message, errorCode}` for the API,
    /// `{error, error_description}` for the token endpoint).
    static func errorDetails(_ response: HTTPResponse) -> (String?, String) {
        guard case .object(let fields)? = try? JSONValue.parse(response.body) else {
            return (nil, "HTTP \(response.status)")
        }
        func text(_ key: String) -> String? {
            if case .string(let value)? = fields.first(where: { $0.key == key })?.value { return value }
            return nil
        }
        let code = text("errorCode") ?? text("error")
        let message = text("message") ?? text("error_description") ?? text("error") ?? "HTTP \(response.status)"
        return (code, message)
    }

    static func describe(_ response: HTTPResponse) -> String {
        let (code, message) = errorDetails(response)
        return "\(response.status) \(code ?? "")".trimmingCharacters(in: " ") + ": \(message)"
    }

    static func rounded(_ seconds: Double) -> String { String(Double(Int(seconds * 1000)) / 1000) }

    /// Percent-encodes everything but RFC 3986's unreserved characters (`auth0|123` becomes `auth0%7C123`).
    public static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
