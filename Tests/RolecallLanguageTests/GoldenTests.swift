import Foundation
import RolecallLanguage
import Testing

/// Golden files: every `Golden/NAME.rules` is checked and its rendered diagnostics must equal `NAME.expected`.
/// Run with `UPDATE_GOLDEN=1` to rewrite the expected files after an intended change, then review the diff.
@Suite struct GoldenTests {
    static let directory: String = {
        let file = #filePath
        return String(file[..<file.lastIndex(of: "/")!]) + "/Golden"
    }()

    static var cases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".rules") }.map { String($0.dropLast(6)) }.sorted()
    }

    @Test(arguments: cases)
    func diagnosticsMatchTheGoldenFile(name: String) throws {
        let source = try read("\(Self.directory)/\(name).rules")
        let file = SourceFile(path: "\(name).rules", bytes: source)
        let result = Checker.check([file])
        let rendered = DiagnosticRenderer.human(result.diagnostics)
        let expectedPath = "\(Self.directory)/\(name).expected"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil { try write(expectedPath, rendered) }
        let expected = String(decoding: try read(expectedPath), as: UTF8.self)
        #expect(rendered == expected)
    }

    @Test func thereAreGoldenFiles() { #expect(Self.cases.count >= 3) }

    func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    func write(_ path: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) }
}
