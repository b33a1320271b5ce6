import NIOCore
import NIOHTTP1

/// Collects one HTTP request at a time and answers it with the sandbox's reply.
final class SandboxHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Request bodies larger than this are refused: the Management API's bodies are tiny.
    static let maxBody = 1 << 20

    let sandbox: Sandbox
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(sandbox: Sandbox) { self.sandbox = sandbox }

    func channelActive(context: ChannelHandlerContext) {
        sandbox.connectionOpened()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
        case .body(var buffer):
            if body.count + buffer.readableBytes > Self.maxBody {
                context.close(promise: nil)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            self.head = nil
            let headers = head.headers.map { ($0.name, $0.value) }
            switch sandbox.reply(method: head.method.rawValue, uri: head.uri, headers: headers, body: body) {
            case .drop:
                context.close(promise: nil)
            case .answer(let status, let extra, let text, let delay):
                let keepAlive = head.isKeepAlive
                let version = head.version
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let write = {
                    let (handler, context) = loopBound.value
                    handler.write(
                        context: context, status: status, headers: extra, body: text, version: version,
                        keepAlive: keepAlive)
                }
                if delay > 0 {
                    context.eventLoop.scheduleTask(in: .milliseconds(Int64(delay))) { write() }
                } else {
                    write()
                }
            }
        }
    }

    func write(
        context: ChannelHandlerContext, status: Int, headers extra: [(String, String)], body text: String,
        version: HTTPVersion, keepAlive: Bool
    ) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders(extra)
        let bytes = Array(text.utf8)
        headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !bytes.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
