import Foundation
import RolecallJSON

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
    /// throws naming the variables that are missing, or saying what is wrong (``validate(allowHTTP:)``).
    public static func fromEnvironment(_ environment: [String: String], allowHTTP: Bool = false)
        throws(ConfigurationError) -> TenantConfiguration
    {
        let required = ["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"]
        let missing = required.filter { (environment[$0] ?? "").isEmpty }
        guard missing.isEmpty else { throw ConfigurationError(missing: missing) }
        let configuration = TenantConfiguration(
            domain: environment["AUTH0_DOMAIN"]!, clientID: environment["AUTH0_CLIENT_ID"]!,
            clientSecret: environment["AUTH0_CLIENT_SECRET"]!,
            baseURL: (environment["AUTH0_BASE_URL"] ?? "").isEmpty ? nil : environment["AUTH0_BASE_URL"])
        try configuration.validate(allowHTTP: allowHTTP)
        return configuration
    }

    /// ``fromEnvironment(_:allowHTTP:)`` with the `KEY=VALUE` lines of `tenantFile` (``TenantFile``) read over
    /// `environment`: what `rules apply` and `rules serve` take. A file that cannot be read, or is larger than
    /// ``TenantFile/maxBytes``, is a ``ConfigurationError`` naming it.
    public static func load(
        environment: [String: String], tenantFile: String?, allowHTTP: Bool = false
    ) throws(ConfigurationError) -> TenantConfiguration {
        var environment = environment
        if let tenantFile {
            // An empty file reads as nil (end of file at once), which is no error.
            guard let handle = FileHandle(forReadingAtPath: tenantFile),
                let data = try? handle.read(upToCount: TenantFile.maxBytes + 1) ?? Data()
            else {
                throw ConfigurationError(problem: "cannot read `\(HumanText.line(tenantFile))`")
            }
            try? handle.close()
            guard data.count <= TenantFile.maxBytes else {
                throw ConfigurationError(
                    problem: "`\(HumanText.line(tenantFile))` is larger than \(TenantFile.maxBytes) bytes; "
                        + "a tenant file holds a few KEY=VALUE lines")
            }
            environment.merge(TenantFile.settings(Array(data))) { $1 }
        }
        return try fromEnvironment(environment, allowHTTP: allowHTTP)
    }

    /// Checks that requests, and the client secret with them, can only go where the settings say: the domain is
    /// a plain host name (no `user@`, port, path or scheme, any of which would send the token request elsewhere),
    /// and the base URL is https, or http to a loopback host or with `allowHTTP`, with no user info, query or
    /// fragment (a path, such as a proxy's prefix, is fine).
    public func validate(allowHTTP: Bool) throws(ConfigurationError) {
        guard Endpoint.isHostName(domain) else {
            throw ConfigurationError(
                problem: "AUTH0_DOMAIN `\(HumanText.line(domain))` is not a host name: give only the tenant's domain, "
                    + "such as `acme.eu.auth0.com`")
        }
        let endpoint: Endpoint
        do {
            endpoint = try Endpoint(parsing: baseURL, base: true)
        } catch {
            throw ConfigurationError(problem: "AUTH0_BASE_URL: \(HumanText.line(error.message))")
        }
        guard endpoint.isAllowed(allowHTTP: allowHTTP) else {
            throw ConfigurationError(
                problem: "AUTH0_BASE_URL `\(HumanText.line(baseURL))` sends plain http to a host that is not "
                    + "loopback: use https, or pass --allow-http")
        }
    }

    public var description: String { "tenant \(domain) at \(baseURL) as client \(clientID)" }
}

/// Tenant settings that are missing or unsafe to use.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The environment variables that are not set.
    public var missing: [String]
    /// What is wrong with a setting that is set, if that is the problem.
    public var problem: String?

    /// Settings that are missing.
    public init(missing: [String]) { self.missing = missing }

    /// A setting that is wrong, as `problem` says.
    public init(problem: String) {
        self.missing = []
        self.problem = problem
    }

    public var description: String {
        if let problem { return problem }
        return "set \(missing.joined(separator: ", ")) to the tenant's domain and a machine-to-machine application's "
            + "credentials"
    }
}
