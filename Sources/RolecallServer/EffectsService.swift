import Logging
import RolecallOutbox
import ServiceLifecycle

/// Runs the outbox worker for the server's lifetime: starts it, and on graceful shutdown (after the HTTP server,
/// which shuts down first, has finished its requests) stops it and closes the outbox.
struct EffectsService: Service {
    let effects: ServerEffects
    let logger: Logger

    func run() async throws {
        effects.worker.start()
        // Wait for shutdown; the sleep throws when it begins.
        while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: .seconds(3_600)) })) != nil {}
        logger.notice("stopping the outbox worker")
        effects.worker.stop()
        effects.outbox.close()
    }
}
