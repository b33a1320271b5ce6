import Foundation
import RolecallLanguage

/// Parses one in-memory file.
func parse(_ source: String, path: String = "test.rules") -> (rules: [Rule], diagnostics: [Diagnostic]) {
    Parser.parse(SourceFile(path: path, text: source))
}

/// Parses and checks one in-memory file.
func check(_ source: String, path: String = "test.rules") -> CheckedRuleSet {
    Checker.check([SourceFile(path: path, text: source)])
}

/// The condition of a one-rule source, printed canonically.
func printedCondition(_ condition: String) -> String {
    let (rules, diagnostics) = parse("when \(condition) assign \"r\"")
    guard diagnostics.isEmpty, let expr = rules.first?.condition else {
        return "error: " + diagnostics.map(\.message).joined(separator: "; ")
    }
    return ASTPrinter.print(expr)
}

/// SplitMix64: a small deterministic random generator for the tests that generate rule sets, so a failure names a
/// seed that reproduces it.
struct SplitMix64 {
    var state: UInt64

    /// A number in `0..<bound`.
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

/// The example rule files users copy (`rules/*.rules`), by name, with their text.
func exampleRuleFiles(filePath: String = #filePath) throws -> [(name: String, text: String)] {
    let root = String(filePath[..<filePath.range(of: "/Tests/")!.lowerBound])
    let names = try FileManager.default.contentsOfDirectory(atPath: root + "/rules").filter { $0.hasSuffix(".rules") }
    return try names.sorted().map { ($0, try String(contentsOfFile: root + "/rules/" + $0, encoding: .utf8)) }
}
