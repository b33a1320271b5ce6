import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain socket to a live test server, for what the test clients cannot send: a chunked body.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `head` (request line and headers, without the blank line), then `body` as chunks of `chunkSize`
    /// bytes, and returns the status code of the answer.
    static func postChunked(port: Int, head: String, body: [UInt8], chunkSize: Int = 100) async throws -> Int {
        var request = Array((head + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").utf8)
        var offset = 0
        while offset < body.count {
            let chunk = body[offset..<min(offset + chunkSize, body.count)]
            request += Array((String(chunk.count, radix: 16) + "\r\n").utf8) + chunk + Array("\r\n".utf8)
            offset += chunk.count
        }
        request += Array("0\r\n\r\n".utf8)
        return try await exchange(port: port, request)
    }

    /// Sends `text` as it is and returns the status code of the answer.
    static func exchange(port: Int, head text: String) async throws -> Int {
        try await exchange(port: port, Array(text.utf8))
    }

    /// Sends `request` and returns the status code of the answer.
    static func exchange(port: Int, _ request: [UInt8]) async throws -> Int {
        try await onThread { try blockingExchange(port: port, request) }
    }

    /// Runs `body` on a thread of its own: blocking socket calls on Swift's few cooperative threads would starve
    /// the server in the same process.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// A socket connected to 127.0.0.1:`port`, whose reads give up after `timeout` seconds.
    static func connect(port: Int, timeout: Int = 10) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect failed")
        }
        return fd
    }

    /// Sends `bytes` on `fd`; the count sent, negative when the peer is gone (no SIGPIPE).
    @discardableResult
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    static func blockingExchange(port: Int, _ request: [UInt8]) throws -> Int {
        let fd = try connect(port: port)
        defer { close(fd) }
        // The server may answer 413 and close before reading everything: a failed send is not an error here.
        send(fd, request)
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !answer.contains(0x0A) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            answer += buffer[0..<count]
        }
        let line = String(decoding: answer, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw Failure(description: "no status line in `\(line)`")
        }
        return status
    }
}
