import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// Where events come from, shared by `rules eval` and `rules apply`: one file, or a stream of JSON lines.
package struct EventInput: ParsableArguments {
    package init() {}

    @Option(help: "A JSON event file, or `-` for standard input.")
    package var event: String?

    @Option(help: "A file of JSON events, one per line, or `-` for standard input.")
    package var events: String?

    @Option(help: "Refuse events (with --events: lines) larger than this many bytes, at most 1 GiB.")
    package var maxEventBytes: Int = EventInput.defaultMaxEventBytes

    /// `--max-event-bytes` when it is not given.
    package static let defaultMaxEventBytes = 1 << 20

    /// The largest `--max-event-bytes` accepted: the batch reader buffers one line of this size.
    package static let maxEventBytesLimit = 1 << 30

    package func validate() throws {
        guard (event == nil) != (events == nil) else {
            throw ValidationError("give exactly one of --event FILE or --events FILE.jsonl")
        }
        guard maxEventBytes > 0, maxEventBytes <= EventInput.maxEventBytesLimit else {
            throw ValidationError("--max-event-bytes must be between 1 and \(EventInput.maxEventBytesLimit)")
        }
    }

    /// Whether events come one per line.
    package var isBatch: Bool { events != nil }

    /// The file named, for messages.
    package var source: String { event ?? events ?? "-" }

    /// One event of the input.
    package enum Item {
        /// The event's bytes, valid during the call only.
        case event(UnsafeRawBufferPointer)
        /// A line longer than `--max-event-bytes`, skipped without being buffered; its length.
        case oversized(Int)
    }

    /// Calls `body` with each event and its number (the line number with `--events`; blank lines are skipped).
    /// An input that cannot be opened or read ends the command with exit code 2. With `--events`, `idle` runs
    /// whenever reading more would block (a slow writer), and a signal seen by `signals` ends the loop by throwing
    /// ``SignalWatch/Interrupted``.
    package func forEach(
        idle: () -> Void = {}, signals: SignalWatch? = nil, _ body: (Int, Item) throws -> Void
    ) throws {
        do {
            if let event {
                // The file's final line end is not part of the event: an event of exactly the limit passes with
                // or without it, as the same event does as a line of --events.
                var bytes = try readFile(event, limit: maxEventBytes + 2, reportedLimit: maxEventBytes)
                if bytes.last == 0x0A { bytes.removeLast() }
                if bytes.last == 0x0D { bytes.removeLast() }
                guard bytes.count <= maxEventBytes else {
                    throw CLIError("\(source) is larger than \(maxEventBytes) bytes")
                }
                try bytes.withUnsafeBytes { try body(1, .event($0)) }
                return
            }
            let fd = source == "-" ? 0 : open(source, O_RDONLY)
            guard fd >= 0 else { throw CLIError("cannot open \(source): \(String(cString: strerror(errno)))") }
            defer { if fd != 0 { close(fd) } }
            let reader = LineReader(fd: fd, maxLine: maxEventBytes)
            var number = 0
            while let line = try reader.next(idle: idle, signals: signals) {
                number += 1
                switch line {
                case .oversized(let size):
                    try body(number, .oversized(size))
                case .line(let bytes):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                    try body(number, .event(bytes))
                }
            }
        } catch let error as CLIError {
            Output.standardError("rules: error: \(error)\n")
            throw ExitStatus.badInput
        }
    }
}
