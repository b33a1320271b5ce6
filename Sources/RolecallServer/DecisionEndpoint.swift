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

    /// The message of a 400 for an event without a user.
    static let noUser = "the event has no user.user_id string"

    func respond(_ request: Request, context: some RequestContext) async throws -> Response {
        let proof = try authenticate(request.headers)
        try checkContentType(request.headers[.contentType])
        if let length = request.headers[.contentLength] {
            // Refused from the header, before a byte of the body is buffered.
            guard let declared = Int(length), declared >= 0 else {
                throw ErrorBody(status: .badRequest, code: "invalid_request", message: "Content-Length is not a number")
            }
            guard declared <= configuration.maxEventBytes else { throw ErrorBody.tooLarge(configuration.maxEventBytes) }
        }
        let body: ByteBuffer
        do {
            // A chunked body is cut off as soon as it grows past the limit.
            body = try await request.body.collect(upTo: configuration.maxEventBytes)
        } catch is NIOTooManyBytesError {
            throw ErrorBody.tooLarge(configuration.maxEventBytes)
        }
        if case .needsBody(let timestamp, let signature) = proof, let authenticator {
            let matches = body.withUnsafeReadableBytes {
                authenticator.verify(signature: Array(signature), timestamp: timestamp, body: $0)
            }
            guard matches else { throw ErrorBody.unauthorized("the signature does not match the body") }
            // A signed request seen before (a client's retry, or a captured request replayed within the window)
            // is answered, but queues no role change: replayed later, an older login's decision would undo a
            // newer one's.
            let first = authenticator.replays.firstUse(
                of: signature, timestamp: Double(timestamp) ?? 0, now: configuration.clock())
            return try await decide(body, context: context, replayed: !first)
        }
        return try await decide(body, context: context, replayed: false)
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
        // Media types and parameters are tokens, so dropping blanks and quotes loses nothing.
        let parts = value.lowercased().split(separator: ";", omittingEmptySubsequences: false).map {
            String($0.filter { $0 != " " && $0 != "\t" && $0 != "\"" })
        }
        guard parts.first == "application/json" else { throw refused }
        for parameter in parts.dropFirst() where !parameter.isEmpty {
            guard parameter == "charset=utf-8" || parameter == "charset=utf8" else { throw refused }
        }
    }

    /// Evaluates `body` and commits the outcome; the answer.
    func decide(_ body: ByteBuffer, context: some RequestContext, replayed: Bool) async throws -> Response {
        let ruleSet = rules.current
        let started = ContinuousClock.now
        let outcome = body.withUnsafeReadableBytes { bytes in
            ruleSet.evaluators.withEvaluator { evaluator in
                Result { () throws(JSONError) in try evaluator.evaluate(bytes) }
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
        var logger = context.logger
        logger[metadataKey: "decision_id"] = "\(id)"
        metrics.decided(decision)
        let json = decision.json
        if let effects {
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
                    logger.warning("event not logged: it could not be redacted", metadata: ["error": "\(error)"])
                }
            }
            let record = DecisionRecord(
                id: id, time: configuration.clock(), userID: decision.userID, decision: json,
                ruleSetHash: ruleSet.hash, latencyMicroseconds: Int(milliseconds(latency) * 1_000), event: event,
                plan: replayed ? nil : plan, roles: decision.roles)
            if replayed {
                logger.notice("a signed request seen before: decided and logged, no role change queued")
            }
            do {
                try await effects.outbox.commit(record)
            } catch {
                logger.error("decision not committed", metadata: ["error": "\(error.message)"])
                throw ErrorBody(
                    status: .serviceUnavailable, code: "outbox_unavailable",
                    message: "the decision could not be committed to the outbox")
            }
            effects.worker.wake()
        }
        if !decision.errors.isEmpty {
            logger.info(
                "rules failed to evaluate",
                metadata: ["rules.errors": "\(decision.errors.map { "\($0.rule): \($0.code)" })"])
        }
        logger.debug(
            "decided",
            metadata: [
                "user": "\(decision.userID ?? "")", "rules.matched": "\(decision.matched)",
                "rules.hash": "\(ruleSet.hash)",
            ])
        var text = json
        text.removeLast()
        text += ",\"decision_id\":" + JSONText.quote(id) + "}"
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
