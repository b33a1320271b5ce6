import RolecallLanguage
import Synchronization

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
///
/// A failed write to standard output (a full disk, a closed descriptor, a reader gone while SIGPIPE is ignored)
/// is remembered: later writes to it are skipped, a long-running command sees ``hasFailed`` and stops, and
/// ``reportFailureAtExit()`` turns it into `rules: error: cannot write output: ...` and exit code 2 however the
/// process ends. A command's output is never cut short with a success. Failed writes to standard error are not
/// remembered: there is nowhere left to say so.
package enum Output {
    package static func standardOutput(_ text: String) { write(fd: 1, Array(text.utf8)) }
    package static func standardError(_ text: String) { write(fd: 2, Array(text.utf8)) }

    /// The `errno` of the first failed write to standard output, 0 while none failed. Process-wide, as the
    /// descriptor it describes is (stdio keeps its error flag the same way); atomic, since a server's threads
    /// may write.
    static let failure = Atomic<Int32>(0)

    /// Whether a write to standard output has failed: what is written from now on is lost.
    package static var hasFailed: Bool { failure.load(ordering: .relaxed) != 0 }

    /// Writes all of `bytes`, retrying on interruption and short writes. A failure on standard output is
    /// remembered (see ``Output``), and once one happened nothing more is written there.
    package static func write(fd: Int32, _ bytes: [UInt8]) {
        if fd == 1 && hasFailed { return }
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    if fd == 1 { remember(errno) }
                    return
                }
                offset += written
            }
        }
    }

    /// Records `code` as the failure of standard output unless one was recorded already.
    static func remember(_ code: Int32) {
        _ = failure.compareExchange(expected: 0, desired: code == 0 ? EIO : code, ordering: .relaxed)
    }

    /// Makes a failed write to standard output end the process with a message and exit code 2, whatever else
    /// ends it (a command's return, ArgumentParser's `exit`, an error): registered with `atexit`, it flushes
    /// stdio's streams (ArgumentParser prints help and version with `print`) and, when a write failed,
    /// prints `rules: error: cannot write output: REASON` and leaves with ``ExitStatus/badInput``.
    ///
    /// It also keeps descriptors 0, 1 and 2 taken when the process started with one closed (`>&-`): the next file
    /// opened would otherwise get the number, and decisions written to "standard output" would land in it (a
    /// rule file, an outbox database). A closed standard output is held open read-only, so writes to it fail with
    /// EBADF as they would have; a closed standard input write-only, so reads fail the same way.
    ///
    /// And it ignores SIGXFSZ: a write past the file size limit (`ulimit -f`) then fails with EFBIG like any other
    /// failed write, instead of killing the process in the middle of it. `rules fmt --write` removes its temporary
    /// file and says `cannot write ...: File too large`; standard output to a file ends as described above.
    package static func reportFailureAtExit() {
        signal(SIGXFSZ, SIG_IGN)
        for (fd, flags) in [(Int32(0), O_WRONLY), (1, O_RDONLY), (2, O_RDONLY)] where fcntl(fd, F_GETFD) < 0 {
            let opened = open("/dev/null", flags)
            if opened >= 0 && opened != fd { close(opened) }
        }
        atexit {
            if fflush(nil) != 0 { Output.remember(errno) }
            let code = Output.failure.load(ordering: .relaxed)
            guard code != 0 else { return }
            Output.standardError("rules: error: cannot write output: \(String(cString: strerror(code)))\n")
            _exit(ExitStatus.badInput.rawValue)
        }
    }

    /// The command line as given, program name first, through ``FileName/decode(_:)``: `CommandLine.arguments`
    /// decodes lossily, so a path that is not valid UTF-8 (`--event $'ev\xe9.json'`) would name a file with U+FFFD
    /// in its name instead of its own.
    package static func arguments() -> [String] {
        (0..<Int(CommandLine.argc)).map { index -> String in
            guard let argument = CommandLine.unsafeArgv[index] else { return "" }
            return FileName.decode(UnsafeRawBufferPointer(start: argument, count: strlen(argument)))
        }
    }

    package static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    package static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// Reads a whole file (or standard input for `-`), refusing more than `limit` bytes; the error names
/// `reportedLimit` when the caller allows a line end beyond the limit it documents.
func readFile(_ path: String, limit: Int, reportedLimit: Int? = nil) throws -> [UInt8] {
    let fd = path == "-" ? 0 : open(FileName.cString(path), O_RDONLY)
    guard fd >= 0 else { throw CLIError("cannot open \(FileName.visible(path)): \(String(cString: strerror(errno)))") }
    defer { if fd != 0 { close(fd) } }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw CLIError("cannot read \(FileName.visible(path)): \(String(cString: strerror(errno)))")
        }
        if count == 0 { return bytes }
        if bytes.count + count > limit {
            throw CLIError("\(FileName.visible(path)) is larger than \(reportedLimit ?? limit) bytes")
        }
        bytes += chunk[0..<count]
    }
}
