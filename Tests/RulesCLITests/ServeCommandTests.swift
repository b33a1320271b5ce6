import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// `rules serve` as the built binary: the listening line, a decision over a real socket, graceful shutdown.
@Suite struct ServeCommandTests {
    static let event = #"{"user":{"user_id":"auth0|1"},"stats":{"logins_count":1}}"#

    @Test func refusesToStartWithoutASecret() throws {
        let run = try CLITests.rules(["serve", "rules", "--no-effects", "--port", "0"], limit: 30)
        #expect(run.status == 2)
        #expect(run.stderr.contains("no secret: set ROLECALL_SECRET or give --secret-file"))
    }

    /// Found by an attack: a secret with blanks (or only a line end) started a server no bearer token could reach.
    @Test(arguments: ["abc\n\n", "  abc  ", "ab c", "\n", "tab\there"])
    func refusesASecretABearerTokenCannotCarry(secret: String) throws {
        let path = NSTemporaryDirectory() + "rolecall-secret-\(UUID().uuidString)"
        try Data(secret.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try CLITests.rules(
            ["serve", "rules", "--no-effects", "--port", "0", "--secret-file", path], limit: 30)
        #expect(run.status == 2)
        #expect(run.stderr.contains("the secret") == true, "\(run.stderr)")
    }

    /// An outbox that cannot be opened is named once, as paths are shown everywhere (FileName.visible: a hidden
    /// character written out, the name quoted); it was named twice ("cannot open the outbox `X`: cannot open the
    /// outbox `X`: ...") with U+202E raw.
    @Test func anOutboxThatCannotBeOpenedIsNamedOnceAndVisibly() throws {
        let run = try CLITests.rules(
            [
                "serve", "rules", "--sandbox", "--insecure-no-auth", "--port", "0", "--outbox",
                "/nonexistent/a\u{202E}b/o.db",
            ],
            limit: 30)
        #expect(run.status == 2)
        #expect(
            run.stderr.contains(
                #"rules: error: cannot open the outbox "/nonexistent/a\u{202e}b/o.db": unable to open database file"#),
            "\(run.stderr)")
        #expect(run.stderr.components(separatedBy: "cannot open the outbox").count == 2, "\(run.stderr)")
        #expect(!run.stderr.unicodeScalars.contains("\u{202E}"), "\(run.stderr)")
    }

    /// Found by an attack: `--insecure-no-auth` on 0.0.0.0 with role changes started without a word, so anyone who
    /// could connect could have roles assigned to any user through the Management API.
    @Test(arguments: ["0.0.0.0", "::", "192.0.2.1", "127.1"])
    func refusesNoAuthWithRoleChangesOffLoopback(host: String) throws {
        let directory = NSTemporaryDirectory() + "rolecall-exposed-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try CLITests.rules(
            [
                "serve", "rules", "--sandbox", "--insecure-no-auth", "--host", host, "--port", "0", "--outbox",
                directory + "/outbox.db",
            ],
            limit: 30)
        #expect(run.status == 2)
        #expect(
            run.stderr.contains(
                "rules: error: --insecure-no-auth with role changes on `\(host)`, which is not a "
                    + "loopback address"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/outbox.db"), "the outbox was opened")
    }

    /// Decisions only, off loopback: allowed, with a warning.
    @Test func warnsOfNoAuthWithoutRoleChangesOffLoopback() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = [
            "serve", "rules", "--no-effects", "--insecure-no-auth", "--host", "0.0.0.0", "--port", "0",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
        process.environment = CLITests.environment([:])
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        var text = ""
        while !text.contains("rules: listening on"), process.isRunning {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        #expect(text.contains("rules: listening on http://0.0.0.0:"), "\(text)")
        #expect(
            text.contains("rules: warning: --insecure-no-auth on `0.0.0.0`, which is not a loopback address"),
            "\(text)")
    }

    /// Found by an attack: a FIFO as `--secret-file` held start-up forever (opened and read while nothing wrote).
    @Test(arguments: ["fifo", "directory"])
    func refusesASecretFileThatIsNotARegularFile(kind: String) throws {
        let path = NSTemporaryDirectory() + "rolecall-secret-\(kind)-\(UUID().uuidString)"
        if kind == "fifo" {
            #expect(mkfifo(path, 0o600) == 0)
        } else {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try CLITests.rules(
            ["serve", "rules", "--no-effects", "--port", "0", "--secret-file", path], limit: 20)
        #expect(run.status == 2)
        #expect(
            run.stderr.contains("rules: error: the secret file `\(path)` is not a regular file"), "\(run.stderr)")
    }

    /// Found by an attack: a host that does not resolve exited 1 with `Error: SocketAddressError.UnknownHost...`,
    /// and only after the outbox was opened and the worker started.
    @Test func aHostThatDoesNotResolveIsAUsageError() throws {
        let directory = NSTemporaryDirectory() + "rolecall-host-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try CLITests.rules(
            [
                "serve", "rules", "--sandbox", "--host", "nosuch.invalid", "--port", "18099", "--outbox",
                directory + "/outbox.db",
            ],
            environment: ["ROLECALL_SECRET": "a-secret-for-the-test-0123456789"], limit: 60)
        #expect(run.status == 2)
        #expect(
            run.stderr.contains(
                "rules: error: cannot listen on nosuch.invalid:18099: the host name cannot be resolved"),
            "\(run.stderr)")
        #expect(!run.stderr.contains("SocketAddressError"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/outbox.db"), "the outbox was opened")
    }

    /// Found by an attack: a port in use said `bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)`,
    /// after the outbox was opened.
    @Test func aPortInUseIsSaidPlainly() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, size) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &size) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let directory = NSTemporaryDirectory() + "rolecall-port-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try CLITests.rules(
            ["serve", "rules", "--sandbox", "--port", String(port), "--outbox", directory + "/outbox.db"],
            environment: ["ROLECALL_SECRET": "a-secret-for-the-test-0123456789"], limit: 60)
        #expect(run.status == 2)
        #expect(
            run.stderr.contains("rules: error: cannot listen on 127.0.0.1:\(port): address already in use\n"),
            "\(run.stderr)")
        #expect(!run.stderr.contains("errno"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/outbox.db"), "the outbox was opened")
    }

    /// Found by an attack, scaled down: with every connection slot held by a socket that sent only
    /// `POST /v1/decide HTTP/1.1\r\n`, a login waited 29.5 s (the idle timeout); now the head deadline (3 s) frees
    /// the slots.
    @Test func halfHeadsHoldTheSlotsOnlyUntilTheHeadDeadline() throws {
        let server = try ServeProcess(
            ["rules", "--no-effects", "--insecure-no-auth", "--max-connections", "2"], outbox: false)
        let port = try #require(server.url.split(separator: ":").last.flatMap { UInt16($0) })
        var holders: [Int32] = []
        defer { for fd in holders { close(fd) } }
        for _ in 0..<2 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(port.bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            try #require(connected)
            let head = Array("POST /v1/decide HTTP/1.1\r\n".utf8)
            _ = head.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            holders.append(fd)
        }
        Thread.sleep(forTimeInterval: 0.5)
        let start = Date()
        let answer = server.post("/v1/decide", Data(Self.event.utf8), secret: nil, timeout: 40)
        let waited = Date().timeIntervalSince(start)
        #expect(answer.status == 200)
        #expect(waited < 6, "the login waited \(waited) s")
    }

    @Test func refusesLoggingEventsWithoutADecisionLog() throws {
        let run = try CLITests.rules(
            ["serve", "rules", "--no-effects", "--log-events", "--insecure-no-auth"], limit: 30)
        #expect(run.status != 0)
        #expect(run.stderr.contains("--log-events needs the decision log"))
    }

    @Test func servesDecisionsAndStopsOnSIGTERM() throws {
        let directory = NSTemporaryDirectory() + "rolecall-serve-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A final line end in the secret file is not part of the secret.
        try "from-file\n".write(toFile: directory + "/secret", atomically: true, encoding: .utf8)
        let server = try ServeProcess(
            ["rules/default-roles.rules", "--no-effects", "--secret-file", directory + "/secret"], outbox: false)
        #expect(server.url.wholeMatch(of: /http:\/\/127\.0\.0\.1:\d+/) != nil, "\(server.text)")
        let answer = server.post("/v1/decide", Data(Self.event.utf8), secret: "from-file")
        let body = String(decoding: answer.body, as: UTF8.self)
        #expect(answer.status == 200)
        #expect(body.hasPrefix(#"{"assign":["member"]"#))
        #expect(body.contains(#","decision_id":"dec_"#))
        #expect(server.post("/v1/decide", Data(Self.event.utf8), secret: "from-file-").status == 401)
        #expect(server.stop() == 0)
    }

    @Test func commitsDecisionsToTheOutbox() throws {
        let directory = NSTemporaryDirectory() + "rolecall-serve-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = directory + "/outbox.db"
        let server = try ServeProcess(
            ["rules/default-roles.rules", "--sandbox", "--outbox", outbox], environment: ["ROLECALL_SECRET": "env"],
            outbox: false)
        #expect(server.post("/v1/decide", Data(Self.event.utf8), secret: "env").status == 200)
        #expect(server.stop() == 0)
        let run = try CLITests.rules(["outbox", "status", "--outbox", outbox], limit: 30)
        #expect(run.stdout.contains("decisions logged 1"), "\(run.stdout)")
    }

    /// SIGHUP reloads at once (the poll would wait for the files to hold still for a second); a broken set is
    /// refused and the old one keeps serving.
    @Test func sighupReloadsTheRulesAndABrokenSetIsRefused() throws {
        let directory = NSTemporaryDirectory() + "rolecall-sighup-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rules = directory + "/main.rules"
        try Data(#"rule "one" when true assign "member""#.utf8).write(to: URL(fileURLWithPath: rules))
        let server = try ServeProcess(
            [rules, "--no-effects"], environment: ["ROLECALL_SECRET": "sighup-secret-0123456789"], outbox: false)
        func generation() throws -> Int? {
            let answer = server.request("GET", "/v1/ruleset", secret: "sighup-secret-0123456789")
            return (try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["generation"] as? Int
        }
        #expect(try generation() == 1)
        try Data(#"rule "two" when true assign "staff""#.utf8).write(to: URL(fileURLWithPath: rules))
        kill(server.process.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try generation() == 2, "\(server.text)")
        let decided = server.post("/v1/decide", Data(Self.event.utf8), secret: "sighup-secret-0123456789")
        #expect(String(decoding: decided.body, as: UTF8.self).hasPrefix(#"{"assign":["staff"]"#))
        try Data("rule \"broken\" when assign".utf8).write(to: URL(fileURLWithPath: rules))
        kill(server.process.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try generation() == 2)
        #expect(server.text.contains("rule set refused; the previous one keeps serving"), "\(server.text)")
        #expect(server.stop() == 0)
    }
}
