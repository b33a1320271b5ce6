// In-process benchmark of loading a rule set: read + lex + parse + check (every lint) + compile to a Program.
//
//   rolecall-load-bench [--runs N] FILE...                      one rule set, the files in order
//   rolecall-load-bench --diagnostics FILE...                   prints every diagnostic (human, then JSON)
//   rolecall-load-bench [--runs N] [--sizes 1000,2000,...] [--shapes distinct,...] [--dir DIR]
//   rolecall-load-bench --tables [--sizes 1000,2000,...]           nanoseconds per lookup in tables of that size
//
// The second form writes generated rule sets (the shapes of bench/load.py and a few more realistic ones) under
// DIR (default /tmp/rolecall-load) and times loading each. Times are the best of N runs, in milliseconds, split
// into check (read, lex, parse, check, lint) and compile (Program, and freeing the checked rules), and the same as `rules eval` loads, each rule
// compiled as it is checked (`RuleEngine.compile`, "fused"); each `x2` is how much the time before it grew from the
// previous size, scaled to a doubling. These are numbers to read, not a timed test.
//
// The fourth form shows what a lookup costs as a table outgrows the processor's caches: a table of N names (as
// the checker's index of rule names, ``HashIndex``, and as a `Dictionary`), looked up N times in an order
// unrelated to the table's, as loading a rule set does.
import BenchSupport
import RolecallEngine
import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#endif

/// Rule `i` (from 1) of a generated shape, one or more lines.
func rule(_ shape: String, _ i: Int) -> String {
    switch shape {
    case "distinct": return "rule \"r\(i)\" when user.app_metadata.f\(i) == \"x\(i)\" assign \"role\(i)\"\n"
    case "same-field": return "rule \"r\(i)\" when user.app_metadata.plan == \"x\(i)\" assign \"role\(i)\"\n"
    case "same-role":
        let action = i % 2 == 1 ? "assign" : "revoke"
        return "rule \"r\(i)\" when user.app_metadata.f\(i) == \"x\(i)\" \(action) \"member\"\n"
    case "anonymous": return "when user.app_metadata.f\(i) == \"x\(i)\" assign \"role\(i)\"\n"
    case "in-list":
        // Many rules sharing one field, each with a list of group names.
        let groups = (0..<8).map { "\"g\(i)-\($0)\"" }.joined(separator: ", ")
        return "rule \"r\(i)\" when user.app_metadata.department in [\(groups)] assign \"role\(i % 200)\"\n"
    case "regex":
        // A distinct pattern per rule (one PCRE2 compile each).
        return "rule \"r\(i)\" when user.email matches /@corp\(i)\\.(com|de)$/i assign \"role\(i)\"\n"
    case "same-regex":
        // A handful of patterns repeated across the rule set.
        return "rule \"r\(i)\" when user.email matches /@acme\(i % 10)\\.(com|de)$/i "
            + "and user.app_metadata.f\(i) == \"x\" assign \"role\(i)\"\n"
    case "lets":
        // A `let` per rule, used by it (and the previous rule's too).
        let previous = i > 1 ? " or l\(i - 1)" : ""
        return "let l\(i) = user.app_metadata.f\(i) == \"x\(i)\" and user.email_verified\n"
            + "rule \"r\(i)\" when l\(i)\(previous) assign \"role\(i)\"\n"
    case "warnings":
        // Every rule gets a warning (user-editable-field): diagnostics to build and sort.
        return "rule \"r\(i)\" when user.user_metadata.f\(i) == \"x\(i)\" assign \"role\(i)\"\n"
    case "mixed":
        // The shapes of rules/company.rules, in turn.
        switch i % 8 {
        case 0:
            return
                "rule \"r\(i)\" when \"g\(i)\" in user.app_metadata.groups and user.email_verified assign \"a\(i)\"\n"
        case 1:
            return
                "rule \"r\(i)\" when any(user.app_metadata.groups, g, g in [\"b\(i)\", \"f\(i)\"]) assign \"f\(i)\"\n"
        case 2: return "rule \"r\(i)\" when connection.strategy in [\"samlp\", \"waad\", \"x\(i)\"] assign \"s\(i)\"\n"
        case 3: return "rule \"r\(i)\" when organization.metadata.tier == \"t\(i)\" assign \"e\(i)\"\n"
        case 4: return "rule \"r\(i)\" when any(user.identities, i, i.provider == \"p\(i)\") assign \"g\(i)\"\n"
        case 5: return "rule \"r\(i)\" when days_since(user.created_at) >= \(i) assign \"v\(i)\"\n"
        case 6:
            return "rule \"r\(i)\" when logins_count >= \(i) and user.app_metadata.plan != \"p\(i)\" revoke \"p\(i)\"\n"
        default: return "rule \"r\(i)\" when user.email matches /@d\(i)\\.com$/i assign \"m\(i)\"\n"
        }
    default:
        complain("rolecall-load-bench: unknown shape \(shape)\n")
        exit(2)
    }
}

/// Writes a generated rule set of `count` rules; returns its files. `files100` spreads `distinct` over 100 files.
func generate(_ shape: String, _ count: Int, in directory: String) -> [String] {
    let fileCount = shape == "files100" ? 100 : 1
    let base = shape == "files100" ? "distinct" : shape
    var paths: [String] = []
    let perFile = (count + fileCount - 1) / fileCount
    for part in 0..<fileCount {
        let range = (part * perFile + 1)...min(count, (part + 1) * perFile)
        guard !range.isEmpty else { break }
        let path = "\(directory)/\(shape)-\(count)-\(part).rules"
        writeAll(path, range.map { rule(base, $0) }.joined())
        paths.append(path)
    }
    return paths
}

struct Timing {
    var check = Double.infinity
    var compile = Double.infinity
    var total = Double.infinity
    /// Read, check and compile with ``RuleEngine/compile(_:)``, each rule compiled as it is checked.
    var fused = Double.infinity
    var diagnostics = 0
}

/// Loads the files `runs` times; the best time of each stage.
func time(_ paths: [String], runs: Int) -> Timing {
    var timing = Timing()
    for _ in 0..<runs {
        let start = ContinuousClock.now
        let files = paths.map { SourceFile(path: $0, bytes: readAll($0)) }
        var checked: CheckedRuleSet? = Checker.check(files)
        let middle = ContinuousClock.now
        let program = checked!.hasErrors ? nil : Program(checked!)
        let diagnostics = checked!.diagnostics
        // The checked rules are freed within the time, as `RuleEngine.compile` frees what the checker kept.
        checked = nil
        let end = ContinuousClock.now
        if program == nil { complain(DiagnosticRenderer.human(Array(diagnostics.prefix(5)))) }
        timing.check = min(timing.check, seconds(middle - start))
        timing.compile = min(timing.compile, seconds(end - middle))
        timing.total = min(timing.total, seconds(end - start))
        timing.diagnostics = diagnostics.count
        // As `rules eval` loads: each rule compiled as soon as it is checked.
        let fusedStart = ContinuousClock.now
        let (fused, _) = RuleEngine.compile(paths.map { SourceFile(path: $0, bytes: readAll($0)) })
        timing.fused = min(timing.fused, seconds(ContinuousClock.now - fusedStart))
        if (fused == nil) != (program == nil) { complain("RuleEngine.compile and Program(Checker.check) disagree\n") }
    }
    return timing
}

var arguments = Array(CommandLine.arguments.dropFirst())
var runs = 5
var sizes = [1_000, 2_000, 4_000, 8_000, 10_000, 16_000]
var shapes = [
    "distinct", "same-field", "same-role", "anonymous", "in-list", "regex", "same-regex", "lets", "mixed",
    "files100", "warnings",
]
var directory = "/tmp/rolecall-load"
var files: [String] = []
var printDiagnostics = false
var tables = false
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--runs": runs = Int(arguments.removeFirst()) ?? runs
    case "--sizes": sizes = arguments.removeFirst().split(separator: ",").compactMap { Int($0) }
    case "--shapes": shapes = arguments.removeFirst().split(separator: ",").map(String.init)
    case "--dir": directory = arguments.removeFirst()
    case "--diagnostics": printDiagnostics = true
    case "--tables": tables = true
    default: files.append(argument)
    }
}

func ms(_ value: Double) -> String {
    let text = String(Int((value * 1e4).rounded()))
    let padded = String(repeating: "0", count: max(0, 2 - text.count)) + text
    return "\(padded.dropLast(1)).\(padded.suffix(1))"
}

func column(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }

/// Nanoseconds per lookup of each of `count` names in a table of them, best of `runs`: in a ``HashIndex`` (whose
/// caller compares the name at the value found) and in a `Dictionary` keyed by the names.
func tableLookups(_ count: Int, runs: Int) -> (index: Double, dictionary: Double) {
    let names = (0..<count).map { "user.app_metadata.f\($0)" }
    var index = HashIndex(capacity: count)
    var dictionary: [String: Int] = [:]
    dictionary.reserveCapacity(count)
    for (position, name) in names.enumerated() {
        index.insert(name.hashValue, position)
        dictionary[name] = position
    }
    // Every name once, in an order unrelated to the tables' (a fixed odd stride through the names).
    let order = (0..<count).map { ($0 &* 40_503) % count }
    var best = (index: Double.infinity, dictionary: Double.infinity)
    var found = 0
    for _ in 0..<runs {
        var start = ContinuousClock.now
        for position in order {
            let name = names[position]
            found &+= index.find(name.hashValue, where: { names[$0] == name })?.value ?? 0
        }
        best.index = min(best.index, seconds(ContinuousClock.now - start))
        start = ContinuousClock.now
        for position in order { found &+= dictionary[names[position]] ?? 0 }
        best.dictionary = min(best.dictionary, seconds(ContinuousClock.now - start))
    }
    if found == -1 { print(found) }
    return (best.index / Double(count) * 1e9, best.dictionary / Double(count) * 1e9)
}

if tables {
    print(column("names", 8) + column("HashIndex ns", 14) + column("Dictionary ns", 15))
    for size in sizes {
        let (index, dictionary) = tableLookups(size, runs: runs)
        print(column("\(size)", 8) + column(ms(index / 1000), 14) + column(ms(dictionary / 1000), 15))
    }
    exit(0)
}

if printDiagnostics {
    // To compare two builds: the same files must give the same text.
    let checked = Checker.check(files.map { SourceFile(path: $0, bytes: readAll($0)) })
    print(DiagnosticRenderer.human(checked.diagnostics))
    print(DiagnosticRenderer.json(checked.diagnostics))
    exit(0)
}
if !files.isEmpty {
    let timing = time(files, runs: runs)
    print(
        "check \(ms(timing.check)) ms, compile \(ms(timing.compile)) ms, total \(ms(timing.total)) ms, "
            + "RuleEngine.compile \(ms(timing.fused)) ms, \(timing.diagnostics) diagnostics")
    exit(0)
}
mkdir(directory, 0o755)
print(
    column("shape", 12) + column("rules", 8) + column("check ms", 10) + column("compile ms", 12)
        + column("total ms", 10) + column("ms/1k", 8) + column("x2", 7) + column("fused ms", 10) + column("x2", 7)
        + column("diags", 7))
for shape in shapes {
    var previous: (size: Int, total: Double, fused: Double)?
    for size in sizes {
        let timing = time(generate(shape, size, in: directory), runs: runs)
        // The growth per doubling: (t2/t1)^(1/log2(n2/n1)).
        func growth(_ now: Double, _ before: Double?) -> String {
            guard let previous, let before else { return "" }
            let factor = pow(now / before, 1 / log2(Double(size) / Double(previous.size)))
            let hundredths = Int((factor * 100).rounded())
            return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        }
        print(
            column(shape, 12) + column("\(size)", 8) + column(ms(timing.check), 10) + column(ms(timing.compile), 12)
                + column(ms(timing.total), 10) + column(ms(timing.total / Double(size) * 1000), 8)
                + column(growth(timing.total, previous?.total), 7) + column(ms(timing.fused), 10)
                + column(growth(timing.fused, previous?.fused), 7) + column("\(timing.diagnostics)", 7))
        previous = (size, timing.total, timing.fused)
    }
}
