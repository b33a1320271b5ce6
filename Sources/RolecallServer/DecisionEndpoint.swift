import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RolecallEffects
import RolecallEngine
import RolecallJSON
import RolecallOutbox

/// `POST /v1/decide`: authenticate, bound and read the event, evaluate it with the byte-level evaluator as it
/// arrived, commit the decision and its effects to the outbox, and answer the decision with its `decision_id`.
struct DecisionEndpoint: Sendable {
    let configuration: ServerConfiguration
    let authenticator: RequestAuthenticator?
    let rules: RuleSetStore
    let effects: ServerEffects?
    let metrics: ServerMetrics

    /// The endpoint for `configuration`'s secret.
    init(configuration: ServerConfiguration, rules: RuleSetStore, effects: ServerEffects?, metrics: ServerMetrics) {
        self.configuration = configuration
        self.authenticator = configuration.secret.map { RequestAuthenticator(secret: $0) }
        self.rules = rules
        self.effects = effects
        self.metrics = metrics
    }

    /// The message of a 400 for an event without a user.
    static let noUser = "the event has no user.user_id string"

    /// What the headers of a `POST /v1/decide` allow, checked before a byte of the body is read: the
    /// credentials (what is left to check once the body is in), the content type, and a declared length within
    /// ``ServerConfiguration/maxEventBytes``.
    func admit(_ headers: HTTPFields) throws(ErrorBody) -> RequestAuthenticator.HeaderVerdict {
        let proof = try authenticate(headers)
        try checkContentType(headers[.contentType])
        if let length = headers[.contentLength] {
            guard let declared = Int(length), declared >= 0 else {
                throw ErrorBody(status: .badRequest, code: "invalid_request", message: "Content-Length is not a number")
            }
            guard declared <= configuration.maxEventBytes else { throw ErrorBody.tooLarge(configuration.maxEventBytes) }
        }
        return proof
    }

    /// A decision ready to answer: the answer's body, and what to commit first (nil with effects off).
    struct Prepared {
        var answer: ByteBuffer
        var record: DecisionRecord?
        var decisionID: String
        var base: Logger
        /// The logger with the decision id on every line (made only when something is logged: a copy with
        /// metadata costs an allocation per request).
        var logger: Logger {
            var logger = base
            logger[metadataKey: "decision_id"] = "\(decisionID)"
            return logger
        }
    }

    /// Everything after the body is in, up to the commit: the signature, evaluation, plan, redaction and the
    /// record; synchronous, so the event loop and the router run the very same code.
    func prepare(_ body: ByteBuffer, proof: RequestAuthenticator.HeaderVerdict, logger base: Logger)
        throws(ErrorBody) -> Prepared
    {
        var signed: RequestSignature?
        if case .needsBody(let timestamp, let signature) = proof, let authenticator {
            let matches = body.withUnsafeReadableBytes {
                authenticator.verify(signature: Array(signature), timestamp: timestamp, body: $0)
            }
            guard matches else { throw ErrorBody.unauthorized("the signature does not match the body") }
            // A signed request seen before (a client's retry, or a captured request replayed within the window)
            // is answered, but queues no role change: replayed later, an older login's decision would undo a
            // newer one's. The outbox decides which is first, as it commits (``SeenSignatures``): a signature
            // counts once its decision is on disk, and stays counted across a restart. Without an outbox nothing
            // is queued, so a replay changes nothing and nothing need be remembered.
            signed = RequestSignature(bytes: signature, expires: (Double(timestamp) ?? 0) + authenticator.window)
        }
        let ruleSet = rules.current
        // Every decision is made at an explicit moment, read once here and logged with it, so a replay of the
        // log decides the same. The server's clock only: a `rolecall_now` in the request is never honoured (a
        // client must not choose how many days have passed).
        let clock = configuration.clock()
        let started = ContinuousClock.now
        let outcome = body.withUnsafeReadableBytes { bytes in
            ruleSet.evaluators.withEvaluator { evaluator in
                evaluator.now = clock
                evaluator.clockFromEvent = false
                return Result { () throws(JSONError) in try evaluator.evaluate(bytes) }
            }
        }
        let decision: Decision
        switch outcome {
        case .success(let value): decision = value
        case .failure(let error):
            throw ErrorBody(status: .badRequest, code: "invalid_event", message: "invalid event: \(error)")
        }
        let latency = ContinuousClock.now - started
        guard decision.userID != nil else {
            throw ErrorBody(status: .badRequest, code: "no_user", message: DecisionEndpoint.noUser)
        }
        let id = DecisionID.make()
        func logger() -> Logger {
            var logger = base
            logger[metadataKey: "decision_id"] = "\(id)"
            return logger
        }
        metrics.decided(decision)
        let json = decision.json
        var record: DecisionRecord?
        if effects != nil {
            let plan: UserPlan
            do {
                plan = try UserPlan.make(decision)
            } catch {
                throw ErrorBody(status: .badRequest, code: "no_user", message: error.message)
            }
            var event: [UInt8]?
            if configuration.logEvents {
                do {
                    event = try body.withUnsafeReadableBytes { bytes throws(JSONError) in
                        try configuration.redactor.redact(bytes)
                    }
                } catch {
                    logger().warning("event not logged: it could not be redacted", metadata: ["error": "\(error)"])
                }
            }
            record = DecisionRecord(
                id: id, time: configuration.clock(), userID: decision.userID, decision: json,
                ruleSetHash: ruleSet.hash, latencyMicroseconds: Int(milliseconds(latency) * 1_000), event: event,
                plan: plan, roles: decision.roles, clock: clock, signature: signed)
        }
        if !decision.errors.isEmpty {
            logger().info(
                "rules failed to evaluate",
                metadata: ["rules.errors": "\(decision.errors.map { "\($0.rule): \($0.code)" })"])
        }
        if base.logLevel <= .debug {
            logger().debug(
                "decided",
                metadata: [
                    "user": "\(decision.userID ?? "")", "rules.matched": "\(decision.matched)",
                    "rules.hash": "\(ruleSet.hash)",
                ])
        }
        var answer = ByteBuffer()
        answer.reserveCapacity(json.utf8.count + 48)
        answer.writeSubstring(json.dropLast())
        answer.writeString(",\"decision_id\":")
        answer.writeString(JSONText.quote(id))
        answer.writeString("}")
        return Prepared(answer: answer, record: record, decisionID: id, base: base)
    }

    /// The 503 when a decision cannot be committed: nothing is acknowledged that is not on disk.
    static func notCommitted(_ error: OutboxError, logger: Logger) -> ErrorBody {
        logger.error("decision not committed", metadata: ["error": "\(error.message)"])
        return ErrorBody(
            status: .serviceUnavailable, code: "outbox_unavailable",
            message: "the decision could not be committed to the outbox")
    }

    /// The route's handler (requests the event loop does not answer itself: see ``DecideChannelHandler``).
    func respond(_ request: Request, context: some RequestContext) async throws -> Response {
        let proof = try admit(request.headers)
        let body: ByteBuffer
        do {
            // A chunked body is cut off as soon as it grows past the limit.
            body = try await request.body.collect(upTo: configuration.maxEventBytes)
        } catch is NIOTooManyBytesError {
            throw ErrorBody.tooLarge(configuration.maxEventBytes)
        }
        let prepared = try prepare(body, proof: proof, logger: context.logger)
        if let record = prepared.record, let effects {
            do {
                try await effects.outbox.commit(record)
            } catch {
                throw Self.notCommitted(error, logger: prepared.logger)
            }
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: prepared.answer))
    }

    /// Checks the credentials in the headers; what is left to check once the body is read.
    func authenticate(_ headers: HTTPFields) throws(ErrorBody) -> RequestAuthenticator.HeaderVerdict {
        guard let authenticator else { return .accepted }
        let verdict = authenticator.check(
            authorization: headers[.authorization], timestamp: headers[DecisionEndpoint.timestampHeader],
            signature: headers[DecisionEndpoint.signatureHeader], now: configuration.clock())
        if case .refused(let why) = verdict { throw ErrorBody.unauthorized(why) }
        return verdict
    }

    static let timestampHeader = HTTPField.Name("X-Rolecall-Timestamp")!
    static let signatureHeader = HTTPField.Name("X-Rolecall-Signature")!

    /// 415 unless the body is declared JSON (`application/json`, optionally `; charset=utf-8`).
    func checkContentType(_ value: String?) throws(ErrorBody) {
        let refused = ErrorBody(
            status: .unsupportedMediaType, code: "unsupported_media_type",
            message: "the event must be sent as Content-Type: application/json")
        guard let value else { throw refused }
        if value == "application/json" { return }
        // Media types and parameters are tokens, so dropping blanks and quotes loses nothing.
        let parts = value.lowercased().split(separator: ";", omittingEmptySubsequences: false).map {
            String($0.filter { $0 != " " && $0 != "\t" && $0 != "\"" })
        }
        guard parts.first == "application/json" else { throw refused }
        for parameter in parts.dropFirst() where !parameter.isEmpty {
            guard parameter == "charset=utf-8" || parameter == "charset=utf8" else { throw refused }
        }
    }
}
