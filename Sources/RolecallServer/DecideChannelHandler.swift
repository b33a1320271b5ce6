import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import Prometheus
import RolecallOutbox

/// Answers `POST /v1/decide` on the connection's event loop, without leaving it.
///
/// Hummingbird hands each request to an async task on Swift's thread pool and its answer back to the event loop:
/// two crossings between thread pools per request, which cost far more than reading the event and running the
/// rules. This handler sits in the HTTP pipeline before Hummingbird's and answers decisions itself, with the same
/// ``DecisionEndpoint`` the route uses (so both check, decide and commit alike); the commit is the only wait, and
/// its completion comes back to the event loop. Every other request goes on to the router. To keep answers in
/// request order, a decision that arrives while the router still owes an answer on this connection goes to the
/// router too, and requests that arrive while a decision waits for its commit are held until it is answered.
final class DecideChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let endpoint: DecisionEndpoint
    let logger: Logger

    /// A decision request being read.
    struct Current {
        var head: HTTPRequest
        /// What the headers proved; nil once the request was refused (the rest of its body is dropped).
        var proof: RequestAuthenticator.HeaderVerdict?
        var body: ByteBuffer
        var started: ContinuousClock.Instant
    }

    private var current: Current?
    /// Requests handed to the router whose answers have not ended.
    private var routed = 0
    /// Whether a decision waits for its commit.
    private var answering = false
    /// What arrived while a decision waited: passed on in order once it is answered.
    private enum Held {
        case read(NIOAny)
        case error(any Error)
        case event(Any)
    }
    private var held: [Held] = []
    private var heldStart = 0
    /// Events that wait for the decision being read or answered (a shutdown's quiesce).
    private var heldEvents: [Any] = []
    /// A read the channel asked for while a decision waited: no more is read from the socket until it is answered.
    private var readWanted = false
    private var settling = false
    /// The latency histogram of answered decisions, looked up once per connection.
    private var answered: DurationHistogram?

    init(endpoint: DecisionEndpoint, logger: Logger) {
        self.endpoint = endpoint
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if answering {
            held.append(.read(data))
            return
        }
        // After a close (an early refusal), what the decoder still had in its buffer is not decided.
        guard context.channel.isActive else { return }
        let part = unwrapInboundIn(data)
        if var request = current {
            switch part {
            case .head:
                // The codec ends a request before the next head; a head here would be a bug upstream.
                current = nil
                routed += 1
                context.fireChannelRead(data)
            case .body(var chunk):
                guard request.proof != nil else { return }
                if request.body.readableBytes + chunk.readableBytes > endpoint.configuration.maxEventBytes {
                    request.proof = nil
                    current = request
                    answer(context, refusal: ErrorBody.tooLarge(endpoint.configuration.maxEventBytes), request)
                    return
                }
                request.body.writeBuffer(&chunk)
                current = request
            case .end:
                current = nil
                if let proof = request.proof { decide(context, request, proof: proof) }
            }
            return
        }
        if case .head(let head) = part, routed == 0, head.method == .post, Self.isDecide(head.path) {
            var request = Current(
                head: head, proof: nil, body: context.channel.allocator.buffer(capacity: 0), started: .now)
            do {
                request.proof = try endpoint.admit(head.headerFields)
            } catch {
                current = request
                answer(context, refusal: error, request)
                return
            }
            current = request
            return
        }
        if case .head = part { routed += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Never below zero: the router also answers requests the codec could not parse, which it never saw.
        if case .end = unwrapOutboundIn(data) { routed = max(0, routed - 1) }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if answering {
            held.append(.event(event))
        } else if current != nil {
            // A shutdown's quiesce event waits until the decision being read is answered.
            heldEvents.append(event)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A parse error after a decision that waits for its commit is answered after that decision.
        if answering {
            held.append(.error(error))
        } else {
            context.fireErrorCaught(error)
        }
    }

    func read(context: ChannelHandlerContext) {
        // Backpressure: nothing more is read from the socket while a decision waits for its commit.
        if answering {
            readWanted = true
        } else {
            context.read()
        }
    }

    /// `/v1/decide`, with or without a query.
    static func isDecide(_ path: String?) -> Bool {
        guard let path, path.hasPrefix("/v1/decide") else { return false }
        return path.utf8.count == 10 || path.utf8.dropFirst(10).first == UInt8(ascii: "?")
    }

    private func decide(_ context: ChannelHandlerContext, _ request: Current, proof: RequestAuthenticator.HeaderVerdict)
    {
        let prepared: DecisionEndpoint.Prepared
        do {
            prepared = try endpoint.prepare(request.body, proof: proof, logger: logger)
        } catch {
            answer(context, refusal: error, request)
            return
        }
        guard let record = prepared.record, let effects = endpoint.effects else {
            answer(context, body: prepared.answer, request)
            return
        }
        answering = true
        let bound = NIOLoopBound((self, context, request), eventLoop: context.eventLoop)
        let answer = prepared.answer
        let logger = prepared.logger
        effects.outbox.commit(record) { result in
            bound.eventLoop.execute {
                let (handler, context, request) = bound.value
                switch result {
                case .success:
                    handler.answer(context, body: answer, request)
                case .failure(let error):
                    handler.answer(context, refusal: DecisionEndpoint.notCommitted(error, logger: logger), request)
                }
                handler.answering = false
                handler.settle(context)
            }
        }
    }

    /// After an answer: passes on what arrived while the decision waited, in order, until another decision
    /// waits or nothing is left; then the events that waited for the decision, and the read the channel wanted.
    private func settle(_ context: ChannelHandlerContext) {
        guard !settling else { return }
        settling = true
        defer { settling = false }
        var passedReads = false
        while !answering && heldStart < held.count {
            let next = held[heldStart]
            heldStart += 1
            switch next {
            case .read(let data):
                passedReads = true
                channelRead(context: context, data: data)
            case .error(let error): context.fireErrorCaught(error)
            case .event(let event): userInboundEventTriggered(context: context, event: event)
            }
        }
        if heldStart == held.count {
            held.removeAll(keepingCapacity: true)
            heldStart = 0
        }
        // What was passed on reaches the router's reader at the end of a read, as from the socket.
        if passedReads { context.fireChannelReadComplete() }
        guard !answering else { return }
        if current == nil && !heldEvents.isEmpty {
            let events = heldEvents
            heldEvents = []
            for event in events { context.fireUserInboundEventTriggered(event) }
        }
        if readWanted {
            readWanted = false
            context.read()
        }
    }

    private func answer(_ context: ChannelHandlerContext, refusal: ErrorBody, _ request: Current) {
        var body = context.channel.allocator.buffer(capacity: 160)
        body.writeString(refusal.text)
        var fields = refusal.headers
        fields[.contentType] = "application/json"
        write(context, status: refusal.status, fields: fields, body: body, request)
    }

    private func answer(_ context: ChannelHandlerContext, body: ByteBuffer, _ request: Current) {
        write(context, status: .ok, fields: [.contentType: "application/json"], body: body, request)
    }

    private func write(
        _ context: ChannelHandlerContext, status: HTTPResponse.Status, fields: HTTPFields, body: ByteBuffer,
        _ request: Current
    ) {
        var fields = fields
        fields[.contentLength] = String(body.readableBytes)
        let close = request.head.headerFields[.connection]?.lowercased() == "close"
        if close { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
        let duration = ContinuousClock.now - request.started
        if status == .ok {
            if answered == nil {
                answered = endpoint.metrics.histogram(route: "/v1/decide", method: "POST", status: 200)
            }
            answered?.record(duration)
        } else {
            endpoint.metrics.requestFinished(
                route: "/v1/decide", method: "POST", status: Int(status.code), duration: duration)
        }
        settle(context)
    }
}
