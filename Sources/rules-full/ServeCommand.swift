import ArgumentParser
import Foundation
import Logging
import RolecallCommandLine
import RolecallEffects
import RolecallEngine
import RolecallFiles
import RolecallJSON
import RolecallOutbox
import RolecallSandbox
import RolecallServer

#if canImport(Glibc)
    import Glibc
#endif

/// `rules serve`: the login webhook. Argument parsing and I/O only; the server is ``buildApplication``.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Answer login events with decisions over HTTP and carry out the role changes.",
        discussion: """
            POST /v1/decide takes an Auth0 post-login event as JSON and answers the decision with a decision_id; \
            the role changes are committed to the --outbox file before the answer and carried out behind it, \
            paced to --rate, with the tenant settings of `rules apply`. GET /healthz, /readyz, /metrics \
            (Prometheus) and /v1/ruleset report on the server. Requests prove they hold the secret \
            (ROLECALL_SECRET or --secret-file) with `Authorization: Bearer SECRET`, or sign the body with \
            X-Rolecall-Timestamp and X-Rolecall-Signature: v1=HMAC-SHA256(SECRET, TIMESTAMP.BODY) in hex, within \
            300 s of the server's clock. The rules are reloaded on SIGHUP and when a file changes; a set with \
            errors is refused and the old one keeps serving. SIGTERM and SIGINT finish the requests in flight, \
            then stop. Prints `rules: listening on URL` on standard error once it accepts connections. Behind a \
            reverse proxy that terminates TLS, keep --host 127.0.0.1; otherwise give --tls-cert and --tls-key.
            """
    )

    @Argument(help: "Rule files or directories (default: rules/).")
    var paths: [String] = []

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "The outbox and decision log (a SQLite file, created when missing).")
    var outbox = "rolecall-outbox.db"

    @Option(help: "A file holding the shared secret (a final line end is ignored); overrides ROLECALL_SECRET.")
    var secretFile: String?

    @Flag(
        help: """
            Accept requests without a secret. Only for a server no one else can reach: with role changes, refused \
            unless --host is a loopback address.
            """)
    var insecureNoAuth = false

    @Flag(help: "Answer decisions only: no outbox, no decision log, no role changes, no tenant needed.")
    var noEffects = false

    @Option(help: "Refuse events larger than this many bytes (413), at most 1 GiB.")
    var maxEventBytes = 1 << 20

    @Option(
        help: """
            Answer 408 and close when a request's head has not arrived whole this many seconds after its first \
            byte (after the accept, for a connection's first request).
            """)
    var headTimeout: Double = 3

    @Option(help: "Close a connection that sends or receives nothing for this many seconds.")
    var idleTimeout: Double = 30

    @Option(help: "Serve at most this many connections at once (more wait to be accepted).")
    var maxConnections = 1_024

    @Flag(help: "Keep each event in the decision log (minus the --redact paths).")
    var logEvents = false

    @Option(
        help: """
            A path whose value a logged event keeps as "[redacted]", e.g. user.email or \
            user.identities[*].access_token ([*]: every element of a list; repeatable).
            """)
    var redact: [String] = []

    @Option(help: "Delete logged decisions older than this many days.")
    var logRetentionDays: Double = 30

    @Option(help: "A PEM certificate chain: serve https (with --tls-key).")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @OptionGroup var tenant: TenantOptions

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxEventBytes > 0, maxEventBytes <= EventInput.maxEventBytesLimit else {
            throw ValidationError("--max-event-bytes must be between 1 and \(EventInput.maxEventBytesLimit)")
        }
        guard idleTimeout.isFinite, (0.1...86_400).contains(idleTimeout) else {
            throw ValidationError("--idle-timeout must be between 0.1 and 86400 seconds")
        }
        guard headTimeout.isFinite, (0.1...86_400).contains(headTimeout) else {
            throw ValidationError("--head-timeout must be between 0.1 and 86400 seconds")
        }
        guard (1...1_000_000).contains(maxConnections) else {
            throw ValidationError("--max-connections must be between 1 and 1000000")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("give both --tls-cert and --tls-key, or neither")
        }
        guard logRetentionDays.isFinite, logRetentionDays > 0 else {
            throw ValidationError("--log-retention-days must be a positive number")
        }
        if noEffects && logEvents {
            throw ValidationError("--log-events needs the decision log, which --no-effects turns off")
        }
        if !redact.isEmpty && !logEvents {
            throw ValidationError("--redact applies to logged events: add --log-events")
        }
        do {
            _ = try EventRedactor(paths: redact)
        } catch {
            throw ValidationError("--redact: \(error)")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Output.environment("LOG_LEVEL").flatMap { Logger.Level(rawValue: $0) } ?? .info
            return handler
        }
        let logger = Logger(label: "rolecall.serve")
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        try checkExposure(configuration)
        configuration.secret = try secret()
        do {
            try configuration.checkListeningAddress()
        } catch {
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
        configuration.maxEventBytes = maxEventBytes
        configuration.idleTimeout = .milliseconds(Int64(idleTimeout * 1_000))
        configuration.headDeadline = .milliseconds(Int64(headTimeout * 1_000))
        configuration.maxConnections = maxConnections
        configuration.logEvents = logEvents
        configuration.redactor = try EventRedactor(paths: redact)
        if let tlsCert, let tlsKey { configuration.tls = .init(certificate: tlsCert, key: tlsKey) }

        let start = ContinuousClock.now
        let (files, program) = try RuleFiles.compileFiles(paths, diagnostics: diagnostics)
        let elapsed = (ContinuousClock.now - start).components
        let ruleSet = RuleSet(
            program: program, files: files, loadedAt: wallClock(),
            loadMilliseconds: Double(elapsed.seconds) * 1_000 + Double(elapsed.attoseconds) / 1e15)
        let metrics = ServerMetrics(version: rolecallVersion)
        metrics.bootstrapMetricsSystem()
        let rules = RuleSetStore(
            initial: ruleSet, paths: paths, metrics: metrics, logger: Logger(label: "rolecall.rules"))

        var sandbox: Sandbox?
        defer { sandbox?.shutdown() }
        var effects: ServerEffects?
        if !noEffects {
            let (tenantConfiguration, local) = try tenant.resolve(
                doing: "sending role changes to", alternatives: "--sandbox, or --no-effects")
            sandbox = local
            var options = Outbox.Options()
            options.logRetentionSeconds = logRetentionDays * 86_400
            let store: Outbox
            do {
                store = try Outbox(path: outbox, options: options, logger: Logger(label: "rolecall.outbox"))
            } catch {
                // The outbox's errors name it (as FileName.visible shows a path).
                Output.standardError("rules: error: \(error)\n")
                throw ExitStatus.badInput
            }
            let tenant = self.tenant
            let worker = OutboxWorker(outbox: store, logger: Logger(label: "rolecall.worker")) { hooks in
                let logger = Logger(label: "rolecall.effects")
                let client = tenant.makeClient(
                    tenantConfiguration, logger: logger, deadline: hooks.deadline, policy: OutboxWorker.retryPolicy,
                    clock: hooks.clock, sleep: hooks.sleep)
                return EffectRunner(client: client, logger: logger)
            }
            effects = ServerEffects(outbox: store, worker: worker)
        }

        do {
            try await runServer(configuration, rules: rules, effects: effects, metrics: metrics, logger: logger) {
                Output.standardError("rules: listening on \($0)\n")
            }
        } catch let error as ServerStartFailure {
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
    }

    /// Refuses `--insecure-no-auth` with effects on an address others may reach: anyone who can connect could post
    /// a forged event and have roles assigned to any user. Decisions only (`--no-effects`) is a warning: they
    /// change nothing, but the rules are still answered to anyone.
    func checkExposure(_ configuration: ServerConfiguration) throws {
        guard insecureNoAuth, !configuration.listensOnLoopbackOnly else { return }
        let address = "`\(HumanText.line(host))`"
        guard noEffects else {
            Output.standardError(
                "rules: error: --insecure-no-auth with role changes on \(address), which is not a loopback address: "
                    + "anyone who can connect could have roles assigned to any user\n"
                    + "help: give a secret (ROLECALL_SECRET or --secret-file), listen on 127.0.0.1, or add "
                    + "--no-effects\n")
            throw ExitStatus.badInput
        }
        Output.standardError(
            "rules: warning: --insecure-no-auth on \(address), which is not a loopback address: anyone who can "
                + "connect gets decisions without a secret\n")
    }

    /// The longest secret taken.
    static let maxSecretBytes = 4_096

    /// The first bytes of `path`, a regular file (at most ``maxSecretBytes`` and two more, to tell a secret too
    /// long). Opened without blocking and checked before a byte is read: a FIFO would otherwise hold start-up
    /// until something wrote to it, and a device could be read forever.
    static func readSecretFile(_ path: String) throws -> [UInt8] {
        let shown = "`\(HumanText.line(path))`"
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno)).lowercased()
            Output.standardError("rules: error: cannot read the secret file \(shown): \(reason)\n")
            throw ExitStatus.badInput
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            Output.standardError("rules: error: the secret file \(shown) is not a regular file\n")
            throw ExitStatus.badInput
        }
        var bytes = [UInt8](repeating: 0, count: maxSecretBytes + 2)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + count, $0.count - count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else {
                let reason = String(cString: strerror(errno)).lowercased()
                Output.standardError("rules: error: cannot read the secret file \(shown): \(reason)\n")
                throw ExitStatus.badInput
            }
            if got == 0 { break }
            count += got
        }
        return Array(bytes[0..<count])
    }

    /// The shared secret from `--secret-file` or ROLECALL_SECRET, without a final line end; nil with
    /// `--insecure-no-auth`. Exits 2 when there is none, or when it is not something a header can carry.
    func secret() throws -> [UInt8]? {
        if insecureNoAuth {
            Output.standardError("rules: warning: --insecure-no-auth: every request is accepted without a secret\n")
            return nil
        }
        var bytes: [UInt8]
        if let secretFile {
            bytes = try Self.readSecretFile(secretFile)
        } else if let value = Output.environment("ROLECALL_SECRET") {
            bytes = Array(value.utf8)
        } else {
            Output.standardError(
                "rules: error: no secret: set ROLECALL_SECRET or give --secret-file (or --insecure-no-auth)\n")
            throw ExitStatus.badInput
        }
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else {
            Output.standardError("rules: error: the secret is empty\n")
            throw ExitStatus.badInput
        }
        // A bearer token is a header value: HTTP trims its blanks and forbids control characters, so a secret
        // holding them could never be sent as one.
        guard bytes.count <= Self.maxSecretBytes, bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            Output.standardError(
                "rules: error: the secret must be 1 to \(Self.maxSecretBytes) printable ASCII characters without "
                    + "blanks (e.g. `openssl rand -hex 32`)\n")
            throw ExitStatus.badInput
        }
        if bytes.count < 16 {
            Output.standardError("rules: warning: the secret is shorter than 16 characters; use a random one\n")
        }
        return bytes
    }
}
