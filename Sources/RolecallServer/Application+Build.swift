import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import RolecallEffects
import RolecallJSON
import RolecallOutbox
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The `rules serve` application: the router, the rule-set watcher and the effects, as production runs it and
/// as the tests drive it (`app.test(.router)` or `.live`).
///
/// `onListening` is called with the server's URL (`http://HOST:PORT`, the port the system chose when
/// ``ServerConfiguration/port`` is 0) once it accepts connections. On graceful shutdown (SIGTERM, SIGINT) the
/// server stops accepting and finishes the requests in flight; then the worker stops and the outbox closes.
/// Throws ``ServerStartFailure`` when the TLS files cannot be used.
public func buildApplication(
    _ configuration: ServerConfiguration, rules: RuleSetStore, effects: ServerEffects?, metrics: ServerMetrics,
    logger: Logger, onListening: @escaping @Sendable (String) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let decide = DecisionEndpoint(configuration: configuration, rules: rules, effects: effects, metrics: metrics)
    let router = buildRouter(configuration, decide: decide, rules: rules, effects: effects, metrics: metrics)
    var services: [any Service] = []
    if let effects { services.append(EffectsService(effects: effects, logger: logger)) }
    if configuration.reloadInterval != nil || configuration.reloadOnSIGHUP {
        services.append(
            RuleSetWatcher(
                store: rules, interval: configuration.reloadInterval, signals: configuration.reloadOnSIGHUP))
    }
    let server: HTTPServerBuilder
    let scheme: String
    func amount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
    let (idle, deadline) = (amount(configuration.idleTimeout), amount(configuration.requestDeadline))
    let head = amount(configuration.headDeadline)
    // The idle clock is ConnectionTimeouts': it sees the decisions answered on the event loop, which
    // Hummingbird's own idle handler (after it in the pipeline) never sees.
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [
            ConnectionTimeouts(
                idle: idle, request: deadline, head: head, metrics: metrics, logger: logger),
            DecideChannelHandler(endpoint: decide, logger: logger),
        ],
        idleTimeout: nil)
    if let files = configuration.tls {
        do {
            server = try .tls(.http1(configuration: http1), tlsConfiguration: try tlsConfiguration(files))
        } catch {
            throw ServerStartFailure(
                description: "cannot set up TLS from `\(files.certificate)` and `\(files.key)`: \(error)")
        }
        scheme = "https"
    } else {
        server = .http1(configuration: http1)
        scheme = "http"
    }
    let host = configuration.host
    return Application(
        router: router, server: server,
        configuration: .init(
            address: .hostname(host, port: configuration.port), serverName: nil,
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
        services: services,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            let shown = host.contains(":") ? "[\(host)]" : host
            await onListening("\(scheme)://\(shown):\(port)")
        },
        logger: logger)
}

/// Why the server could not start (TLS files that cannot be read, an address that cannot be bound).
public struct ServerStartFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var description: String
}

/// Builds the application and runs it until SIGTERM or SIGINT has shut it down gracefully.
public func runServer(
    _ configuration: ServerConfiguration, rules: RuleSetStore, effects: ServerEffects?, metrics: ServerMetrics,
    logger: Logger, onListening: @escaping @Sendable (String) async -> Void = { _ in }
) async throws {
    let app = try buildApplication(
        configuration, rules: rules, effects: effects, metrics: metrics, logger: logger, onListening: onListening)
    do {
        try await app.runService()
    } catch let error as IOError {
        throw configuration.cannotListen(String(cString: strerror(error.errnoCode)))
    } catch is SocketAddressError {
        throw configuration.cannotListen("the host name cannot be resolved")
    }
}

extension ServerConfiguration {
    /// Resolves ``host`` and binds a socket to it and ``port``, then lets it go: a name that does not resolve, a
    /// port in use or an address not on this machine is found before an outbox is opened or a worker started.
    /// The server binds its own socket later, so a port taken in between still fails there, with the same message.
    public func checkListeningAddress() throws(ServerStartFailure) {
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw cannotListen("the host name cannot be resolved")
        }
        let descriptor = socket(address.protocol.rawValue, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw cannotListen(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        // As the server's own socket does, so a port whose last connections linger in TIME_WAIT is not "in use".
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { bind(descriptor, $0, socklen_t($1)) }
        guard bound == 0 else { throw cannotListen(String(cString: strerror(errno))) }
    }

    /// `cannot listen on HOST:PORT: REASON`.
    func cannotListen(_ reason: String) -> ServerStartFailure {
        let shown = host.contains(":") ? "[\(host)]" : host
        return ServerStartFailure(description: "cannot listen on \(shown):\(port): \(reason.lowercased())")
    }
}

/// The routes: `POST /v1/decide`, `GET /v1/ruleset`, `/healthz`, `/readyz` and `/metrics`.
public func buildRouter(
    _ configuration: ServerConfiguration, rules: RuleSetStore, effects: ServerEffects?, metrics: ServerMetrics
) -> Router<BasicRequestContext> {
    buildRouter(
        configuration,
        decide: DecisionEndpoint(configuration: configuration, rules: rules, effects: effects, metrics: metrics),
        rules: rules, effects: effects, metrics: metrics)
}

/// The routes, with the decision endpoint the event loop's handler shares.
func buildRouter(
    _ configuration: ServerConfiguration, decide: DecisionEndpoint, rules: RuleSetStore, effects: ServerEffects?,
    metrics: ServerMetrics
) -> Router<BasicRequestContext> {
    let authenticator = decide.authenticator
    let router = Router()
    router.add(
        middleware: ServerMiddleware(metrics: metrics, routes: serverRoutes))
    router.post("/v1/decide") { request, context in
        try await decide.respond(request, context: context)
    }
    router.get("/v1/ruleset") { request, _ in
        // The rule set names files on the server: the same credentials as a decision (a bearer token, or a
        // signature of the empty body).
        let proof = try decide.authenticate(request.headers)
        if case .needsBody(let timestamp, let signature) = proof,
            authenticator?.verify(signature: signature, timestamp: timestamp, body: []) != true
        {
            throw ErrorBody.unauthorized("the signature does not match the body")
        }
        return json(.ok, ruleSetJSON(rules.current))
    }
    router.get("/healthz") { _, _ in
        json(.ok, "{\"status\":\"alive\"}")
    }
    router.head("/healthz") { _, _ in
        Response(status: .ok)
    }
    router.head("/readyz") { _, _ in
        guard let effects, !effects.outbox.isWritable else { return Response(status: .ok) }
        return Response(status: .serviceUnavailable)
    }
    router.get("/readyz") { _, _ in
        // The rules are loaded before the server starts and a reload never unloads them.
        if let effects, !effects.outbox.isWritable {
            throw ErrorBody(
                status: .serviceUnavailable, code: "not_ready", message: "the outbox cannot take a commit now")
        }
        return json(.ok, "{\"status\":\"ready\",\"rules\":\(rules.current.program.ruleCount)}")
    }
    router.get("/metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }
    return router
}

/// The routes the server answers, with their methods (405 and `Allow` for the others; the route label of the
/// latency histogram).
let serverRoutes: [String: [HTTPRequest.Method]] = [
    "/v1/decide": [.post], "/v1/ruleset": [.get], "/healthz": [.get, .head], "/readyz": [.get, .head],
    "/metrics": [.get],
]

/// A JSON answer.
func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
}

/// `GET /v1/ruleset`'s answer.
func ruleSetJSON(_ ruleSet: RuleSet) -> String {
    let files = ruleSet.files.map(JSONText.quote).joined(separator: ",")
    return "{\"hash\":\(JSONText.quote(ruleSet.hash)),\"files\":[\(files)],\"rules\":\(ruleSet.program.ruleCount),"
        + "\"loaded_at\":\(JSONText.quote(rfc3339(ruleSet.loadedAt))),"
        + "\"load_ms\":\(JSONText.number((ruleSet.loadMilliseconds * 1_000).rounded() / 1_000)),"
        + "\"generation\":\(ruleSet.generation)}"
}

/// A Unix time as RFC 3339 in UTC with milliseconds, e.g. `2026-11-29T22:05:41.250Z`.
func rfc3339(_ time: Double) -> String {
    var seconds = time_t(time.rounded(.down))
    let millis = Int(((time - time.rounded(.down)) * 1_000).rounded(.down))
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
        + "\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
}

/// The server's TLS settings from PEM files.
func tlsConfiguration(_ files: ServerConfiguration.TLSFiles) throws -> TLSConfiguration {
    let chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
    let key = try NIOSSLPrivateKey(file: files.key, format: .pem)
    return TLSConfiguration.makeServerConfiguration(
        certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
}
