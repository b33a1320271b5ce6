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
    /// A running `rules serve`, stopped (SIGTERM) when released.
    final class Server {
        let process = Process()
        let errors = Pipe()
        var stderr: [UInt8] = []
        /// `http://127.0.0.1:PORT`, from the listening line.
        var url = ""

        init(_ arguments: [String], environment extra: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: CLITests.binary)
            process.arguments = ["serve"] + arguments + ["--port", "0"]
            process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
            var environment = ProcessInfo.processInfo.environment
            for name in ["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_BASE_URL", "ROLECALL_SECRET"]
            {
                environment[name] = nil
            }
            environment.merge(extra) { $1 }
            process.environment = environment
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let prefix = "rules: listening on "
            let deadline = Date().addingTimeInterval(30)
            let fd = errors.fileHandleForReading.fileDescriptor
            while Date() < deadline {
                let text = String(decoding: stderr, as: UTF8.self)
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                    url = String(line.dropFirst(prefix.count))
                    return
                }
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 1_000) >= 0 else { break }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = read(fd, &chunk, chunk.count)
                if count <= 0 { break }
                stderr += chunk[0..<count]
            }
        }

        deinit { if process.isRunning { process.terminate() } }

        /// Sends SIGTERM and waits up to `seconds` for the exit; the exit status, or nil when it did not exit.
        func stop(within seconds: Double = 20) -> Int32? {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            return process.isRunning ? nil : process.terminationStatus
        }

        /// POSTs `body` to `/v1/decide` with `headers`; the status and the body.
        func decide(_ body: String, headers: [String: String]) async throws -> (Int, String) {
            var request = URLRequest(url: try #require(URL(string: url + "/v1/decide")))
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
    }

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

    @Test func refusesLoggingEventsWithoutADecisionLog() throws {
        let run = try CLITests.rules(
            ["serve", "rules", "--no-effects", "--log-events", "--insecure-no-auth"], limit: 30)
        #expect(run.status != 0)
        #expect(run.stderr.contains("--log-events needs the decision log"))
    }

    @Test func servesDecisionsAndStopsOnSIGTERM() async throws {
        let directory = NSTemporaryDirectory() + "rolecall-serve-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A final line end in the secret file is not part of the secret.
        try "from-file\n".write(toFile: directory + "/secret", atomically: true, encoding: .utf8)
        let server = try Server(["rules/default-roles.rules", "--no-effects", "--secret-file", directory + "/secret"])
        #expect(server.url.wholeMatch(of: /http:\/\/127\.0\.0\.1:\d+/) != nil, "\(server.stderr)")
        let (status, body) = try await server.decide(
            Self.event, headers: ["Authorization": "Bearer from-file", "Content-Type": "application/json"])
        #expect(status == 200)
        #expect(body.hasPrefix(#"{"assign":["member"]"#))
        #expect(body.contains(#","decision_id":"dec_"#))
        let (refused, _) = try await server.decide(
            Self.event, headers: ["Authorization": "Bearer from-file-", "Content-Type": "application/json"])
        #expect(refused == 401)
        #expect(server.stop() == 0)
    }

    @Test func commitsDecisionsToTheOutbox() async throws {
        let directory = NSTemporaryDirectory() + "rolecall-serve-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = directory + "/outbox.db"
        let server = try Server(
            ["rules/default-roles.rules", "--sandbox", "--outbox", outbox], environment: ["ROLECALL_SECRET": "env"])
        let (status, _) = try await server.decide(
            Self.event, headers: ["Authorization": "Bearer env", "Content-Type": "application/json"])
        #expect(status == 200)
        #expect(server.stop() == 0)
        let run = try CLITests.rules(["outbox", "status", "--outbox", outbox], limit: 30)
        #expect(run.stdout.contains("decisions logged 1"), "\(run.stdout)")
    }
}
