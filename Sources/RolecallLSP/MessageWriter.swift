import RolecallEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes JSON-RPC messages with their `Content-Length` header to a file descriptor.
struct MessageWriter {
    let fd: Int32

    /// Writes one message; false when the other end has gone.
    @discardableResult
    func send(_ message: JSONValue) -> Bool {
        let body = Array(message.serialized.utf8)
        return writeAll(Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body)
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }
}

/// `write(2)`, under a name the writer's own method does not hide.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
