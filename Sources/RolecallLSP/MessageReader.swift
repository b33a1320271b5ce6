#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads JSON-RPC messages framed the LSP way: a header section of `Name: value` lines (`Content-Length`
/// required, `Content-Type` accepted), each ended by `\r\n`, an empty line, then exactly that many bytes.
///
/// Framing errors are values, not crashes: a header section that cannot be read is skipped up to the next
/// `Content-Length` header, and a body over ``maxBodyBytes`` is read and thrown away, so the stream stays in step.
struct MessageReader {
    /// What the next read produced.
    enum Item: Equatable {
        /// A message body, to be parsed as JSON.
        case message([UInt8])
        /// A framing problem, to be answered with an error; the stream goes on.
        case framingError(String)
        /// A body of `length` bytes over the limit, discarded.
        case tooLarge(Int)
        /// The input ended.
        case end
    }

    /// Bodies larger than this are discarded unread (16 MB: room for a 10 MB document with its JSON escapes).
    static let maxBodyBytes = 16 << 20
    /// A header section larger than this is not one.
    static let maxHeaderBytes = 8 << 10

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// What a read fills before its bytes are appended to ``buffer``.
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    /// Set after a header section that could not be read: the next read first skips to the next
    /// `Content-Length` header. Skipping waits for input, so it is done after the error is answered.
    private var resynchronizing = false
    /// The `errno` of a read that failed (a closed standard input reads with EBADF), 0 while none did. The
    /// reader then stops as at the end of input; the caller tells the two apart by this.
    private(set) var readError: Int32 = 0

    init(fd: Int32) { self.fd = fd }

    /// The next message or framing problem.
    mutating func next() -> Item {
        if resynchronizing {
            resynchronizing = false
            skipToNextHeader(from: start)
        }
        while true {
            guard let headerEnd = findHeaderEnd() else {
                if buffer.count - start > Self.maxHeaderBytes {
                    start += 1
                    resynchronizing = true
                    return .framingError("header section longer than \(Self.maxHeaderBytes) bytes")
                }
                if atEnd {
                    let leftover = buffer.count - start
                    start = buffer.count
                    // Whitespace after the last message is not an error.
                    return leftover == 0 ? .end : .framingError("input ended inside a header section")
                }
                fill()
                continue
            }
            let header = Array(buffer[start..<headerEnd])
            start = headerEnd + 4
            switch Self.contentLength(header) {
            case .failure(let problem):
                resynchronizing = true
                return .framingError(problem.description)
            case .success(let length):
                if length > Self.maxBodyBytes {
                    discard(length)
                    return .tooLarge(length)
                }
                if buffer.capacity < start + length { buffer.reserveCapacity(start + length) }
                while buffer.count - start < length, !atEnd { fill() }
                guard buffer.count - start >= length else {
                    start = buffer.count
                    return .framingError("input ended inside a message body")
                }
                let body = Array(buffer[start..<(start + length)])
                start += length
                compact()
                return .message(body)
            }
        }
    }

    /// The value of `Content-Length` in a header section (without its final empty line).
    static func contentLength(_ header: [UInt8]) -> Result<Int, FramingProblem> {
        var length: Int?
        let text = String(decoding: header, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":") else {
                return .failure(FramingProblem("header line without `:`"))
            }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces
            switch name {
            case "content-length":
                guard !value.isEmpty, value.count <= 12, value.allSatisfy(\.isASCIIDigit), let number = Int(value)
                else { return .failure(FramingProblem("invalid Content-Length `\(value.prefix(40))`")) }
                length = number
            case "content-type":
                // `application/vscode-jsonrpc; charset=utf-8` is the only form the specification defines.
                if let charset = value.lowercased().split(separator: "charset=").dropFirst().first,
                    !["utf-8", "utf8"].contains(charset.trimmingSpaces)
                {
                    return .failure(FramingProblem("unsupported charset `\(charset.prefix(40))`"))
                }
            default:
                continue
            }
        }
        guard let length else { return .failure(FramingProblem("header section without Content-Length")) }
        return .success(length)
    }

    /// Why a header section was refused.
    struct FramingProblem: Error, Equatable, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// The offset of the `\r\n\r\n` ending the header section that starts at `start`, if it is buffered.
    private func findHeaderEnd() -> Int? {
        var index = start
        let limit = buffer.count - 3
        while index < limit {
            if buffer[index] == 0x0D, buffer[index + 1] == 0x0A, buffer[index + 2] == 0x0D, buffer[index + 3] == 0x0A {
                return index
            }
            index += 1
        }
        return nil
    }

    /// Drops input up to the next `Content-Length` (case-insensitive) at or after `offset` that starts a line or
    /// follows a JSON body.
    private mutating func skipToNextHeader(from offset: Int) {
        let pattern = Array("content-length".utf8)
        var index = max(offset, start)
        while true {
            while index + pattern.count <= buffer.count {
                // At a line's start, or right after a message body (`}` or `]`: bodies do not end in a newline,
                // so after a body of the wrong length the next header follows it directly).
                let atLineStart =
                    index == 0 || buffer[index - 1] == 0x0A || buffer[index - 1] == UInt8(ascii: "}")
                    || buffer[index - 1] == UInt8(ascii: "]")
                if atLineStart, pattern.indices.allSatisfy({ buffer[index + $0] | 0x20 == pattern[$0] }) {
                    start = index
                    compact()
                    return
                }
                index += 1
            }
            if atEnd {
                start = buffer.count
                compact()
                return
            }
            // Keep a partial match at the end of the buffer.
            let keep = max(index, start)
            start = keep
            compact()
            index = start
            fill()
        }
    }

    /// Reads and drops `count` bytes of body.
    private mutating func discard(_ count: Int) {
        var remaining = count
        while remaining > 0 {
            let available = buffer.count - start
            if available > 0 {
                let taken = min(available, remaining)
                start += taken
                remaining -= taken
                compact()
                continue
            }
            if atEnd { return }
            fill()
        }
    }

    /// Moves the unread bytes to the front once the read ones are most of the buffer.
    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            start = 0
        } else if start > 1 << 16, start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    /// Appends what one read returns (at most ``chunk``'s size); sets ``atEnd`` at the end of input.
    private mutating func fill() {
        while true {
            let count = chunk.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress!, raw.count) }
            if count < 0, errno == EINTR { continue }
            if count < 0 { readError = errno }
            if count <= 0 {
                atEnd = true
            } else {
                buffer.append(contentsOf: chunk[0..<count])
            }
            return
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
