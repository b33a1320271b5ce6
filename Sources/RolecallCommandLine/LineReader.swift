#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Reads newline-separated records from a file descriptor in constant memory.
///
/// A record longer than `maxLine` bytes is not buffered: it is skipped through to its newline and reported as
/// oversized, so one giant line cannot exhaust memory.
///
/// A regular file is mapped into memory rather than read: its lines are handed out in place, so the reader
/// neither copies the file nor asks the kernel for it a megabyte at a time. Reading 47 MB of events cost 12% of
/// `rules eval --events` in copies and page-cache lookups; mapping them costs as much when the page cache holds
/// the file in 4 KB pages, and next to nothing (0.1 ms against 1.5) when it holds it in large folios. Reading
/// into a reused 128 KiB buffer instead, so that the bytes are still in the core's L2 cache when the event is
/// read, was measured too: the whole process took the same CPU time on 4 KB pages and 1.8 ms more on large
/// folios; and on 4 KB pages nothing the reader does helps, the same file takes 6 ms more than in large folios
/// whichever way it is read (populating ahead or faulting, dropping behind or not, a larger window). The mapping
/// is filled ahead of the reader a window at a time and dropped behind it, so memory stays constant; what the
/// file grows by after it was opened is then read as from a pipe. A file truncated while it is mapped ends the
/// input with an error (``TruncationGuard``), where `read` would have seen an early end. Anything else, a pipe, a
/// terminal or a file that cannot be mapped, is read into a buffer.
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
    /// The input's name as messages show it (`standard input`, or the path as ``FileName/visible(_:)`` shows it).
    let name: String
    let buffer: UnsafeMutableRawBufferPointer
    var start = 0
    var end = 0
    var atEOF = false
    /// The mapped part of a regular file, from the page holding the reading position when the reader was made
    /// to the file's end then; nil once it has been read (or when the input is not mapped).
    var mapping: UnsafeMutableRawBufferPointer?
    /// The next unread byte of ``mapping``.
    var mapped = 0
    /// Once the reader is past this, ``prepare(_:line:signals:)`` runs again.
    var preparedTo = 0
    /// How much of ``mapping`` has been filled.
    var populatedTo = 0
    /// Where the dropped part of ``mapping`` ends.
    var droppedTo = 0

    /// How far ahead of the reader a mapping is filled; every half of it, a mapped read looks for a signal.
    static let window = 4 << 20

    init(fd: Int32, maxLine: Int, name: String) {
        self.fd = fd
        self.name = name
        self.maxLine = maxLine
        self.buffer = .allocate(byteCount: maxLine + (1 << 20), alignment: 16)
        if let (mapping, offset) = LineReader.map(fd) {
            self.mapping = mapping
            mapped = offset
            TruncationGuard.guardMapping(mapping)
        }
    }

    deinit {
        buffer.deallocate()
        if let mapping { LineReader.unmap(mapping) }
    }

    static func unmap(_ mapping: UnsafeMutableRawBufferPointer) {
        TruncationGuard.release()
        munmap(mapping.baseAddress, mapping.count)
    }

    /// The rest of `fd` mapped, from the start of the page holding its offset, and where in the mapping that
    /// offset is; nil unless it is a regular file with something left to read that can be mapped. The
    /// descriptor's offset is moved to the mapping's end, where reading goes on once the mapping is done.
    static func map(_ fd: Int32) -> (UnsafeMutableRawBufferPointer, Int)? {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let offset = lseek(fd, 0, SEEK_CUR)
        let size = off_t(info.st_size)
        guard offset >= 0, size > offset else { return nil }
        let page = off_t(sysconf(Int32(_SC_PAGESIZE)))
        let from = offset - offset % page
        let length = Int(size - from)
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, from), address != MAP_FAILED else {
            return nil
        }
        guard lseek(fd, size, SEEK_SET) == size else {
            munmap(address, length)
            return nil
        }
        _ = madvise(address, length, MADV_SEQUENTIAL)
        return (UnsafeMutableRawBufferPointer(start: address, count: length), Int(offset - from))
    }

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
                throw CLIError("cannot read \(name): \(String(cString: strerror(errno)))")
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
        if let mapping {
            if let line = try nextMapped(mapping, signals: signals) { return line }
            // The mapping holds no further line end: its last bytes begin a line that the file may continue.
            let rest = mapping.count - mapped
            self.mapping = nil
            defer { LineReader.unmap(mapping) }
            guard rest <= maxLine + 1 else { return try skipOversized(already: rest, idle: idle, signals: signals) }
            if rest > 0 { buffer.baseAddress!.copyMemory(from: mapping.baseAddress! + mapped, byteCount: rest) }
            start = 0
            end = rest
        }
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

    /// The next line of the mapping, in place; nil when the rest of it holds no line end.
    func nextMapped(_ mapping: UnsafeMutableRawBufferPointer, signals: SignalWatch?) throws -> Line? {
        if mapped >= preparedTo { try prepare(mapping, line: mapped, signals: signals) }
        let base = mapping.baseAddress!
        let newline = memchr(base + mapped, 0x0A, mapping.count - mapped)
        // Every byte up to the line end has been read: had the file lost any of them, it is known now.
        if TruncationGuard.truncated { throw CLIError("the input file was truncated while it was being read") }
        guard let newline else { return nil }
        let index = base.distance(to: newline)
        let line = UnsafeRawBufferPointer(start: base + mapped, count: index - mapped)
        mapped = index + 1
        return LineReader.held(line, to: maxLine)
    }

    /// Every half window of the mapping: looks for a signal, drops the pages before `line`, the start of the
    /// line about to be read (they would otherwise stay in this process's memory to the end), and fills the
    /// mapping up to a window ahead, so the reader does not stop at every page.
    func prepare(_ mapping: UnsafeMutableRawBufferPointer, line: Int, signals: SignalWatch?) throws {
        if let signal = signals?.pending() { throw SignalWatch.Interrupted(signal: signal) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let behind = line / page * page
        if behind > droppedTo {
            _ = madvise(mapping.baseAddress! + droppedTo, behind - droppedTo, MADV_DONTNEED)
            droppedTo = behind
        }
        let ahead = min(mapping.count, (line + LineReader.window + page - 1) / page * page)
        if ahead > populatedTo {
            let from = max(populatedTo, behind)
            _ = madvise(mapping.baseAddress! + from, ahead - from, LineReader.populateRead)
            populatedTo = ahead
        }
        preparedTo = line + LineReader.window / 2
    }

    /// `MADV_POPULATE_READ` (Linux 5.14): fault a range in now, in one call. Older kernels refuse it, and the
    /// pages are then faulted in as they are read.
    static let populateRead: Int32 = 22

    /// Discards the rest of an oversized line and reports its length, `already` bytes of which were seen before
    /// (by default what is buffered). `idle` runs first, since the rest may be endless and never block (so what
    /// was decided before it is written now), and a signal seen by `signals` ends the skip as it ends any read.
    func skipOversized(already: Int? = nil, idle: () -> Void = {}, signals: SignalWatch? = nil) throws -> Line {
        var total = already ?? end - start
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
