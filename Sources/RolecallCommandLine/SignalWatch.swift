#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The write end of the self-pipe the signal handler writes to; -1 until ``SignalWatch/install()``.
///
/// nonisolated(unsafe): a signal handler can reach nothing but globals. It is written once, on the main thread,
/// before the handlers are installed, and only read afterwards (by the handler).
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// Turns SIGTERM and SIGINT into something a blocking read can wait for: the handler writes the signal's number
/// to a pipe (the self-pipe trick), and a reader polls that pipe beside its input. So `rules eval --events` can
/// write every decision it made before it exits, instead of dying with them in its buffer.
package struct SignalWatch {
    /// A SIGTERM or SIGINT arrived; the command writes what it has, then ends as the signal would have.
    package struct Interrupted: Error {
        /// The signal's number.
        package var signal: Int32
    }

    /// The read end of the self-pipe: readable once a signal has arrived.
    package let descriptor: Int32

    /// Installs the handlers; nil when no pipe can be made (the signals then keep their default action).
    package static func install() -> SignalWatch? {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return nil }
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        signalPipeWriteEnd = ends[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(signalPipeWriteEnd, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT] {
            sigaction(signal, &action, nil)
            sigaddset(&signals, signal)
        }
        // A parent may start us with them blocked (a thread pool's mask is inherited through posix_spawn).
        sigprocmask(SIG_UNBLOCK, &signals, nil)
        return SignalWatch(descriptor: ends[0])
    }

    /// The signal that arrived, if one did (without waiting).
    package func pending() -> Int32? {
        var byte: UInt8 = 0
        return read(descriptor, &byte, 1) == 1 ? Int32(byte) : nil
    }

    /// Ends the process the way `signal` would have, after the command has written what it decided.
    package static func end(by signal: Int32) -> Never {
        Glibc.signal(signal, SIG_DFL)
        raise(signal)
        exit(128 + signal)
    }
}
