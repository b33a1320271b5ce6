import Crypto
import RolecallEffects
import RolecallEngine
import RolecallFiles
import RolecallLanguage

/// One loaded rule set (a generation): the compiled program, where it came from, and the evaluators that run it.
///
/// A reload makes a new one and swaps it in whole (``RuleSetStore``); requests that started on the old one
/// finish on it, with its own evaluators.
public final class RuleSet: Sendable {
    /// The compiled rules.
    public let program: Program
    /// The rule files, in load order.
    public let files: [String]
    /// SHA-256 (lowercase hex) over each file's path, a NUL, its length in decimal, a NUL, and its bytes, in
    /// order: it changes when any file's name or content does.
    public let hash: String
    /// When the set was loaded, in Unix seconds.
    public let loadedAt: Double
    /// How long loading and compiling took, in milliseconds.
    public let loadMilliseconds: Double
    /// 1 for the set the server started with, then one more per successful reload.
    public let generation: Int
    /// Evaluators for this program, one per request in flight.
    let evaluators: EvaluatorPool

    /// A rule set of `program`, compiled from `files`.
    public init(
        program: Program, files: [SourceFile], loadedAt: Double, loadMilliseconds: Double, generation: Int = 1
    ) {
        self.program = program
        self.files = files.map(\.path)
        self.hash = RuleSet.hash(files)
        self.loadedAt = loadedAt
        self.loadMilliseconds = loadMilliseconds
        self.generation = generation
        self.evaluators = EvaluatorPool(program: program)
    }

    /// The ``hash`` of `files`.
    public static func hash(_ files: [SourceFile]) -> String {
        var hasher = SHA256()
        for file in files {
            hasher.update(data: Array(file.path.utf8) + [0] + Array(String(file.bytes.count).utf8) + [0])
            hasher.update(data: file.bytes)
        }
        return hexadecimal(hasher.finalize())
    }

    /// Why a rule set could not be loaded.
    public enum LoadFailure: Error, Sendable, CustomStringConvertible {
        /// A path could not be read (the loader's message).
        case unreadable(String)
        /// The rules have errors; the diagnostics, errors and warnings.
        case invalid([Diagnostic])

        public var description: String {
            switch self {
            case .unreadable(let message): message
            case .invalid(let diagnostics):
                DiagnosticRenderer.human(diagnostics.filter { $0.severity == .error }).trimmingSuffix("\n")
            }
        }
    }

    /// Loads, checks and compiles the rule files at `paths` with the one rule-set loader (``RuleSetLoader``).
    public static func load(_ paths: [String], generation: Int = 1) throws(LoadFailure) -> RuleSet {
        let start = ContinuousClock.now
        let files: [SourceFile]
        do {
            files = try RuleSetLoader.load(paths)
        } catch {
            throw .unreadable(error.description)
        }
        let (program, diagnostics) = RuleEngine.compile(files)
        guard let program else { throw .invalid(diagnostics) }
        return RuleSet(
            program: program, files: files, loadedAt: wallClock(),
            loadMilliseconds: milliseconds(ContinuousClock.now - start), generation: generation)
    }
}

/// Lowercase hex of `bytes`.
func hexadecimal(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// A duration in milliseconds.
func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
}

extension String {
    /// The string without `suffix` at its end, if it is there.
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
