#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure to print as `rules: error: ...` with exit code 2.
package struct CLIError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Writing to the standard streams without Foundation, unbuffered for messages and buffered for decisions.
package enum Output {
    package static func standardOutput(_ text: String) { write(fd: 1, Array(text.utf8)) }
    package static func standardError(_ text: String) { write(fd: 2, Array(text.utf8)) }

    /// Writes all of `bytes`, retrying on interruption and short writes.
    package static func write(fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    package static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    package static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// Reads a whole file (or standard input for `-`), refusing more than `limit` bytes; the error names
/// `reportedLimit` when the caller allows a line end beyond the limit it documents.
func readFile(_ path: String, limit: Int, reportedLimit: Int? = nil) throws -> [UInt8] {
    let fd = path == "-" ? 0 : open(path, O_RDONLY)
    guard fd >= 0 else { throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { if fd != 0 { close(fd) } }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw CLIError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if count == 0 { return bytes }
        if bytes.count + count > limit {
            throw CLIError("\(path) is larger than \(reportedLimit ?? limit) bytes")
        }
        bytes += chunk[0..<count]
    }
}
