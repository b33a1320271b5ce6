import Logging
import RolecallFiles
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The rule set the server is deciding with, swapped whole when the files change and the new set compiles.
///
/// A set with errors is refused: its diagnostics go to the log and the old set keeps serving.
public final class RuleSetStore: Sendable {
    /// What a reload did.
    public enum ReloadOutcome: Sendable, Equatable {
        /// The new set is serving; its generation.
        case loaded(generation: Int)
        /// The files have not changed since the last load.
        case unchanged
        /// The files changed since the last poll: loaded at the next poll if they hold still.
        case settling
        /// The new set was refused (errors, or a file could not be read); the old one keeps serving.
        case refused(String)
    }

    /// The paths the rules are loaded from, as given.
    public let paths: [String]
    let state: Mutex<State>
    let logger: Logger
    let metrics: ServerMetrics?

    struct State {
        var current: RuleSet
        /// The stamps of the files of ``current``, or of the last refused set, so a broken file is reported once.
        var stamps: [FileStamp]
        /// Changed stamps seen by the last poll: a change is loaded once it has held still for one poll, so a
        /// file being written is not loaded half-written.
        var settling: [FileStamp]?
    }

    /// A store serving `initial`, loaded from `paths`.
    public init(initial: RuleSet, paths: [String], metrics: ServerMetrics? = nil, logger: Logger) {
        self.paths = paths
        self.state = Mutex(State(current: initial, stamps: RuleSetStore.stamps(paths)))
        self.logger = logger
        self.metrics = metrics
        metrics?.ruleSetLoaded(initial)
    }

    /// The rule set serving now.
    public var current: RuleSet { state.withLock { $0.current } }

    /// Loads the files again; with `force` false (the poll), only when their names, sizes or times changed.
    @discardableResult
    public func reload(force: Bool, reason: String) -> ReloadOutcome {
        let stamps = RuleSetStore.stamps(paths)
        let (previous, unchanged, settled) = state.withLock { state in
            defer { state.settling = state.stamps == stamps ? nil : stamps }
            return (state.current, state.stamps == stamps, state.settling == stamps)
        }
        if !force && unchanged { return .unchanged }
        if !force && !settled { return .settling }
        let next: RuleSet
        do {
            next = try RuleSet.load(paths, generation: previous.generation + 1)
        } catch {
            state.withLock {
                $0.stamps = stamps
                $0.settling = nil
            }
            logger.error(
                "rule set refused; the previous one keeps serving",
                metadata: [
                    "reload.reason": "\(reason)", "rules.hash": "\(previous.hash)", "error": "\(error.description)",
                ])
            metrics?.reloadFailed()
            return .refused(error.description)
        }
        state.withLock {
            $0.current = next
            $0.stamps = stamps
            $0.settling = nil
        }
        let removed = previous.files.filter { !next.files.contains($0) }
        if !removed.isEmpty {
            logger.warning(
                "rule files left the rule set",
                metadata: ["files": "\(removed)", "rules.hash": "\(next.hash)", "reload.reason": "\(reason)"])
        }
        logger.notice(
            "rule set loaded",
            metadata: [
                "reload.reason": "\(reason)", "rules.hash": "\(next.hash)", "rules.count": "\(next.program.ruleCount)",
                "rules.generation": "\(next.generation)", "rules.load_ms": "\(next.loadMilliseconds)",
            ])
        metrics?.ruleSetLoaded(next)
        return .loaded(generation: next.generation)
    }

    /// What the poll compares: each rule file's path, size, modification time and inode.
    struct FileStamp: Equatable, Sendable {
        var path: String
        var size: Int
        var modified: Int
        var inode: UInt
    }

    /// The stamps of the rule files now (a directory's new and removed files count); empty when none can be found.
    static func stamps(_ paths: [String]) -> [FileStamp] {
        guard let found = try? RuleFileFinder.find(paths, suffix: ".rules") else { return [] }
        return found.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return FileStamp(path: path, size: -1, modified: 0, inode: 0) }
            let modified = Int(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int(info.st_mtim.tv_nsec)
            return FileStamp(path: path, size: Int(info.st_size), modified: modified, inode: UInt(info.st_ino))
        }
    }
}
