import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import RolecallEngine

/// A stand-in for an Auth0 tenant's Management API, for tests and for trying Rolecall without a tenant.
///
/// It serves the endpoints Rolecall uses with Auth0's shapes: `POST /oauth/token` (JSON or form body),
/// `GET /api/v2/roles` (with `name_filter`, pages, and with or without `include_totals`), and
/// `GET`/`POST`/`DELETE /api/v2/users/{id}/roles` (204s). It checks tokens and scopes, answers with Auth0's error
/// bodies, sends `x-ratelimit-*` headers from a token bucket (429 when it is empty), and injects faults on demand:
/// 429 bursts, 5xx, slow answers, dropped connections and expired tokens.
public final class Sandbox: Sendable {
    /// How the sandbox behaves.
    public struct Configuration: Sendable {
        /// The tenant domain tokens must name in their audience.
        public var domain = "sandbox.rolecall.test"
        /// The client id the token endpoint accepts.
        public var clientID = "sandbox-client"
        /// The client secret the token endpoint accepts.
        public var clientSecret = "sandbox-secret"
        /// The roles that exist, as (id, name).
        public var roles: [(id: String, name: String)] = []
        /// The scopes tokens get.
        public var scopes = ["read:roles", "read:users", "update:users", "create:role_members", "delete:role_members"]
        /// Requests per second the bucket refills, and its size.
        public var rateLimit = 50.0
        /// Requests allowed back to back (the bucket size, `x-ratelimit-limit`).
        public var burst = 50
        /// `expires_in` of issued tokens.
        public var tokenLifetime = 86_400
        /// User ids that do not exist (404 `inexistent_user`); every other id does.
        public var missingUsers: Set<String> = []
        /// Faults to inject from the start.
        public var faults = Faults()

        /// A default configuration.
        public init() {}

        /// Seeded with the roles the example rules use (`member`, `staff`, `eu`, `admin`, `finance`, `sso`, ...).
        public static func seeded() -> Configuration {
            var configuration = Configuration()
            let names = [
                "member", "staff", "eu", "admin", "finance", "sso", "google_regular", "unverified_consumer", "mobile",
                "power_user",
                // Language v2's examples (appended, so the ids above stay as they were).
                "contractor", "org-member", "enterprise", "google", "veteran", "power-user", "mfa_admin",
            ]
            configuration.roles = names.enumerated().map { (Sandbox.roleID(for: $0.offset), $0.element) }
            return configuration
        }
    }

    /// Faults applied to the next requests to `/api/v2` (or, for `expireTokens`, to the tokens issued so far).
    public struct Faults: Sendable, Equatable {
        /// The next N API requests answer 429.
        public var tooManyRequests = 0
        /// `Retry-After` seconds on those 429s; nil sends only `x-ratelimit-reset`.
        public var retryAfter: Int?
        /// Seconds from now to the `x-ratelimit-reset` of those 429s.
        public var resetAfter = 1
        /// The next N API requests answer 503.
        public var serverErrors = 0
        /// The next N API requests get their connection closed without an answer.
        public var droppedConnections = 0
        /// Every answer is delayed this long.
        public var delayMilliseconds = 0
        /// Tokens issued so far stop working (a one-shot: later tokens work).
        public var expireTokens = false
        /// The next N API requests answer 400 `invalid_body`.
        public var badRequests = 0

        /// No faults.
        public init() {}
    }

    /// A request the sandbox answered (or dropped: status 0).
    public struct LoggedRequest: Sendable, Equatable {
        /// The HTTP method.
        public var method: String
        /// The path, without the query.
        public var path: String
        /// The status answered, or 0 when the connection was dropped.
        public var status: Int
        /// Seconds since the Unix epoch.
        public var time: Double
    }

    struct State {
        var configuration: Configuration
        var faults: Faults
        var tokens: [String: (expires: Double, scopes: [String])] = [:]
        var userRoles: [String: [String]] = [:]
        var changes: [String: Int] = [:]
        var log: [LoggedRequest] = []
        var bucket: Double
        var bucketUpdated: Double
        var serial = 0
        var connections = 0
    }

    let state: NIOLockedValueBox<State>
    let group: MultiThreadedEventLoopGroup
    let channel: NIOLockedValueBox<Channel?> = NIOLockedValueBox(nil)

    /// A sandbox with `configuration`; call ``start(host:port:)`` to serve.
    public init(_ configuration: Configuration = .seeded()) {
        state = NIOLockedValueBox(
            State(
                configuration: configuration, faults: configuration.faults, bucket: Double(configuration.burst),
                bucketUpdated: Self.now()))
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// The id the sandbox gives its `index`-th seeded role.
    public static func roleID(for index: Int) -> String { "rol_sandbox\(String(index + 1, radix: 16))" }

    /// Starts serving on `host`:`port` (0 picks a free port) and returns the port. Throws ``SandboxError`` for a
    /// port outside 0...65535 or a configuration it cannot serve (a rate that is not positive and finite, a burst
    /// below 1, a negative delay).
    public func start(host: String = "127.0.0.1", port: Int = 0) throws -> Int {
        guard (0...65_535).contains(port) else { throw SandboxError("the port \(port) is not in 0...65535") }
        try configuration.validate()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(SandboxHandler(sandbox: self))
                }
            }
        let bound = try bootstrap.bind(host: host, port: port).wait()
        channel.withLockedValue { $0 = bound }
        return bound.localAddress?.port ?? port
    }

    /// Stops serving and frees the event loop.
    public func shutdown() {
        let bound = channel.withLockedValue { channel -> Channel? in
            defer { channel = nil }
            return channel
        }
        try? bound?.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// `http://host:port` of the running sandbox.
    public var baseURL: String? {
        channel.withLockedValue { channel in
            channel?.localAddress.map { "http://\($0.ipAddress ?? "127.0.0.1"):\($0.port ?? 0)" }
        }
    }

    /// The configuration it runs with.
    public var configuration: Configuration { state.withLockedValue { $0.configuration } }

    /// Changes the faults from now on.
    public func inject(_ change: (inout Faults) -> Void) { state.withLockedValue { change(&$0.faults) } }

    /// The role ids user `userID` holds.
    public func roles(ofUser userID: String) -> [String] { state.withLockedValue { $0.userRoles[userID] ?? [] } }

    /// Gives `userID` roles before a test.
    public func setRoles(_ ids: [String], ofUser userID: String) {
        state.withLockedValue { $0.userRoles[userID] = ids }
    }

    /// How many times each change really happened, keyed `user|role id|assign` or `user|role id|revoke`.
    public var changes: [String: Int] { state.withLockedValue { $0.changes } }

    /// How many connections clients have opened.
    public var connections: Int { state.withLockedValue { $0.connections } }

    func connectionOpened() { state.withLockedValue { $0.connections += 1 } }

    /// Every request answered so far, in order.
    public var log: [LoggedRequest] { state.withLockedValue { $0.log } }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
