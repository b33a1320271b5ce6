/// Where the Management API is and how to authenticate to it.
///
/// `description` never shows the client secret, so a configuration can be logged.
public struct TenantConfiguration: Sendable, CustomStringConvertible {
    /// The tenant's domain, e.g. `acme.eu.auth0.com`.
    public var domain: String
    /// The machine-to-machine application's client id.
    public var clientID: String
    /// Its client secret. Never logged.
    public var clientSecret: String
    /// Where requests go: `https://DOMAIN` unless overridden (a proxy, the sandbox, a test server).
    public var baseURL: String

    /// The token audience: always the tenant's own API identifier, wherever requests are sent.
    public var audience: String { "https://\(domain)/api/v2/" }

    /// A configuration; `baseURL` defaults to `https://DOMAIN`.
    public init(domain: String, clientID: String, clientSecret: String, baseURL: String? = nil) {
        self.domain = domain
        self.clientID = clientID
        self.clientSecret = clientSecret
        var base = baseURL ?? "https://\(domain)"
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
    }

    /// Reads `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID`, `AUTH0_CLIENT_SECRET` and `AUTH0_BASE_URL` from `environment`;
    /// throws naming the variables that are missing.
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError)
        -> TenantConfiguration
    {
        let required = ["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"]
        let missing = required.filter { (environment[$0] ?? "").isEmpty }
        guard missing.isEmpty else { throw ConfigurationError(missing: missing) }
        return TenantConfiguration(
            domain: environment["AUTH0_DOMAIN"]!, clientID: environment["AUTH0_CLIENT_ID"]!,
            clientSecret: environment["AUTH0_CLIENT_SECRET"]!, baseURL: environment["AUTH0_BASE_URL"])
    }

    public var description: String { "tenant \(domain) at \(baseURL) as client \(clientID)" }
}

/// Tenant settings that are missing.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The environment variables that are not set.
    public var missing: [String]
    public var description: String {
        "set \(missing.joined(separator: ", ")) to the tenant's domain and a machine-to-machine application's credentials"
    }
}
