import ArgumentParser
import RolecallCommandLine
import RolecallEffects
import RolecallJSON
import RolecallLanguage
import RolecallOutbox

/// The outbox file every outbox command and `rules serve` default to.
let defaultOutboxPath = "rolecall-outbox.db"

/// `--outbox FILE` for the commands that read an outbox.
struct OutboxOption: ParsableArguments {
    @Option(help: "The outbox file of `rules serve`.")
    var outbox: String = defaultOutboxPath

    /// The outbox, opened for an operator's command; exits 2 naming the problem.
    func open() throws -> OutboxFile {
        do {
            return try OutboxFile(path: outbox)
        } catch {
            Output.standardError("rules: error: \(HumanText.line(error.description))\n")
            throw ExitStatus.badInput
        }
    }
}

/// Runs an outbox query, turning its failure into a message and exit code 2.
func outboxQuery<T>(_ body: () throws(OutboxError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        Output.standardError("rules: error: \(HumanText.line(error.description))\n")
        throw ExitStatus.badInput
    }
}

/// `rules outbox`: what `rules serve` has queued, carried out and given up on.
struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Show and act on the effects queued by `rules serve`.",
        discussion: """
            Effects move from pending to done, or to dead (refused for good by the Management API, with Auth0's \
            status, errorCode and message). A pending effect made unnecessary by a later decision for the same \
            user and role is coalesced. A dead letter is superseded once a newer decision for the same user is \
            logged: `list` says so, and `retry` skips it. These commands may run while the server does.
            """,
        subcommands: [Status.self, List.self, Retry.self, Purge.self]
    )

    /// The states an effect can be in.
    static let states = ["pending", "running", "done", "dead", "coalesced"]

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue depth, oldest pending age, dead letters.")

        @OptionGroup var file: OutboxOption

        @Option(help: "human or json.")
        var format: ReportFormat = .human

        func run() throws {
            let outbox = try file.open()
            let status = try outboxQuery { () throws(OutboxError) in try outbox.status() }
            switch format {
            case .human:
                let age = status.oldestPendingAge.map { ", oldest \(Self.duration($0))" } ?? ""
                Output.standardOutput(
                    "pending \(status.pending) (running \(status.running))\(age)\n"
                        + "done \(status.done), dead letters \(status.dead), coalesced \(status.coalesced)\n"
                        + "decisions logged \(status.decisions)\n")
            case .json:
                let age = status.oldestPendingAge.map { JSONText.number($0) } ?? "null"
                Output.standardOutput(
                    "{\"pending\":\(status.pending),\"running\":\(status.running),\"oldest_pending_seconds\":\(age),"
                        + "\"done\":\(status.done),\"dead\":\(status.dead),\"coalesced\":\(status.coalesced),"
                        + "\"decisions\":\(status.decisions)}\n")
            }
        }

        /// `12 s`, `3 min`, `5 h`, `2 d`.
        static func duration(_ seconds: Double) -> String {
            switch seconds {
            case ..<120: "\(Int(seconds)) s"
            case ..<7_200: "\(Int(seconds / 60)) min"
            case ..<172_800: "\(Int(seconds / 3_600)) h"
            default: "\(Int(seconds / 86_400)) d"
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List effects, oldest first.")

        @OptionGroup var file: OutboxOption

        @Option(help: "Only effects in this state (pending, running, done, dead, coalesced); repeatable.")
        var state: [String] = []

        @Option(help: "At most this many.")
        var limit = 100

        @Option(help: "human or json (one object per line).")
        var format: ReportFormat = .human

        func validate() throws {
            for state in state where !OutboxCommand.states.contains(state) {
                throw ValidationError(
                    "unknown state `\(state)`; states are \(OutboxCommand.states.joined(separator: ", "))")
            }
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
        }

        func run() throws {
            let outbox = try file.open()
            let entries = try outboxQuery { () throws(OutboxError) in try outbox.list(states: state, limit: limit) }
            var out = ""
            // Two roles listed that print alike (`caf\u{e9}`, `cafe\u{301}`) are written with their scalars out.
            let shown = Spellings(entries.map(\.role))
            for entry in entries {
                switch format {
                case .human:
                    out += entry.text(showing: shown) + "\n"
                case .json:
                    func optional(_ value: String?) -> String { value.map(JSONText.quote) ?? "null" }
                    out +=
                        "{\"id\":\(entry.id),\"state\":\(JSONText.quote(entry.state)),"
                        + "\"change\":\(entry.assign ? "\"assign\"" : "\"revoke\""),"
                        + "\"role\":\(JSONText.quote(entry.role)),\"user_id\":\(JSONText.quote(entry.userID)),"
                        + "\"rule\":\(JSONText.quote(entry.rule)),\"decision_id\":\(JSONText.quote(entry.decisionID)),"
                        + "\"attempts\":\(entry.attempts),\"created\":\(JSONText.number(entry.created)),"
                        + "\"updated\":\(JSONText.number(entry.updated)),"
                        + "\"status\":\(entry.status.map(String.init) ?? "null"),"
                        + "\"error_code\":\(optional(entry.errorCode)),\"message\":\(optional(entry.message)),"
                        + "\"superseded_by\":\(optional(entry.supersededBy))}\n"
                }
            }
            Output.standardOutput(out)
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue dead letters again (after fixing what refused them).",
            discussion: """
                A dead letter is skipped when a newer decision for the same user was logged since: the tenant \
                follows the newest login, which planned its own changes, and retrying an older one would undo them. \
                Given ids that are not dead letters or not in the outbox, nothing is queued and the exit code is 2.
                """)

        @OptionGroup var file: OutboxOption

        @Argument(help: "Effect ids, as `rules outbox list` shows them.")
        var ids: [Int] = []

        @Flag(help: "Every dead letter.")
        var all = false

        func validate() throws {
            guard all != !ids.isEmpty else { throw ValidationError("give effect ids or --all (not both)") }
        }

        func run() throws {
            let outbox = try file.open()
            let report = try outboxQuery { () throws(OutboxError) in try outbox.retry(ids: all ? nil : ids) }
            guard report.missing.isEmpty && report.notDead.isEmpty else {
                var message = ""
                for id in report.missing {
                    message += "rules: error: no effect \(id) in the outbox (never made, or purged)\n"
                }
                for effect in report.notDead {
                    message += "rules: error: effect \(effect.id) is not a dead letter: it is \(effect.state)\n"
                }
                Output.standardError(message + "rules: nothing was queued again\n")
                throw ExitStatus.badInput
            }
            Output.standardOutput(Self.text(report))
        }

        /// `N dead letters queued again`, then the superseded ones skipped, each with the decision that
        /// supersedes it.
        static func text(_ report: OutboxRetry) -> String {
            let count = report.queued.count
            var out = "\(count) dead letter\(count == 1 ? "" : "s") queued again"
            guard !report.superseded.isEmpty else { return out + "\n" }
            out +=
                ", \(report.superseded.count) skipped as superseded (a newer decision for the same user was logged "
                + "since, and the tenant follows the newest login):\n"
            for skipped in report.superseded {
                out +=
                    skipped.by == OutboxRetry.pruned
                    ? "  \(skipped.id)\tits decision was pruned from the decision log (newer ones may have been too)\n"
                    : "  \(skipped.id)\tsuperseded by \(skipped.by)\n"
            }
            return out
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete settled effects.")

        @OptionGroup var file: OutboxOption

        @Option(help: "done, dead or coalesced; repeatable (pending effects are never purged).")
        var state: [String] = []

        @Option(help: "Only effects last changed more than this many seconds ago.")
        var olderThan: Double = 0

        func validate() throws {
            guard !state.isEmpty else { throw ValidationError("say which states to purge with --state") }
            for state in state where !["done", "dead", "coalesced"].contains(state) {
                throw ValidationError("only done, dead and coalesced effects can be purged, not `\(state)`")
            }
            guard olderThan.isFinite, olderThan >= 0 else {
                throw ValidationError("--older-than must be a finite number of seconds, 0 or more")
            }
        }

        func run() throws {
            let outbox = try file.open()
            let count = try outboxQuery { () throws(OutboxError) in
                try outbox.purge(states: state, olderThan: olderThan)
            }
            Output.standardOutput("\(count) effect\(count == 1 ? "" : "s") purged\n")
        }
    }
}

/// `rules log`: the decision log `rules serve` keeps in its outbox.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Export the decision log of `rules serve`.",
        subcommands: [Export.self]
    )

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the logged events as JSONL, oldest first, for `rules eval --events`.",
            discussion: """
                Only decisions made with `rules serve --log-events` carry their event (with the --redact paths \
                replaced); the count of decisions without one goes to standard error. Each event gets the clock \
                it was decided with as its first member, `"rolecall_now":"2026-11-30T09:15:00.000Z"`, so that \
                `rules eval --events` on the export decides as the server did.
                """
        )

        @OptionGroup var file: OutboxOption

        func run() throws {
            let outbox = try file.open()
            var buffer: [UInt8] = []
            var exported = 0
            let missing = try outboxQuery { () throws(OutboxError) in
                try outbox.exportEvents { event in
                    // One event per line: a logged event is compact JSON as received; a raw newline in it can only
                    // be whitespace between tokens, so it is turned into a space.
                    buffer.append(contentsOf: event.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
                    buffer.append(0x0A)
                    exported += 1
                    if buffer.count >= 1 << 16 {
                        Output.write(fd: 1, buffer)
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
            }
            Output.write(fd: 1, buffer)
            if missing > 0 {
                Output.standardError(
                    "rules: \(exported) event\(exported == 1 ? "" : "s") exported; \(missing) decision"
                        + "\(missing == 1 ? " was" : "s were") logged without its event (serve with --log-events)\n")
            }
        }
    }
}

/// Output for people or for programs.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case human, json
}
