import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import RolecallServer

#if canImport(Glibc)
    import Glibc
#endif

/// What an attack on the first version found, each fixed and kept fixed here.
@Suite struct ServerHardeningTests {
    /// Seconds until the server closes a connection that sent `bytes` and nothing more (nil: still open after
    /// `limit` seconds).
    static func secondsUntilClosed(
        port: Int, sending bytes: String, dribble: [String] = [], every interval: Double = 0, limit: Double
    ) async throws -> Double? {
        try await RawHTTP.onThread {
            let fd = try RawHTTP.connect(port: port, timeout: Int(limit))
            defer { close(fd) }
            let start = Date()
            RawHTTP.send(fd, Array(bytes.utf8))
            for piece in dribble {
                Thread.sleep(forTimeInterval: interval)
                if RawHTTP.send(fd, Array(piece.utf8)) < 0 { return Date().timeIntervalSince(start) }
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count == 0 { return Date().timeIntervalSince(start) }
                if count < 0 { return nil }
            }
        }
    }

    @Test(arguments: [
        "POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Le",
        "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(ServerFixture.secret)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"u",
        "",
    ])
    func aSlowOrSilentClientIsClosedAtTheIdleTimeout(sending: String) async throws {
        var fixture = try ServerFixture()
        fixture.configuration.idleTimeout = .milliseconds(500)
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let seconds = try await Self.secondsUntilClosed(port: port, sending: sending, limit: 10)
            let closed = try #require(seconds, "the connection was still open after 10 s")
            #expect(closed >= 0.4 && closed < 5, "closed after \(closed) s")
        }
    }

    /// Found by the second attack: a byte now and then kept a connection past the idle timeout.
    @Test func aRequestThatDribblesIsClosedAtItsDeadline() async throws {
        var fixture = try ServerFixture()
        fixture.configuration.idleTimeout = .seconds(30)
        fixture.configuration.requestDeadline = .milliseconds(800)
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let head =
                "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(ServerFixture.secret)\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            let seconds = try await Self.secondsUntilClosed(
                port: port, sending: head, dribble: Array(repeating: "{", count: 40), every: 0.1, limit: 10)
            let closed = try #require(seconds, "the connection was still open after 10 s")
            #expect(closed >= 0.6 && closed < 3, "closed after \(closed) s")
        }
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.255.0.9", true), ("localhost", true), ("LocalHost", true), ("::1", true),
        ("0:0:0:0:0:0:0:1", true), ("::ffff:127.0.0.1", true), ("0.0.0.0", false), ("::", false),
        ("10.0.0.1", false), ("128.0.0.1", false), ("127.1", false), ("127.0.0.099", false), ("example.com", false),
        ("::2", false), ("::ffff:10.0.0.1", false), ("", false),
    ])
    func loopbackAddresses(host: String, loopback: Bool) {
        var configuration = ServerConfiguration()
        configuration.host = host
        #expect(configuration.listensOnLoopbackOnly == loopback)
    }

    /// `localhost` counts as loopback by what it resolves to, not by its name (found by an attack: an /etc/hosts
    /// line `192.0.2.2 localhost` let --insecure-no-auth with role changes listen on 192.0.2.2).
    @Test func localhostIsLoopbackByWhatItResolvesTo() {
        #expect(ServerConfiguration.allLoopback(["127.0.0.1", "::1"]))
        #expect(!ServerConfiguration.allLoopback(["127.0.0.1", "192.0.2.2"]))
        #expect(!ServerConfiguration.allLoopback(["192.0.2.2"]))
        #expect(!ServerConfiguration.allLoopback([]))
        // Here `localhost` resolves to loopback addresses only.
        #expect(ServerConfiguration.resolved("localhost").contains("127.0.0.1"))
        #expect(ServerConfiguration.resolved("no-such-host.invalid").isEmpty)
    }

    /// What the server sent on a connection that sent `bytes` (then `dribble`, a piece every `interval`) until it
    /// closed, and after how many seconds (nil: still open after `limit` seconds).
    static func answerUntilClosed(
        port: Int, sending bytes: String, dribble: [String] = [], every interval: Double = 0, limit: Double
    ) async throws -> (answer: String, seconds: Double?) {
        try await RawHTTP.onThread {
            let fd = try RawHTTP.connect(port: port, timeout: Int(limit))
            defer { close(fd) }
            let start = Date()
            if !bytes.isEmpty { RawHTTP.send(fd, Array(bytes.utf8)) }
            for piece in dribble {
                Thread.sleep(forTimeInterval: interval)
                if RawHTTP.send(fd, Array(piece.utf8)) < 0 { break }
            }
            var answer: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count == 0 { return (String(decoding: answer, as: UTF8.self), Date().timeIntervalSince(start)) }
                if count < 0 { return (String(decoding: answer, as: UTF8.self), nil) }
                answer += buffer[0..<count]
            }
        }
    }

    /// Found by the third attack: a request head had no deadline of its own, only the idle timeout (30 s), so
    /// sockets sending half a head, or a head a byte at a time, held every connection slot for 30 s each.
    @Test(arguments: [
        ("POST /v1/decide HTTP/1.1\r\n", [String]()),
        ("POST /v1/decide HTTP/1.1\r\n", Array(repeating: "X-A: b\r\n", count: 60)),
        ("POST /v1/decide HTTP/1.1\r\nHost: ", Array(repeating: "a", count: 60)),
    ])
    func aRequestHeadThatStallsIsAnswered408AtItsDeadline(sending: String, dribble: [String]) async throws {
        var fixture = try ServerFixture()
        fixture.configuration.idleTimeout = .seconds(30)
        fixture.configuration.headDeadline = .milliseconds(800)
        let metrics = fixture.metrics
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let (answer, seconds) = try await Self.answerUntilClosed(
                port: port, sending: sending, dribble: dribble, every: 0.1, limit: 10)
            let closed = try #require(seconds, "the connection was still open after 10 s")
            #expect(closed >= 0.6 && closed < 3, "closed after \(closed) s")
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
            #expect(answer.contains(#"{"error":"request_timeout","message":"the request head did not arrive"#))
        }
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"status="408""#), "\(text)")
    }

    /// A body that stalls past the request deadline is answered 408 too (it was closed without a word).
    @Test func aRequestBodyThatStallsIsAnswered408AtItsDeadline() async throws {
        var fixture = try ServerFixture()
        fixture.configuration.idleTimeout = .seconds(30)
        fixture.configuration.requestDeadline = .milliseconds(800)
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let head =
                "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(ServerFixture.secret)\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"u"
            let (answer, seconds) = try await Self.answerUntilClosed(port: port, sending: head, limit: 10)
            let closed = try #require(seconds, "the connection was still open after 10 s")
            #expect(closed >= 0.6 && closed < 3, "closed after \(closed) s")
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
            #expect(answer.contains(#""message":"the request did not arrive whole within 0.8 s""#), "\(answer)")
        }
    }

    /// The head deadline is not the wait between keep-alive requests: that stays the idle timeout.
    @Test func theWaitBetweenKeepAliveRequestsIsTheIdleTimeout() async throws {
        var fixture = try ServerFixture()
        fixture.configuration.idleTimeout = .seconds(3)
        fixture.configuration.headDeadline = .milliseconds(500)
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let (answer, seconds) = try await Self.answerUntilClosed(
                port: port, sending: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", limit: 10)
            let closed = try #require(seconds, "the connection was still open after 10 s")
            #expect(closed >= 2.5 && closed < 6, "closed after \(closed) s")
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            #expect(!answer.contains("408"), "\(answer)")
        }
    }

    /// Found by the second attack: after an early 401, the server read and discarded the rest of a huge body.
    @Test func aRequestRefusedFromItsHeadersClosesItsConnection() async throws {
        var fixture = try ServerFixture()
        fixture.configuration.idleTimeout = .seconds(30)
        fixture.configuration.requestDeadline = .seconds(30)
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let head =
                "POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000000\r\n\r\n{"
            let seconds = try await Self.secondsUntilClosed(port: port, sending: head, limit: 10)
            let closed = try #require(seconds, "the connection was still open after 10 s")
            #expect(closed < 2, "closed after \(closed) s")
        }
    }

    /// Found by the second attack: a proxy's own bearer token beside a valid signature was refused.
    @Test func aSignatureCountsBesideAProxysBearerToken() async throws {
        let body = ServerFixture.event()
        var proxied = ServerFixture.signed(body)
        proxied[.authorization] = "Bearer a-token-of-the-proxy"
        let headers = proxied
        try await ServerFixture().application().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/decide", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(response.status == .ok)
        }
    }

    @Test func aMalformedChunkedBodyIsTheClientsMistake() async throws {
        try await ServerFixture().application().test(.live) { client in
            let port = try #require(client.port)
            let status = try await RawHTTP.exchange(
                port: port,
                head: "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(ServerFixture.secret)\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
            #expect(status == 400)
        }
    }

    /// Sends each of `requests` in one write (pipelined), 0.3 s apart, and reads until the server closes; the
    /// answers' status lines and bodies, in order.
    static func pipelined(port: Int, _ requests: String...) async throws -> String {
        try await RawHTTP.onThread {
            let fd = try RawHTTP.connect(port: port)
            defer { close(fd) }
            for (index, piece) in requests.enumerated() {
                if index > 0 { Thread.sleep(forTimeInterval: 0.3) }
                RawHTTP.send(fd, Array(piece.utf8))
            }
            var answer: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { break }
                answer += buffer[0..<count]
            }
            return String(decoding: answer, as: UTF8.self)
        }
    }

    /// Decisions are answered on the event loop, other routes by the router: pipelined requests still get
    /// their answers in order, also while a decision waits for its commit.
    @Test(arguments: [false, true])
    func pipelinedAnswersKeepTheirOrder(withEffects: Bool) async throws {
        var fixture = try ServerFixture()
        if withEffects { fixture.effects = try EffectsTests.effects(in: fixture.directory) }
        let event = ServerFixture.event()
        let decide =
            "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(ServerFixture.secret)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(event.utf8.count)\r\n\r\n\(event)"
        let health = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        let last = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let text = try await Self.pipelined(port: port, decide + health + decide + decide + health + last)
            let markers = text.split(separator: "\r\n\r\n").compactMap { chunk -> String? in
                if chunk.contains("decision_id") { return "decide" }
                if chunk.contains("alive") { return "health" }
                return nil
            }
            #expect(markers == ["decide", "health", "decide", "decide", "health", "health"], "\(text)")
            #expect(text.components(separatedBy: "HTTP/1.1 200").count == 7, "\(text)")
        }
    }

    /// Found by the third attack: an answer to an earlier pipelined request, written while a later request's
    /// body was still arriving, closed the connection and lost the later request.
    @Test(arguments: [false, true])
    func anAnswerWhileTheNextRequestArrivesKeepsTheConnection(withEffects: Bool) async throws {
        var fixture = try ServerFixture()
        if withEffects { fixture.effects = try EffectsTests.effects(in: fixture.directory) }
        let event = ServerFixture.event()
        let decide =
            "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(ServerFixture.secret)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(event.utf8.count)\r\n\r\n\(event)"
        let last = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let text = try await Self.pipelined(
                port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" + decide + String(decide.dropLast(20)),
                String(decide.suffix(20)) + last)
            #expect(text.components(separatedBy: "HTTP/1.1 200").count == 5, "\(text)")
        }
    }

    /// Found by the third attack: a parse error after a decision that waited for its commit was answered first.
    @Test func aParseErrorAfterADecisionIsAnsweredAfterIt() async throws {
        var fixture = try ServerFixture()
        fixture.effects = try EffectsTests.effects(in: fixture.directory)
        let event = ServerFixture.event()
        let decide =
            "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(ServerFixture.secret)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(event.utf8.count)\r\n\r\n\(event)"
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let text = try await Self.pipelined(port: port, decide + "GARBAGE\r\n\r\n")
            let ok = try #require(text.range(of: "HTTP/1.1 200"), "\(text)")
            let refused = try #require(text.range(of: "HTTP/1.1 400"), "\(text)")
            #expect(ok.lowerBound < refused.lowerBound)
        }
    }

    /// Found by the third attack: a connection that sent malformed HTTP was answered 400 and never closed.
    @Test func aConnectionThatSentGarbageIsClosed() async throws {
        var fixture = try ServerFixture()
        fixture.configuration.idleTimeout = .milliseconds(500)
        try await fixture.application().test(.live) { client in
            let port = try #require(client.port)
            let seconds = try await Self.secondsUntilClosed(port: port, sending: "GARBAGE\r\n\r\n", limit: 10)
            let closed = try #require(seconds, "the connection was still open after 10 s")
            #expect(closed < 5, "closed after \(closed) s")
        }
    }

    @Test func healthAndReadinessAnswerHEAD() async throws {
        try await ServerFixture().application().test(.router) { client in
            for path in ["/healthz", "/readyz"] {
                let response = try await client.execute(uri: path, method: .head)
                #expect(response.status == .ok, "\(path)")
            }
        }
    }

    /// A proxy may add an Authorization header of its own: a valid signature still proves the request.
    @Test func aSignatureCountsBesideAnotherKindOfAuthorization() async throws {
        let body = ServerFixture.event()
        var proxied = ServerFixture.signed(body)
        proxied[.authorization] = "Basic cHJveHk6cHJveHk="
        let headers = proxied
        try await ServerFixture().application().test(.router) { client in
            let signed = try await client.execute(
                uri: "/v1/decide", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(signed.status == .ok)
            var unsigned = headers
            unsigned[ServerFixture.signatureHeader] = nil
            let refused = try await client.execute(
                uri: "/v1/decide", method: .post, headers: unsigned, body: ByteBuffer(string: body))
            #expect(refused.status == .unauthorized)
        }
    }
}
