import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Where node is, for the Action tests (outside their suite: a suite's trait cannot read the suite's own members).
enum NodeRuntime {
    /// `node` from PATH, or nil.
    static let path: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/node"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()
}

/// Issue 13, item 7: the Auth0 post-login Action (`examples/auth0-action.js`), run in node by
/// `examples/run-action.mjs` with a recording `api`, against the built `rules serve` and against servers that cannot
/// answer: one that is down, one that accepts the connection and never answers, one that refuses the signature, one
/// that redirects elsewhere, one that answers without end.
@Suite(.serialized, .enabled(if: NodeRuntime.path != nil, "node is not on PATH: the Action tests need it"))
struct ActionTests {
    /// The claim the Action is told to put the roles under.
    static let claim = "https://rolecall.test/roles"
    /// The secret the server and the Action share.
    static let secret = "action-test-secret"
    /// The sample events the Action posts.
    static let events = ["acme-admin.json", "blocked-user.json", "eu-finance-sso.json", "first-login.json"]

    /// What the driver prints: the claims set on each token, the reason the login was denied, the Action's log.
    struct Outcome: Decodable {
        /// The custom claims set on each token, by name.
        struct Claims: Decodable {
            var idToken: [String: [String]]
            var accessToken: [String: [String]]

            enum CodingKeys: String, CodingKey {
                case idToken = "id_token"
                case accessToken = "access_token"
            }
        }

        var claims: Claims
        var denied: String?
        var logs: [String]

        /// Neither token got a claim.
        var noClaims: Bool { claims.idToken.isEmpty && claims.accessToken.isEmpty }
    }

    /// The Action's secrets for a server at `url`.
    static func secrets(
        _ url: String, secret: String = secret, failClosed: Bool = false, timeoutMilliseconds: Int? = nil
    ) -> [String: String] {
        var secrets = ["ROLECALL_URL": url, "ROLECALL_SECRET": secret, "ROLECALL_CLAIM": claim]
        if failClosed { secrets["ROLECALL_FAIL_CLOSED"] = "true" }
        if let timeoutMilliseconds { secrets["ROLECALL_TIMEOUT_MS"] = String(timeoutMilliseconds) }
        return secrets
    }

    /// Runs the Action on `rules/events/EVENT` with `secrets` (from a file, so this environment's ROLECALL_* do
    /// not leak in) and decodes what the driver printed.
    static func runAction(_ event: String, secrets: [String: String], limit: Double = 60) throws -> (
        Outcome, CLITests.Run
    ) {
        let node = try #require(NodeRuntime.path)
        let text = String(
            decoding: try JSONSerialization.data(withJSONObject: secrets, options: [.sortedKeys]), as: UTF8.self)
        let file = try CLITests.temporary("secrets.json", text)
        defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
        let run = try CLITests.rules(
            ["examples/run-action.mjs", "rules/events/" + event, file], limit: limit, executable: node)
        #expect(run.status == 0, "the driver failed: \(run.stderr)")
        let outcome = try JSONDecoder().decode(Outcome.self, from: Data(run.stdout.utf8))
        return (outcome, run)
    }

    /// The `roles` of the decision `rules eval` makes on `rules/events/EVENT` with the example rules.
    static func decisionRoles(_ event: String) throws -> [String] {
        let run = try CLITests.rules(["eval", "rules/", "--event", "rules/events/" + event])
        #expect(run.status == 0, "\(run.stderr)")
        let decision = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        return try #require(decision?["roles"] as? [String], "no roles in \(run.stdout)")
    }

    /// A TCP socket on 127.0.0.1 that listens and never answers: the kernel completes the handshakes, nobody
    /// accepts. Closed when released; released before use, its port is one nobody listens on.
    final class SilentListener: Sendable {
        let descriptor: Int32
        let port: Int

        init() throws {
            #if canImport(Glibc)
                let stream = Int32(SOCK_STREAM.rawValue)
            #else
                let stream = SOCK_STREAM
            #endif
            let descriptor = socket(AF_INET, stream, 0)
            guard descriptor >= 0 else { throw ServeError("socket: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    bind(descriptor, generic, length) == 0 && listen(descriptor, 16) == 0
                        && getsockname(descriptor, generic, &length) == 0
                }
            }
            guard bound else {
                close(descriptor)
                throw ServeError("bind or listen: errno \(errno)")
            }
            self.descriptor = descriptor
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(descriptor) }
    }

    /// A server the test owns for one request: it records the request the Action sends and answers `status` with
    /// `body` (and the header lines `headers`).
    final class RecordingServer: @unchecked Sendable {
        // @unchecked: `received` is written by the serving thread before `done` is signalled and read only after.
        let listener: SilentListener
        let done = DispatchSemaphore(value: 0)
        private var received: [UInt8] = []

        init(status: Int, body: String, headers: [String] = []) throws {
            listener = try SilentListener()
            DispatchQueue.global().async { [self] in
                serve(status: status, body: body, headers: headers)
                done.signal()
            }
        }

        /// Stops waiting for the request (shutting the listener down wakes the serving thread's `accept`).
        func stop() { shutdown(listener.descriptor, Int32(SHUT_RDWR)) }

        /// `http://127.0.0.1:PORT`.
        var url: String { "http://127.0.0.1:\(listener.port)" }

        /// The request, once it has been answered (nil when none came within `seconds`).
        func request(within seconds: Double) -> (head: String, body: [UInt8])? {
            guard done.wait(timeout: .now() + seconds) == .success,
                let end = Self.headEnd(received)
            else { return nil }
            return (String(decoding: received[..<end], as: UTF8.self), Array(received[(end + 4)...]))
        }

        private func serve(status: Int, body: String, headers: [String]) {
            let connection = accept(listener.descriptor, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while !Self.complete(received) {
                let count = read(connection, &buffer, buffer.count)
                guard count > 0 else { break }
                received += buffer[0..<count]
            }
            let bytes = Array(body.utf8)
            let head =
                "HTTP/1.1 \(status) Canned\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\n"
                + headers.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n"
            let response = Array(head.utf8) + bytes
            var offset = 0
            while offset < response.count {
                let written = response[offset...].withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                guard written > 0 else { return }
                offset += written
            }
        }

        /// Where the head ends (the offset of its blank line's CR LF CR LF).
        static func headEnd(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            return (0...(bytes.count - 4)).first { bytes[$0..<($0 + 4)].elementsEqual([13, 10, 13, 10]) }
        }

        /// The request is all there: its head and as many body bytes as its Content-Length says.
        static func complete(_ bytes: [UInt8]) -> Bool {
            guard let end = headEnd(bytes) else { return false }
            let head = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
            let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                guard line.hasPrefix("content-length:") else { return nil }
                return Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
            }.first
            return bytes.count >= end + 4 + (length ?? 0)
        }
    }

    /// A server the test owns for one request: it reads the request, then answers 200 with a body of `bytes` bytes
    /// (the start of a decision, then `a` after `a`), its length declared or not (then the body ends when the
    /// connection closes), written until they are all out or the Action hangs up.
    final class FloodingServer: @unchecked Sendable {
        // @unchecked: `sent` is written by the serving thread before `done` is signalled and read only after.
        let listener: SilentListener
        let done = DispatchSemaphore(value: 0)
        private var sent = 0

        init(bytes: Int, declaringLength: Bool) throws {
            listener = try SilentListener()
            DispatchQueue.global().async { [self] in
                serve(bytes: bytes, declaringLength: declaringLength)
                done.signal()
            }
        }

        /// `http://127.0.0.1:PORT`.
        var url: String { "http://127.0.0.1:\(listener.port)" }

        /// How many body bytes went out before the body ended or the Action hung up (nil when the server was not
        /// done within `seconds`).
        func sentBytes(within seconds: Double) -> Int? {
            done.wait(timeout: .now() + seconds) == .success ? sent : nil
        }

        private func serve(bytes: Int, declaringLength: Bool) {
            let connection = accept(listener.descriptor, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while !RecordingServer.complete(received) {
                let count = read(connection, &buffer, buffer.count)
                guard count > 0 else { return }
                received += buffer[0..<count]
            }
            let length = declaringLength ? "Content-Length: \(bytes)\r\n" : ""
            let head = "HTTP/1.1 200 Flood\r\nContent-Type: application/json\r\n\(length)Connection: close\r\n\r\n"
            let start = Array(#"{"roles":[""#.utf8)
            guard put(Array(head.utf8) + start) else { return }
            sent = start.count
            let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 65_536)
            while sent < bytes {
                let count = min(chunk.count, bytes - sent)
                guard put(Array(chunk[..<count])) else { return }
                sent += count
            }

            /// Writes all of `data`; false when the Action hung up (MSG_NOSIGNAL: no SIGPIPE for this process).
            func put(_ data: [UInt8]) -> Bool {
                var offset = 0
                while offset < data.count {
                    let written = data[offset...].withUnsafeBytes {
                        send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                    }
                    guard written > 0 else { return false }
                    offset += written
                }
                return true
            }
        }
    }

    /// A port on 127.0.0.1 that nothing listens on: one the kernel just gave out, closed again.
    static func closedPort() throws -> Int { try SilentListener().port }

    @Test func theTokensCarryTheDecisionsRoles() throws {
        let server = try ServeProcess(["rules/", "--no-effects"], environment: ["ROLECALL_SECRET": Self.secret])
        var sawRoles = false
        for event in Self.events {
            let expected = try Self.decisionRoles(event)
            sawRoles = sawRoles || !expected.isEmpty
            let (outcome, _) = try Self.runAction(event, secrets: Self.secrets(server.url))
            #expect(outcome.claims.idToken == [Self.claim: expected], "\(event): \(outcome.logs)")
            #expect(outcome.claims.accessToken == [Self.claim: expected], "\(event): \(outcome.logs)")
            #expect(outcome.denied == nil, "\(event)")
            #expect(outcome.logs.contains { $0.contains("decision ") }, "\(event): the decision id is logged")
        }
        #expect(sawRoles, "some sample event must get roles, or the test shows nothing")
        // A trailing slash on the URL makes no difference.
        let (outcome, _) = try Self.runAction("first-login.json", secrets: Self.secrets(server.url + "/"))
        #expect(outcome.claims.idToken == [Self.claim: try Self.decisionRoles("first-login.json")])
    }

    /// What the Action sends, seen by a server the test owns: `POST /v1/decide`, JSON, the event without its
    /// secrets, a fresh timestamp and the HMAC of DESIGN.md (recomputed here by node's crypto from the bytes
    /// received); and the canned answer's roles on both tokens.
    @Test func theRequestIsTheSignedEventWithoutSecrets() throws {
        let server = try RecordingServer(status: 200, body: #"{"roles":["canned"],"decision_id":"d1"}"#)
        let (outcome, _) = try Self.runAction("acme-admin.json", secrets: Self.secrets(server.url))
        #expect(outcome.claims.idToken == [Self.claim: ["canned"]])
        #expect(outcome.claims.accessToken == [Self.claim: ["canned"]])
        #expect(outcome.denied == nil)
        let request = try #require(server.request(within: 10), "the Action sent no request")
        let lines = request.head.components(separatedBy: "\r\n")
        #expect(lines.first == "POST /v1/decide HTTP/1.1")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[line[..<colon].lowercased()] = value
        }
        #expect(headers["content-type"] == "application/json")
        let timestamp = try #require(headers["x-rolecall-timestamp"].flatMap { Int($0) }, "\(headers)")
        #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 30)
        let signature = try #require(headers["x-rolecall-signature"], "\(headers)")
        #expect(signature.wholeMatch(of: /v1=[0-9a-f]{64}/) != nil, "\(signature)")

        let sent = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? NSDictionary)
        #expect(sent["secrets"] == nil, "the Action's secrets left it")
        let event = try Data(contentsOf: URL(fileURLWithPath: CLITests.root + "/rules/events/acme-admin.json"))
        let expected = try #require(
            try JSONSerialization.jsonObject(with: event, options: .mutableContainers) as? NSMutableDictionary)
        expected.removeObject(forKey: "secrets")  // the sample events carry Auth0's empty `secrets`
        #expect(sent == expected, "the event was changed on the way")

        let node = try #require(NodeRuntime.path)
        let hmac = try CLITests.rules(
            [
                "-e",
                #"process.stdout.write(require("crypto").createHmac("sha256", process.argv[1]).update(require("fs").readFileSync(0)).digest("hex"))"#,
                Self.secret,
            ], input: Data("\(timestamp).".utf8) + Data(request.body), executable: node)
        #expect(signature == "v1=" + hmac.stdout, "\(hmac.stderr)")
    }

    /// Answers that are not a decision (an error status, a body that is not JSON, `roles` that is not a list of
    /// strings) are failures like any other.
    @Test(arguments: [
        (500, #"{"roles":["x"]}"#, "answered 500"), (200, "<html>", "not JSON"),
        (200, #"{"roles":"admin"}"#, "without a `roles` list"), (200, "null", "without a `roles` list"),
    ])
    func anAnswerThatIsNotADecisionFailsAsConfigured(status: Int, body: String, logged: String) throws {
        for failClosed in [false, true] {
            let server = try RecordingServer(status: status, body: body)
            let (outcome, _) = try Self.runAction(
                "first-login.json", secrets: Self.secrets(server.url, failClosed: failClosed))
            #expect(outcome.noClaims)
            #expect((outcome.denied != nil) == failClosed)
            #expect(outcome.logs.contains { $0.contains(logged) }, "\(outcome.logs)")
        }
    }

    /// A redirect is an answer that is not a decision: the Action does not follow it, so the signed login (personal
    /// data and the X-Rolecall-* headers) goes nowhere but ROLECALL_URL, and no roles come from elsewhere.
    @Test(arguments: [302, 307, 308], [false, true])
    func aRedirectIsNotFollowedAndTheLoginFailsAsConfigured(status: Int, failClosed: Bool) throws {
        let elsewhere = try RecordingServer(status: 200, body: #"{"roles":["elsewhere"],"decision_id":"d2"}"#)
        defer { elsewhere.stop() }
        let server = try RecordingServer(
            status: status, body: "", headers: ["Location: \(elsewhere.url)/v1/decide"])
        let (outcome, run) = try Self.runAction(
            "first-login.json", secrets: Self.secrets(server.url, failClosed: failClosed))
        #expect(server.request(within: 10) != nil, "the Action sent no request to ROLECALL_URL")
        #expect(elsewhere.request(within: 0.5) == nil, "the Action followed the redirect")
        #expect(outcome.noClaims, "\(outcome.claims)")
        #expect((outcome.denied != nil) == failClosed)
        #expect(
            outcome.logs.contains {
                $0.contains("answered \(status)") && $0.contains("redirect") && $0.contains(elsewhere.url)
            }, "\(outcome.logs)")
        #expect(run.seconds < 10)
    }

    /// An answer too large to be a decision, declared so or streamed without end, is left unread past 64 KiB: node
    /// ends at once (it does not buffer the flood until the timeout, or until Auth0's memory limit kills it and
    /// fails the login whatever the setting), the login fails as configured and the log says why.
    @Test(arguments: [false, true], [false, true])
    func anEndlessAnswerIsCutOffAndTheLoginFailsAsConfigured(declaringLength: Bool, failClosed: Bool) throws {
        let flood = 64 << 20
        let server = try FloodingServer(bytes: flood, declaringLength: declaringLength)
        let (outcome, run) = try Self.runAction(
            "first-login.json",
            secrets: Self.secrets(server.url, failClosed: failClosed, timeoutMilliseconds: 10_000), limit: 30)
        #expect(outcome.noClaims)
        #expect((outcome.denied != nil) == failClosed)
        #expect(
            outcome.logs.contains { $0.contains("answered 200") && $0.contains("answer larger than 65536 bytes") },
            "\(outcome.logs)")
        #expect(run.seconds < 5, "the Action took \(run.seconds) s over the flood")
        // What the kernel's socket buffers take, not the flood: the Action hung up.
        let sent = try #require(server.sentBytes(within: 10), "the server was still writing after the Action ended")
        #expect(sent < 16 << 20, "the Action read \(sent) bytes of the flood")
    }

    @Test(arguments: [false, true])
    func aWrongSecretIsRefusedAndTheLoginFailsAsConfigured(failClosed: Bool) throws {
        let server = try ServeProcess(["rules/", "--no-effects"], environment: ["ROLECALL_SECRET": Self.secret])
        let (outcome, _) = try Self.runAction(
            "first-login.json", secrets: Self.secrets(server.url, secret: "not-the-secret", failClosed: failClosed))
        #expect(outcome.noClaims)
        #expect((outcome.denied != nil) == failClosed)
        #expect(outcome.logs.contains { $0.contains("answered 401") }, "\(outcome.logs)")
    }

    @Test(arguments: [false, true])
    func aServerThatIsDownLetsTheLoginContinueUnlessFailClosed(failClosed: Bool) throws {
        let port = try Self.closedPort()
        let (outcome, run) = try Self.runAction(
            "first-login.json", secrets: Self.secrets("http://127.0.0.1:\(port)", failClosed: failClosed))
        #expect(outcome.noClaims)
        #expect((outcome.denied != nil) == failClosed)
        #expect(outcome.logs.contains { $0.contains("cannot reach") && $0.contains("ECONNREFUSED") }, "\(outcome.logs)")
        #expect(run.seconds < 10)
    }

    @Test(arguments: [false, true])
    func aServerThatNeverAnswersTimesOutUnderTheActionsLimit(failClosed: Bool) throws {
        let listener = try SilentListener()
        let (outcome, run) = try Self.runAction(
            "first-login.json",
            secrets: Self.secrets(
                "http://127.0.0.1:\(listener.port)", failClosed: failClosed, timeoutMilliseconds: 300),
            limit: 30)
        #expect(outcome.noClaims)
        #expect((outcome.denied != nil) == failClosed)
        #expect(outcome.logs.contains { $0.contains("no answer") && $0.contains("within 300 ms") }, "\(outcome.logs)")
        #expect(run.seconds < 10, "the Action waited \(run.seconds) s for a 300 ms timeout")
        withExtendedLifetime(listener) {}
    }

    @Test(arguments: [false, true])
    func missingSettingsAreAnErrorSaidClearly(failClosed: Bool) throws {
        var secrets = Self.secrets("http://127.0.0.1:9", failClosed: failClosed)
        secrets["ROLECALL_URL"] = nil
        secrets["ROLECALL_CLAIM"] = ""
        let (outcome, _) = try Self.runAction("first-login.json", secrets: secrets)
        #expect(outcome.noClaims)
        #expect((outcome.denied != nil) == failClosed)
        #expect(
            outcome.logs.contains { $0.contains("ROLECALL_URL, ROLECALL_CLAIM") && $0.contains("must be set") },
            "\(outcome.logs)")
    }
}
