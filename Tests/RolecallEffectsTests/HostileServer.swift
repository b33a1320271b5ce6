import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// A deliberately misbehaving Management API on 127.0.0.1, written on raw sockets so a test controls every byte:
/// wrong numbers in headers, HTML instead of JSON, endless pages, redirects, a token with CR/LF in it, answers
/// dripped a byte at a time, connections closed or left hanging.
///
/// Each test gives it a `mode`, a function from the request (and its index among all requests) to a ``Reply``.
/// Every connection is closed after ``connectionLifetime`` seconds whatever it is doing, so a client that would
/// wait forever still comes back, and the test can fail on its elapsed time instead of hanging.
final class HostileServer: Sendable {
    /// A request as received.
    struct Request: Sendable {
        /// The method.
        var method: String
        /// The path with its query.
        var target: String
        /// Header lines as sent (names as the client spelled them).
        var headers: [(String, String)]
        /// The body.
        var body: [UInt8]
        /// Everything before the body, for checks on what went over the wire.
        var head: String

        /// The path without its query.
        var path: String { String(target.prefix { $0 != "?" }) }

        /// The value of header `name` (case-insensitive).
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// What the server does with a request.
    enum Reply: Sendable {
        /// A well-formed answer with a Content-Length; the connection stays open.
        case respond(status: Int, headers: [(String, String)], body: String)
        /// These bytes as they are, then the connection is closed.
        case raw(String)
        /// These bytes one at a time, `interval` seconds apart, until the connection's lifetime ends.
        case drip(String, interval: Double)
        /// Close the connection without answering.
        case close
    }

    let mode: @Sendable (Request, Int) -> Reply
    let listener: Int32
    /// The port it listens on.
    let port: Int
    /// How long any connection may stay open, in seconds.
    let connectionLifetime: Double
    let received = NIOLockedValueBox<[Request]>([])
    let accepted = NIOLockedValueBox(0)
    let stopped = NIOLockedValueBox(false)

    /// Starts listening on a free port of 127.0.0.1 and serving with `mode`.
    init(connectionLifetime: Double = 5, mode: @escaping @Sendable (Request, Int) -> Reply) throws {
        self.mode = mode
        self.connectionLifetime = connectionLifetime
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// `http://127.0.0.1:PORT`.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Every request received so far, in order.
    var requests: [Request] { received.withLockedValue { $0 } }

    /// Connections accepted so far.
    var connections: Int { accepted.withLockedValue { $0 } }

    /// Stops accepting; open connections end at their lifetime.
    ///
    /// Only the accept loop closes the listening socket, once it has seen the stop: closed here, its descriptor
    /// could be reused by the next test's server while the old loop still polls that number, and the old loop
    /// would then answer the new server's clients in the old mode.
    func stop() {
        let wasRunning = stopped.withLockedValue { stopped in
            defer { stopped = true }
            return !stopped
        }
        if wasRunning { shutdown(listener, Int32(SHUT_RDWR)) }
    }

    func acceptLoop() {
        defer { close(listener) }
        while !stopped.withLockedValue({ $0 }) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0, !stopped.withLockedValue({ $0 }) else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            accepted.withLockedValue { $0 += 1 }
            Thread.detachNewThread { [self] in serve(connection) }
        }
    }

    /// Serves one connection until the client closes it, a reply closes it, or its lifetime ends.
    func serve(_ connection: Int32) {
        defer { close(connection) }
        let end = Date().addingTimeInterval(connectionLifetime)
        var buffer: [UInt8] = []
        while Date() < end {
            guard let request = read(connection, into: &buffer, until: end) else { return }
            let index = received.withLockedValue { requests in
                requests.append(request)
                return requests.count - 1
            }
            switch mode(request, index) {
            case .respond(let status, let headers, let body):
                var head = "HTTP/1.1 \(status) \(status < 400 ? "OK" : "Error")\r\n"
                for (name, value) in headers { head += "\(name): \(value)\r\n" }
                head += "Content-Length: \(body.utf8.count)\r\n\r\n"
                guard write(connection, head + body) else { return }
            case .raw(let text):
                _ = write(connection, text)
                return
            case .drip(let text, let interval):
                for character in text {
                    guard Date() < end, write(connection, String(character)) else { return }
                    Thread.sleep(forTimeInterval: interval)
                }
                while Date() < end { Thread.sleep(forTimeInterval: 0.05) }
                return
            case .close:
                return
            }
        }
    }

    func write(_ connection: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes {
                send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// Reads one request (head and Content-Length body); nil when the connection ends first.
    func read(_ connection: Int32, into buffer: inout [UInt8], until end: Date) -> Request? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        var needed = Int.max
        while true {
            if headEnd == nil, let found = buffer.firstRange(of: separator) {
                headEnd = found.upperBound
                let head = String(decoding: buffer[..<found.lowerBound], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
                needed = found.upperBound + (length ?? 0)
            }
            if let headEnd, buffer.count >= needed {
                let head = String(decoding: buffer[..<(headEnd - 4)], as: UTF8.self)
                let body = Array(buffer[headEnd..<needed])
                buffer.removeFirst(needed)
                let lines = head.components(separatedBy: "\r\n")
                let parts = lines[0].split(separator: " ")
                guard parts.count >= 2 else { return nil }
                let headers = lines.dropFirst().compactMap { line -> (String, String)? in
                    guard let colon = line.firstIndex(of: ":") else { return nil }
                    return (
                        String(line[..<colon]),
                        line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    )
                }
                return Request(
                    method: String(parts[0]), target: String(parts[1]), headers: headers, body: body, head: head)
            }
            let remaining = end.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(min(remaining, 1) * 1000)) >= 0 else { return nil }
            guard poller.revents != 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            buffer += chunk[..<count]
        }
    }
}

extension HostileServer {
    /// The token every well-behaved answer of the hostile server hands out.
    static let goodToken = "tok_hostile_0123456789"

    /// A JSON answer.
    static func json(_ status: Int, _ body: String, _ headers: [(String, String)] = []) -> Reply {
        .respond(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
    }

    /// What a correct tenant with the single role `member` (`rol_member`) answers: a token, role listings with
    /// totals, and 204 for role changes.
    static func wellBehaved(_ request: Request) -> Reply {
        switch (request.method, request.path) {
        case ("POST", "/oauth/token"):
            return json(200, #"{"access_token":"\#(goodToken)","expires_in":86400,"token_type":"Bearer"}"#)
        case ("GET", "/api/v2/roles"):
            let matches = request.target.contains("name_filter=member")
            let roles = matches ? #"[{"id":"rol_member","name":"member"}]"# : "[]"
            return json(200, #"{"roles":\#(roles),"start":0,"limit":50,"total":\#(matches ? 1 : 0)}"#)
        default:
            return .respond(status: 204, headers: [], body: "")
        }
    }
}
