import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// The connection's clocks, first in the pipeline after the HTTP codec, so it sees every request and answer
/// (those the event loop answers itself included):
///
/// - **head deadline:** a request's head must arrive whole within ``head`` of its first byte (the first request's,
///   of the accept): a client sending a head a byte at a time, or half a head and then nothing, holds a
///   connection slot for that long, not for the idle time;
/// - **idle:** a connection that reads and writes nothing for ``idle`` is closed, unless a request on it is
///   waiting for its answer; this is the wait allowed between keep-alive requests;
/// - **request deadline:** a request must arrive whole, head to end, within ``request``: the idle clock alone
///   lets a client keep a connection (and the memory of its half-read body) by sending a byte now and then;
/// - **early answers:** when the answer is complete before its request is (a 401, 413 or 415 decided from the
///   headers), the connection closes once the answer is written, rather than reading and discarding the rest of
///   a body nobody wants.
///
/// A request that misses its head or request deadline is answered 408 with a JSON body when no other answer is
/// owed or under way on the connection (otherwise the connection just closes), counted in the latency histogram
/// with status 408, and logged; then the connection closes.
final class ConnectionTimeouts: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let idle: TimeAmount
    let request: TimeAmount
    let head: TimeAmount
    let metrics: ServerMetrics?
    let logger: Logger
    /// Whether a request's head has been read and not yet its end.
    private var reading = false
    /// Requests read whose answers have not ended.
    private var unanswered = 0
    /// Whether an answer's head has been written and not yet its end.
    private var responding = false
    private var lastActivity = NIODeadline.now()
    /// When the request being read began.
    private var requestStarted = NIODeadline.now()
    /// The request being read (for the count and the log of a 408).
    private var requestHead: HTTPRequest?
    /// When the head being waited for began: the accept for the first request, then the first byte after a
    /// request's end; nil while no head is awaited (a request being read, or nothing arrived since the last).
    private var headStarted: NIODeadline? = .now()
    /// Whether a byte of the awaited head has arrived (a connection that never sent one gets no answer).
    private var headBytes = false
    /// Set once a deadline closed the connection: later answers are dropped.
    private var expired = false
    /// One timer checks every clock (no timer per request: scheduling one costs more than a decision).
    private var timer: Scheduled<Void>?

    init(idle: TimeAmount, request: TimeAmount, head: TimeAmount, metrics: ServerMetrics?, logger: Logger) {
        self.idle = idle
        self.request = request
        self.head = head
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // The codec only hands on a head once it is whole; the bytes before it are seen in front of the decoder.
        let pipeline = context.pipeline.syncOperations
        if let decoder = try? pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) {
            try? pipeline.addHandler(ArrivalWatcher(self), position: .before(decoder.handler))
        }
        if context.channel.isActive { schedule(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        schedule(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    /// Bytes arrived from the socket, before the codec reads them: between requests, they begin a head.
    fileprivate func bytesArrived() {
        lastActivity = .now()
        guard !reading else { return }
        if headStarted == nil { headStarted = lastActivity }
        headBytes = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            reading = true
            unanswered += 1
            requestStarted = lastActivity
            requestHead = head
            headStarted = nil
            headBytes = false
        case .end:
            reading = false
            requestHead = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !expired else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        lastActivity = .now()
        switch unwrapOutboundIn(data) {
        case .head(let response) where response.status.kind != .informational:
            responding = true
            context.write(data, promise: promise)
            return
        case .head, .body:
            context.write(data, promise: promise)
            return
        case .end:
            responding = false
        }
        // Never below zero: the router answers a request the codec could not parse (400) without its head.
        unanswered = max(0, unanswered - 1)
        // Early only when the answer is for the request being read (none older is still owed an answer): an
        // answer to an earlier pipelined request while a later one arrives is the normal case.
        guard reading && unanswered == 0 else {
            context.write(data, promise: promise)
            return
        }
        // Answered before the request ended: finish the answer, then close.
        let channel = context.channel
        context.writeAndFlush(data).whenComplete { result in
            promise?.completeWith(result)
            channel.close(promise: nil)
        }
    }

    /// Checks the clocks every quarter of the shortest one: a head or request overruns its deadline, or an idle
    /// connection its idle time, by at most that much.
    private func schedule(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let period = TimeAmount.nanoseconds(max(min(idle, request, head).nanoseconds / 4, 1_000_000))
        timer = context.eventLoop.scheduleTask(in: period) {
            let (handler, context) = bound.value
            handler.check(context)
        }
    }

    private func check(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        // A head is awaited only when no answer is owed: while one is, the client may rightly wait for it first.
        let headOverdue = headStarted.map { now - $0 >= head && unanswered == 0 } ?? false
        let requestOverdue = reading && now - requestStarted >= request
        // Quiet while reading a request, or with nothing to answer: idle. Waiting for its own answer is not.
        let idle = now - lastActivity >= self.idle && (reading || unanswered == 0)
        guard headOverdue || requestOverdue || idle else {
            schedule(context)
            return
        }
        timer = nil
        if requestOverdue {
            expire(context, what: "request", within: request, started: requestStarted, answer: unanswered == 1)
        } else if headOverdue && headBytes, let started = headStarted {
            expire(context, what: "request head", within: head, started: started, answer: true)
        } else {
            context.close(promise: nil)
        }
    }

    /// Closes a connection whose request missed its deadline: with a 408 first when `answer` says no other
    /// request is owed one and no answer is being written.
    private func expire(
        _ context: ChannelHandlerContext, what: String, within limit: TimeAmount, started: NIODeadline, answer: Bool
    ) {
        let seconds = Double(limit.nanoseconds) / 1e9
        let route = requestHead.flatMap { $0.path }.map { routeLabel($0) } ?? "unmatched"
        let method = requestHead?.method.rawValue ?? "unknown"
        metrics?.requestFinished(
            route: route, method: method, status: 408,
            duration: .nanoseconds((NIODeadline.now() - started).nanoseconds))
        logger.info(
            "closed a connection whose request did not arrive in time",
            metadata: [
                "http.status": "408", "timeout.part": "\(what)", "timeout.seconds": "\(seconds)",
                "http.route": "\(route)", "http.method": "\(method)",
            ])
        guard answer && !responding else {
            expired = true
            context.close(promise: nil)
            return
        }
        let refusal = ErrorBody(
            status: .requestTimeout, code: "request_timeout",
            message: "the \(what) did not arrive whole within \(seconds) s")
        var body = context.channel.allocator.buffer(capacity: 160)
        body.writeString(refusal.text)
        let fields: HTTPFields = [
            .contentType: "application/json", .contentLength: String(body.readableBytes), .connection: "close",
        ]
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .requestTimeout, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        expired = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Sits in front of the HTTP decoder and tells ``ConnectionTimeouts`` when bytes arrive, so the head deadline
    /// can start at a head's first byte rather than its last.
    final class ArrivalWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        let timeouts: ConnectionTimeouts

        init(_ timeouts: ConnectionTimeouts) { self.timeouts = timeouts }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            timeouts.bytesArrived()
            context.fireChannelRead(data)
        }
    }
}
