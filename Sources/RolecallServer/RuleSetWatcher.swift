import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the rule set on SIGHUP and when a rule file changes (polled), until graceful shutdown.
public struct RuleSetWatcher: Service {
    let store: RuleSetStore
    let interval: Duration?
    let signals: Bool

    /// A watcher of `store`'s files: polled every `interval` (nil: never), and on SIGHUP when `signals` is true.
    public init(store: RuleSetStore, interval: Duration? = .seconds(1), signals: Bool = true) {
        self.store = store
        self.interval = interval
        self.signals = signals
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            if signals {
                group.addTask {
                    let hangups = await UnixSignalsSequence(trapping: .sighup)
                    for await _ in hangups.cancelOnGracefulShutdown() {
                        store.reload(force: true, reason: "SIGHUP")
                    }
                }
            }
            if let interval {
                group.addTask {
                    // The sleep throws when graceful shutdown (or cancellation) begins, which ends the poll.
                    while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) != nil {
                        store.reload(force: false, reason: "file changed")
                    }
                }
            }
            await group.waitForAll()
        }
    }
}
