#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Reads newline-separated records from a file descriptor in constant memory.
///
/// A record longer than `maxLine` bytes is not buffered: it is skipped through to its newline and reported as
/// oversized, so one giant line cannot exhaust memory.
final class LineReader {
    /// One record.
    enum Line {
        /// The bytes of a line without its newline (valid until the next call).
        case line(UnsafeRawBufferPointer)
        /// A line longer than the limit, with how many bytes it had.
        case oversized(Int)
    }

    let fd: Int32
    let maxLine: Int
    let buffer: UnsafeMutableRawBufferPointer
    var start = 0
    var end = 0
    var atEOF = false

    init(fd: Int32, maxLine: Int) {
        self.fd = fd
        self.maxLine = maxLine
        self.buffer = .allocate(byteCount: maxLine + (1 << 20), alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Reads more bytes after `end`; false at end of input. When a read would block, `idle` runs first (to flush
    /// what was decided so far); a signal seen by `signals` ends the read with ``SignalWatch/Interrupted``.
    func fill(idle: () -> Void = {}, signals: SignalWatch? = nil) throws -> Bool {
        if start > 0 {
            if end > start { memmove(buffer.baseAddress!, buffer.baseAddress! + start, end - start) }
            end -= start
            start = 0
        }
        if let signals { try wait(idle: idle, signals: signals) }
        while true {
            let count = read(fd, buffer.baseAddress! + end, buffer.count - end)
            if count < 0 {
                if errno == EINTR { continue }
                throw CLIError("cannot read input: \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                atEOF = true
                return false
            }
            end += count
            return true
        }
    }

    /// Waits until the input is readable, running `idle` once if it is not readable at once; throws when a signal
    /// arrives first.
    func wait(idle: () -> Void, signals: SignalWatch) throws {
        var descriptors = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        var timeout: Int32 = 0
        while true {
            let ready = poll(&descriptors, 2, timeout)
            if let signal = signals.pending() { throw SignalWatch.Interrupted(signal: signal) }
            if ready < 0 {
                if errno == EINTR { continue }
                return  // let read() report the problem
            }
            if descriptors[0].revents != 0 { return }
            if timeout == 0 {
                idle()
                timeout = -1
            }
        }
    }

    /// Every line is held to the limit, not only one longer than what is buffered; a CRLF line's `\r` is its line
    /// end, not part of the event, so an event of exactly `maxLine` bytes passes with either line end.
    static func held(_ line: UnsafeRawBufferPointer, to maxLine: Int) -> Line {
        let length = line.count - (line.last == 0x0D ? 1 : 0)
        return length > maxLine ? .oversized(length) : .line(line)
    }

    /// The next record, or nil at end of input. `idle` and `signals` are as for ``fill(idle:signals:)``.
    func next(idle: () -> Void = {}, signals: SignalWatch? = nil) throws -> Line? {
        var scanned = 0  // bytes after `start` already known to hold no newline
        while true {
            let from = start + scanned
            if let newline = memchr(buffer.baseAddress! + from, 0x0A, end - from) {
                let index = buffer.baseAddress!.distance(to: UnsafeMutableRawPointer(newline))
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<index])
                start = index + 1
                return LineReader.held(line, to: maxLine)
            }
            scanned = end - start
            // One byte of slack: the `\r` of a CRLF line end is not part of the event.
            if scanned > maxLine + 1 { return try skipOversized(idle: idle, signals: signals) }
            if atEOF {
                guard end > start else { return nil }
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                start = end
                return LineReader.held(line, to: maxLine)
            }
            _ = try fill(idle: idle, signals: signals)
        }
    }

    /// Discards the rest of an oversized line and reports its length. `idle` runs first, since the rest may be
    /// endless and never block (so what was decided before it is written now), and a signal seen by `signals`
    /// ends the skip as it ends any read.
    func skipOversized(idle: () -> Void = {}, signals: SignalWatch? = nil) throws -> Line {
        var total = end - start
        start = 0
        end = 0
        idle()
        while try fill(idle: idle, signals: signals) {
            if let newline = memchr(buffer.baseAddress!, 0x0A, end) {
                let index = buffer.baseAddress!.distance(to: UnsafeMutableRawPointer(newline))
                total += index
                start = index + 1
                return .oversized(total)
            }
            total += end
            end = 0
        }
        return .oversized(total)
    }
}
