import NIOCore
import NIOHTTPTypes

/// Bounds how long one request may take to arrive, and closes a connection whose request was refused before its
/// body was read.
///
/// The idle timeout alone lets a client keep a connection (and the memory of its half-read body) by sending a
/// byte now and then; this handler gives each request ``deadline`` from its head to its end. And when the
/// answer is complete before the request is (a 401, 413 or 415 decided from the headers), the connection closes
/// once the answer is written, rather than reading and discarding the rest of a body nobody wants.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let deadline: TimeAmount
    private var reading = false
    private var timer: Scheduled<Void>?

    init(deadline: TimeAmount) {
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            reading = true
            timer?.cancel()
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
        case .end:
            reading = false
            timer?.cancel()
            timer = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data), reading else {
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

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }
}
