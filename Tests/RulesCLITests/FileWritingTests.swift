import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 7, item 12: `fmt --write`, `--junit` and `--coverage-json` write through links, leave FIFOs and devices
/// in place, keep the file's mode and respect its permissions (even as root).
@Suite struct FileWritingTests {
    static let unformatted = "when   logins_count==1 assign \"member\"\n"

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func type(_ path: String) throws -> FileAttributeType {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType)
    }

    @Test func fmtWriteGoesThroughALinkAndKeepsTheMode() throws {
        let target = try CLITests.temporary("real.rules", Self.unformatted)
        let directory = (target as NSString).deletingLastPathComponent
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: target)
        let link = directory + "/link.rules"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.rules")
        let run = try CLITests.rules(["fmt", "--write", link])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.type(link) == .typeSymbolicLink)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real.rules")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "when logins_count == 1\nassign \"member\"\n")
        #expect(try Self.mode(target) == 0o640)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["link.rules", "real.rules"])
    }

    /// Found by an attacker: a link named without a directory (`link.rules` run from its own directory) was
    /// resolved against `/`, so the formatted text went to `/real.rules` and the real file stayed as it was.
    @Test func aLinkNamedWithoutADirectoryIsResolvedInTheCurrentOne() throws {
        let target = try CLITests.temporary("bare-real.rules", Self.unformatted)
        let directory = (target as NSString).deletingLastPathComponent
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/bare.rules", withDestinationPath: "bare-real.rules")
        let run = try CLITests.rules(["fmt", "--write", "bare.rules"], directory: directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "when logins_count == 1\nassign \"member\"\n")
        #expect(!FileManager.default.fileExists(atPath: "/bare-real.rules"))
        try FileManager.default.createSymbolicLink(atPath: directory + "/loop1", withDestinationPath: "loop2")
        try FileManager.default.createSymbolicLink(atPath: directory + "/loop2", withDestinationPath: "loop1")
        let loop = try CLITests.rules(["test", "rules/", "--quiet", "--junit", directory + "/loop1"])
        #expect(loop.status != 0)
        #expect(!FileManager.default.fileExists(atPath: "/loop2"))
    }

    @Test func fmtWriteRefusesAReadOnlyFileEvenAsRoot() throws {
        let path = try CLITests.temporary("ro.rules", Self.unformatted)
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        let run = try CLITests.rules(["fmt", "--write", path])
        #expect(run.status == 2)
        #expect(run.stderr == "rules: error: `\(path)` is read-only\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.unformatted)
        #expect(try Self.mode(path) == 0o444)
    }

    /// Found by an attacker: `fmt --write` under a file size limit (`ulimit -f`) was killed by SIGXFSZ in the
    /// middle of writing, and its temporary file stayed beside the rule file. The write now fails with EFBIG: the
    /// temporary file is removed, the rule file is as it was, and the command says so with exit code 2.
    @Test func fmtWritePastTheFileSizeLimitLeavesNothingBehind() throws {
        // Formatted, far more than the limit's one block (512 bytes in sh, 1024 in bash).
        let text = (0..<300).map { "rule \"r\($0)\" when   logins_count==1 assign \"member\"\n" }.joined()
        let path = try CLITests.temporary("big.rules", text)
        let directory = (path as NSString).deletingLastPathComponent
        // SIGXFSZ as a shell leaves it (the test runner may ignore it, and a child inherits that): the command
        // must not rely on it being ignored already.
        let run = try CLITests.rules(
            [
                "--default-signal=XFSZ", "/bin/sh", "-c", "ulimit -f 1 && exec \"$0\" \"$@\"", CLITests.binary, "fmt",
                "--write", path,
            ], limit: 60, executable: "/usr/bin/env")
        #expect(run.status == 2, "\(run.status) \(run.stderr)")
        #expect(run.stderr == "rules: error: cannot write `\(path)`: File too large\n", "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["big.rules"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        // Standard output redirected to a file past the limit is a failed write like any other.
        let printed = try CLITests.rules(
            [
                "--default-signal=XFSZ", "/bin/sh", "-c", "ulimit -f 1 && exec \"$0\" \"$@\" >\"$OUTPUT\"",
                CLITests.binary, "fmt", path,
            ], environment: ["OUTPUT": directory + "/formatted"], limit: 60, executable: "/usr/bin/env")
        #expect(printed.status == 2, "\(printed.status) \(printed.stderr)")
        #expect(printed.stderr == "rules: error: cannot write output: File too large\n", "\(printed.stderr)")
    }

    @Test func junitToAFIFOIsWrittenIntoItNotReplaced() throws {
        let suite = try CLITests.temporary("r.test.yaml", "tests:\n  - {name: one, event: {}, expect: {assign: [m]}}\n")
        let directory = (suite as NSString).deletingLastPathComponent
        try #"rule "m" assign "m""#.write(toFile: directory + "/r.rules", atomically: true, encoding: .utf8)
        let fifo = directory + "/report.xml"
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = CLITests.LockedData()
        let reader = Thread {
            received.set(FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data())
        }
        reader.start()
        let run = try CLITests.rules(["test", suite, "--junit", fifo])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let deadline = Date().addingTimeInterval(10)
        while reader.isExecuting && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if reader.isExecuting {
            // The command never opened the FIFO: let the reader go, so the test fails instead of hanging.
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        #expect(try Self.type(fifo) != .typeRegular)
        #expect(String(decoding: received.get(), as: UTF8.self).contains("<testsuites"))
    }

    @Test func junitToDevStdoutWritesToStandardOutput() throws {
        let suite = try CLITests.temporary("r.test.yaml", "tests:\n  - {name: one, event: {}, expect: {assign: [m]}}\n")
        let directory = (suite as NSString).deletingLastPathComponent
        try #"rule "m" assign "m""#.write(toFile: directory + "/r.rules", atomically: true, encoding: .utf8)
        let run = try CLITests.rules(["test", suite, "--quiet", "--junit", "/dev/stdout"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("<testsuites"), "\(run.stdout)")
        #expect(try Self.type("/dev/stdout") == .typeSymbolicLink)
    }

    @Test func coverageJSONGoesThroughADanglingLinkToItsTarget() throws {
        let suite = try CLITests.temporary("r.test.yaml", "tests:\n  - {name: one, event: {}, expect: {assign: [m]}}\n")
        let directory = (suite as NSString).deletingLastPathComponent
        try #"rule "m" assign "m""#.write(toFile: directory + "/r.rules", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/coverage.json", withDestinationPath: directory + "/out.json")
        let run = try CLITests.rules(["test", suite, "--coverage-json", directory + "/coverage.json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.type(directory + "/coverage.json") == .typeSymbolicLink)
        #expect(try String(contentsOfFile: directory + "/out.json", encoding: .utf8).hasPrefix("[{"))
    }
}
