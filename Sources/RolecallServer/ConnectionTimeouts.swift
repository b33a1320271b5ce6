import NIOCore
import NIOHTTPTypes

/// The connection's clocks, first in the pipeline after the HTTP codec, so it sees every request and answer
/// (those the event loop answers itself included):
///
/// - **idle:** a connection that reads and writes nothing for ``idle`` is closed, unless a request on it is
///   waiting for its answer;
/// - **request deadline:** a request must arrive whole, head to end, within ``request``: the idle clock alone
///   lets a client keep a connection (and the memory of its half-read body) by sending a byte now and then;
/// - **early answers:** when the answer is complete before its request is (a 401, 413 or 415 decided from the
///   headers), the connection closes once the answer is written, rather than reading and discarding the rest of
///   a body nobody wants.
final class ConnectionTimeouts: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let idle: TimeAmount
    let request: TimeAmount
    /// Whether a request's head has been read and not yet its end.
    private var reading = false
    /// Requests read whose answers have not ended.
    private var unanswered = 0
    private var lastActivity = NIODeadline.now()
    /// When the request being read began.
    private var requestStarted = NIODeadline.now()
    /// One timer checks both clocks (no timer per request: scheduling one costs more than a decision).
    private var timer: Scheduled<Void>?

    init(idle: TimeAmount, request: TimeAmount) {
        self.idle = idle
        self.request = request
    }

    func handlerAdded(context: ChannelHandlerContext) {
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

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head:
            reading = true
            unanswered += 1
            requestStarted = lastActivity
        case .end:
            reading = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
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

    /// Checks the clocks every quarter of the shorter one: a request overruns its deadline, or an idle
    /// connection its idle time, by at most that much.
    private func schedule(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let period = TimeAmount.nanoseconds(max(min(idle, request).nanoseconds / 4, 1_000_000))
        timer = context.eventLoop.scheduleTask(in: period) {
            let (handler, context) = bound.value
            let now = NIODeadline.now()
            let overdue = handler.reading && now - handler.requestStarted >= handler.request
            // Quiet while reading a request, or with nothing to answer: idle. Waiting for its own answer is not.
            let idle = now - handler.lastActivity >= handler.idle && (handler.reading || handler.unanswered == 0)
            if overdue || idle {
                handler.timer = nil
                context.close(promise: nil)
            } else {
                handler.schedule(context)
            }
        }
    }
}
