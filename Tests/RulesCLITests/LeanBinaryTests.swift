import Foundation
import Testing

/// The two executables (README, "Two binaries"): `rules` links only the engine and ArgumentParser and hands
/// every command it does not run itself to `rules-full` beside it.
@Suite struct LeanBinaryTests {
    /// What the lean binary must not link: each costs start-up time in every `rules eval --events`.
    static let heavyLibraries = [
        "libFoundation.so", "libFoundationNetworking.so", "libFoundationInternationalization.so",
        "lib_FoundationICU.so", "libFoundationXML.so", "libcurl", "libsqlite3", "libxml2",
    ]

    /// The shared libraries `path` needs, as ldd lists them.
    static func linkedLibraries(_ path: String) throws -> [String] {
        let run = try CLITests.rules([path], executable: "/usr/bin/ldd")
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    @Test func leanBinaryLinksNeitherFoundationNorCurlNorSQLite() throws {
        let libraries = try Self.linkedLibraries(CLITests.binary)
        #expect(libraries.contains { $0.hasPrefix("libc.so") }, "\(libraries)")
        for line in libraries {
            #expect(!Self.heavyLibraries.contains { line.hasPrefix($0) }, "rules links \(line)")
        }
    }

    /// libstdc++ and libgcc are linked into `rules` as well (Package.swift): loading and relocating them was 0.4 ms
    /// of a one-event `rules eval`.
    @Test func leanBinaryLinksTheCPlusPlusRuntimeStatically() throws {
        let libraries = try Self.linkedLibraries(CLITests.binary)
        for line in libraries {
            #expect(!line.hasPrefix("libstdc++") && !line.hasPrefix("libgcc_s"), "rules links \(line)")
        }
    }

    @Test func theCheckCanFail() throws {
        // The full binary links what the lean one must not: the check above would see it.
        let full = URL(fileURLWithPath: CLITests.binary).deletingLastPathComponent().appendingPathComponent(
            "rules-full"
        ).path
        let libraries = try Self.linkedLibraries(full)
        #expect(libraries.contains { line in Self.heavyLibraries.contains { line.hasPrefix($0) } })
    }

    @Test func helpListsEveryCommand() throws {
        for arguments in [["--help"], ["help"], []] {
            let run = try CLITests.rules(arguments)
            for command in ["check", "eval", "test", "diff", "fmt", "apply", "sandbox", "serve", "outbox", "log"] {
                #expect(run.stdout.contains("  \(command) ") || run.stderr.contains("  \(command) "), "\(arguments)")
            }
            #expect((run.stdout + run.stderr).contains("USAGE: rules "), "\(arguments)")
        }
    }

    @Test func commandsOfTheFullBinaryRunThroughTheLeanOne() throws {
        let help = try CLITests.rules(["serve", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: rules serve"), "\(help.stdout)")
        let unknown = try CLITests.rules(["frobnicate"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("frobnicate"), "\(unknown.stderr)")
        let version = try CLITests.rules(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.split(separator: ".").count == 3, "\(version.stdout)")
    }

    @Test func aMissingFullBinaryIsNamedWithHowToBuildIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lean-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let alone = directory.appendingPathComponent("rules").path
        try FileManager.default.copyItem(atPath: CLITests.binary, toPath: alone)
        let run = try CLITests.rules(["test", "rules/"], executable: alone)
        #expect(run.status == 2)
        #expect(run.stderr.contains(directory.appendingPathComponent("rules-full").path), "\(run.stderr)")
        #expect(run.stderr.contains("make build"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        // Its own commands do not need it.
        let check = try CLITests.rules(["check", "rules/"], executable: alone)
        #expect(check.status == 0, "\(check.stderr)")
    }

    /// Through a symbolic link elsewhere (`~/bin/rules`), the full binary is still found beside the real one.
    @Test func aLinkToTheLeanBinaryFindsTheFullOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lean-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let link = directory.appendingPathComponent("rules").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: CLITests.binary)
        let run = try CLITests.rules(["test", "--help"], executable: link)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("USAGE: rules test"), "\(run.stdout)")
    }
}
