import RolecallEngine

/// The sandbox's answers, decided under its lock from the request alone.
extension Sandbox {
    /// What to do with a request.
    enum Reply {
        /// Close the connection without answering.
        case drop
        /// Answer after `delay` milliseconds.
        case answer(status: Int, headers: [(String, String)], body: String, delay: Int)
    }

    /// Decides the reply to one request and records it.
    func reply(method: String, uri: String, headers: [(String, String)], body: [UInt8]) -> Reply {
        state.withLockedValue { state in
            let (path, query) = Sandbox.split(uri)
            let reply = Sandbox.route(&state, method: method, path: path, query: query, headers: headers, body: body)
            let status: Int
            switch reply {
            case .drop: status = 0
            case .answer(let code, _, _, _): status = code
            }
            state.log.append(LoggedRequest(method: method, path: path, status: status, time: Sandbox.now()))
            return reply
        }
    }

    static func route(
        _ state: inout State, method: String, path: String, query: [String: String], headers: [(String, String)],
        body: [UInt8]
    ) -> Reply {
        let delay = state.faults.delayMilliseconds
        func answer(_ status: Int, _ body: JSONValue, _ extra: [(String, String)] = []) -> Reply {
            .answer(
                status: status, headers: [("Content-Type", "application/json")] + extra, body: body.serialized,
                delay: delay)
        }
        if path == "/oauth/token" {
            guard method == "POST" else { return answer(404, apiError(404, "Not Found", "Not Found", "not_found")) }
            return token(&state, headers: headers, body: body, answer: answer)
        }
        guard path.hasPrefix("/api/v2/") else {
            return answer(404, apiError(404, "Not Found", "Not Found", "not_found"))
        }

        // Injected faults come first, in this order.
        if state.faults.droppedConnections > 0 {
            state.faults.droppedConnections -= 1
            return .drop
        }
        if state.faults.serverErrors > 0 {
            state.faults.serverErrors -= 1
            return answer(
                503,
                apiError(503, "Service Unavailable", "The service is temporarily unavailable", "service_unavailable"))
        }
        if state.faults.expireTokens {
            state.faults.expireTokens = false
            state.tokens.removeAll()
        }
        let rateHeaders = consumeBucket(&state)
        if state.faults.tooManyRequests > 0 {
            state.faults.tooManyRequests -= 1
            var limited = [
                ("x-ratelimit-limit", String(state.configuration.burst)), ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", String(Int(now()) + state.faults.resetAfter)),
            ]
            if let retryAfter = state.faults.retryAfter { limited.append(("Retry-After", String(retryAfter))) }
            return answer(
                429, apiError(429, "Too Many Requests", "Global limit has been reached", "too_many_requests"), limited)
        }
        guard let rateHeaders else {
            let rate = state.configuration.rateLimit.isFinite ? max(state.configuration.rateLimit, 0.001) : 0.001
            let reset = String(Int((now() + min(1 / rate, 3_600)).rounded(.up)))
            return answer(
                429, apiError(429, "Too Many Requests", "Global limit has been reached", "too_many_requests"),
                [
                    ("x-ratelimit-limit", String(state.configuration.burst)), ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", reset),
                ])
        }
        func reply(_ status: Int, _ body: JSONValue) -> Reply { answer(status, body, rateHeaders) }

        // Authentication and scopes.
        let authorization = headers.first { $0.0.lowercased() == "authorization" }?.1 ?? ""
        guard authorization.hasPrefix("Bearer "), let token = state.tokens[String(authorization.dropFirst(7))] else {
            return reply(401, apiError(401, "Unauthorized", "Invalid token", "invalid_token"))
        }
        guard token.expires > now() else {
            return reply(
                401,
                apiError(401, "Unauthorized", "Expired token received for JSON Web Token validation", "invalid_token"))
        }
        if state.faults.badRequests > 0 {
            state.faults.badRequests -= 1
            return reply(400, apiError(400, "Bad Request", "Payload validation error: injected", "invalid_body"))
        }
        func requireScope(_ any: [String]) -> Reply? {
            guard token.scopes.contains(where: any.contains) else {
                return reply(
                    403,
                    apiError(
                        403, "Forbidden", "Insufficient scope, expected any of: " + any.joined(separator: ","),
                        "insufficient_scope"))
            }
            return nil
        }

        if path == "/api/v2/roles", method == "GET" {
            if let refusal = requireScope(["read:roles"]) { return refusal }
            let (status, body) = roles(state, query: query)
            return reply(status, body)
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // ["", "api", "v2", "users", ID, "roles"]
        guard parts.count == 6, parts[3] == "users", parts[5] == "roles", let user = percentDecoded(String(parts[4]))
        else {
            return reply(404, apiError(404, "Not Found", "Not Found", "not_found"))
        }
        if state.configuration.missingUsers.contains(user) {
            return reply(404, apiError(404, "Not Found", "The user does not exist.", "inexistent_user"))
        }
        switch method {
        case "GET":
            if let refusal = requireScope(["read:users"]) { return refusal }
            let held = state.userRoles[user] ?? []
            let (status, body) = page(state.configuration.roles.filter { held.contains($0.id) }, query: query)
            return reply(status, body)
        case "POST", "DELETE":
            let assign = method == "POST"
            if let refusal = requireScope(
                assign ? ["update:users", "create:role_members"] : ["update:users", "delete:role_members"])
            {
                return refusal
            }
            guard case .object(let members)? = try? JSONValue.parse(body),
                case .array(let items)? = members.first(where: { $0.key == "roles" })?.value, !items.isEmpty
            else {
                return reply(
                    400,
                    apiError(
                        400, "Bad Request", "Payload validation error: 'Too few items (minimum: 1)' on property roles",
                        "invalid_body"))
            }
            var ids: [String] = []
            for case .string(let id) in items { ids.append(id) }
            guard ids.count == items.count else {
                return reply(
                    400, apiError(400, "Bad Request", "Payload validation error: roles must be strings", "invalid_body")
                )
            }
            guard ids.allSatisfy({ id in state.configuration.roles.contains { $0.id == id } }) else {
                return reply(
                    404, apiError(404, "Not Found", "One or more of the roles do not exist", "inexistent_role"))
            }
            var held = state.userRoles[user] ?? []
            for id in ids {
                if assign, !held.contains(id) {
                    held.append(id)
                    state.changes["\(user)|\(id)|assign", default: 0] += 1
                } else if !assign, let index = held.firstIndex(of: id) {
                    held.remove(at: index)
                    state.changes["\(user)|\(id)|revoke", default: 0] += 1
                }
            }
            state.userRoles[user] = held
            return .answer(status: 204, headers: rateHeaders, body: "", delay: delay)
        default:
            return reply(404, apiError(404, "Not Found", "Not Found", "not_found"))
        }
    }

    /// `POST /oauth/token`: the client-credentials grant, with a JSON or form body.
    static func token(
        _ state: inout State, headers: [(String, String)], body: [UInt8],
        answer: (Int, JSONValue, [(String, String)]) -> Reply
    ) -> Reply {
        var fields: [String: String] = [:]
        if case .object(let members)? = try? JSONValue.parse(body) {
            for case (let key, .string(let value)) in members { fields[key] = value }
        } else {
            fields = formFields(String(decoding: body, as: UTF8.self))
        }
        let configuration = state.configuration
        guard fields["grant_type"] == "client_credentials" else {
            return answer(
                403,
                .object([
                    ("error", .string("unsupported_grant_type")),
                    ("error_description", .string("Unsupported grant type")),
                ]), [])
        }
        guard fields["client_id"] == configuration.clientID, fields["client_secret"] == configuration.clientSecret
        else {
            return answer(
                401, .object([("error", .string("access_denied")), ("error_description", .string("Unauthorized"))]), [])
        }
        guard fields["audience"] == "https://\(configuration.domain)/api/v2/" else {
            return answer(
                403,
                .object([
                    ("error", .string("access_denied")),
                    ("error_description", .string("Service not enabled within domain: \(fields["audience"] ?? "")")),
                ]), [])
        }
        state.serial += 1
        let value = "sbx_\(state.serial)_\(UInt64.random(in: 0...UInt64.max))"
        state.tokens[value] = (now() + Double(configuration.tokenLifetime), configuration.scopes)
        return answer(
            200,
            .object([
                ("access_token", .string(value)), ("expires_in", .number(Double(configuration.tokenLifetime))),
                ("scope", .string(configuration.scopes.joined(separator: " "))), ("token_type", .string("Bearer")),
            ]), [])
    }

    /// `GET /api/v2/roles`: `name_filter` matches substrings without regard to case, as Auth0's does; the matches
    /// come a page at a time, as ``page(_:query:)`` describes.
    static func roles(_ state: State, query: [String: String]) -> (Int, JSONValue) {
        let filter = query["name_filter"]?.lowercased() ?? ""
        return page(
            state.configuration.roles.filter { filter.isEmpty || $0.name.lowercased().contains(filter) }, query: query)
    }

    /// One page of `roles`, as Auth0 pages its role lists (`GET /api/v2/roles` and `GET /api/v2/users/{id}/roles`):
    /// `per_page` (1 to 100, default 50) roles from the `page`-th page (from 0), as a bare array, or with
    /// `include_totals=true` as `{"roles", "start", "limit", "total"}`. A `page` or `per_page` that is not a whole
    /// number in range (a page whose first role would be past the largest integer included) is a 400
    /// `invalid_query_string`, as Auth0 answers.
    static func page(_ roles: [(id: String, name: String)], query: [String: String]) -> (Int, JSONValue) {
        func invalid(_ name: String, _ value: String) -> (Int, JSONValue) {
            let shown = String(value.prefix(40))
            return (
                400,
                apiError(
                    400, "Bad Request", "Query validation error: 'Invalid value \"\(shown)\"' on property \(name)",
                    "invalid_query_string")
            )
        }
        let perPageText = query["per_page"] ?? "50"
        guard let perPage = Int(perPageText), (1...100).contains(perPage) else {
            return invalid("per_page", perPageText)
        }
        let pageText = query["page"] ?? "0"
        guard let page = Int(pageText), page >= 0 else { return invalid("page", pageText) }
        let (start, overflow) = page.multipliedReportingOverflow(by: perPage)
        guard !overflow else { return invalid("page", pageText) }
        let slice = roles.dropFirst(start).prefix(perPage).map(roleJSON)
        guard query["include_totals"] == "true" else { return (200, .array(Array(slice))) }
        return (
            200,
            .object([
                ("roles", .array(Array(slice))), ("start", .number(Double(start))), ("limit", .number(Double(perPage))),
                ("total", .number(Double(roles.count))),
            ])
        )
    }

    static func roleJSON(_ role: (id: String, name: String)) -> JSONValue {
        .object([
            ("id", .string(role.id)), ("name", .string(role.name)),
            ("description", .string("Sandbox role \(role.name)")),
        ])
    }

    /// Takes one request from the bucket; the rate-limit headers, or nil when it is empty.
    static func consumeBucket(_ state: inout State) -> [(String, String)]? {
        let now = now()
        // ``Sandbox/start(host:port:)`` refuses a rate that is not positive and finite; kept safe here regardless.
        let rate = state.configuration.rateLimit.isFinite ? max(state.configuration.rateLimit, 0.001) : 0.001
        let burst = Double(state.configuration.burst)
        state.bucket = min(burst, state.bucket + (now - state.bucketUpdated) * rate)
        state.bucketUpdated = now
        guard state.bucket >= 1 else { return nil }
        state.bucket -= 1
        // A huge burst (or a tiny rate) makes these numbers too large for an Int; they are clamped, never trapped
        // on (`Int(Double)` traps at 2^63 and above).
        return [
            ("x-ratelimit-limit", String(state.configuration.burst)),
            ("x-ratelimit-remaining", String(clampedInteger(state.bucket.rounded(.down)))),
            ("x-ratelimit-reset", String(clampedInteger((now + (burst - state.bucket) / rate).rounded(.up)))),
        ]
    }

    /// `value` as an Int, clamped to 0...2^53 (NaN is 0): header numbers stay exact and never trap.
    static func clampedInteger(_ value: Double) -> Int {
        guard value.isFinite else { return value == .infinity ? 1 << 53 : 0 }
        return Int(min(max(value, 0), Double(1 << 53)))
    }

    static func apiError(_ status: Int, _ error: String, _ message: String, _ code: String) -> JSONValue {
        .object([
            ("statusCode", .number(Double(status))), ("error", .string(error)), ("message", .string(message)),
            ("errorCode", .string(code)),
        ])
    }

    static func split(_ uri: String) -> (String, [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
        return (String(uri[..<mark]), formFields(String(uri[uri.index(after: mark)...])))
    }

    static func formFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (raw: Substring) in percentDecoded(raw.replacingOccurrences(of: "+", with: " ")) ?? "" }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let high = utf8.index(after: index)
                guard high < utf8.endIndex, utf8.index(after: high) < utf8.endIndex,
                    let value = UInt8(
                        String(decoding: [utf8[high], utf8[utf8.index(after: high)]], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
                index = utf8.index(high, offsetBy: 2)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
