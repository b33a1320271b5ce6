import NIOCore
import NIOPosix

/// Runs Swift concurrency's tasks on the event loop threads that do the server's I/O.
///
/// A request handler is an async function: by default it runs on Swift's own thread pool while SwiftNIO reads
/// and writes the socket on its event loops, so every request crosses between the two pools twice. With the
/// event loops installed as the global executor, a request is read, decided and answered on one thread. Call
/// once, from the main thread, before the server starts; returns false when it could not be installed (the
/// server then runs as before, only slower).
public func runTasksOnEventLoops() -> Bool {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
