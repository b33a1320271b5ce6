#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The mapped input's range, for the SIGBUS handler: the first byte's address, and the end's. Zero when nothing
/// is mapped.
///
/// nonisolated(unsafe): a signal handler can reach nothing but globals. They are written on the reading thread
/// only while no mapped byte is being read, and read by the handler, which runs on that same thread (SIGBUS is
/// delivered to the thread that touched the page).
nonisolated(unsafe) private var guardedStart: UInt = 0
nonisolated(unsafe) private var guardedEnd: UInt = 0
nonisolated(unsafe) private var guardedPage: UInt = 4096
/// Set by the handler once a page of the mapping turned out to be gone.
nonisolated(unsafe) private var guardedTruncated: Int32 = 0
nonisolated(unsafe) private var guardInstalled = false

/// Turns a mapped file that shrinks under its reader from a crash into an error: reading a page of a mapping
/// past the file's new end raises SIGBUS, which would kill `rules eval --events` with its decisions unwritten
/// (`logrotate`'s copytruncate does this to a log). The handler maps zeros over the rest of the mapping, so the
/// read that faulted goes on, and notes it; ``LineReader`` checks ``truncated`` after scanning each line, before
/// anyone reads the line, and ends the input with an error. A SIGBUS from anywhere else is left to kill the
/// process as it would have.
enum TruncationGuard {
    /// Guards `mapping` (one at a time), installing the handler the first time.
    static func guardMapping(_ mapping: UnsafeMutableRawBufferPointer) {
        if !guardInstalled {
            install()
            guardInstalled = true
        }
        guardedPage = UInt(sysconf(Int32(_SC_PAGESIZE)))
        guardedTruncated = 0
        guardedStart = UInt(bitPattern: mapping.baseAddress)
        guardedEnd = guardedStart + UInt(mapping.count)
    }

    /// Stops guarding (before the mapping is unmapped).
    static func release() {
        guardedStart = 0
        guardedEnd = 0
    }

    /// Whether a page of the guarded mapping was gone (the file was truncated while it was read).
    static var truncated: Bool { guardedTruncated != 0 }

    static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { _, info, _ in
            let address = UInt(bitPattern: info?.pointee._sifields._sigfault.si_addr)
            guard address >= guardedStart, address < guardedEnd else {
                // Not ours: fault again with the default action, as if there were no handler.
                signal(SIGBUS, SIG_DFL)
                return
            }
            let page = address & ~(guardedPage - 1)
            let zeros = mmap(
                UnsafeMutableRawPointer(bitPattern: page), Int(guardedEnd - page), PROT_READ,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
            if zeros == MAP_FAILED { signal(SIGBUS, SIG_DFL) }
            guardedTruncated = 1
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_SIGINFO
        sigaction(SIGBUS, &action, nil)
    }
}
