import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RolecallEngine
import RolecallServer

/// A rule directory in a temporary folder, removed afterwards.
final class RuleDirectory: Sendable {
    let path: String

    /// A directory holding `rules` as `main.rules`.
    init(_ rules: String = ServerFixture.rules) throws {
        path = NSTemporaryDirectory() + "rolecall-serve-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try write(rules)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Replaces `main.rules` (or `name`).
    func write(_ rules: String, name: String = "main.rules") throws {
        try rules.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
    }
}

/// Builds the server the way `rules serve` does, with effects off unless a test gives some.
struct ServerFixture {
    static let rules = """
        rule "first login gets member"
        when logins_count == 1
        assign "member"

        rule "acme staff"
        when user.email ends_with "@acme.com"
        assign "staff"
        """

    static let secret = "s3cret-shared"
    /// The server's clock in tests: signatures are checked against it.
    static let now = 1_800_000_000.0

    let directory: RuleDirectory
    let store: RuleSetStore
    let metrics: ServerMetrics
    var configuration = ServerConfiguration()
    var effects: ServerEffects?

    init(_ directory: RuleDirectory? = nil, maxEventBytes: Int = 1 << 20) throws {
        let directory = try directory ?? RuleDirectory()
        self.directory = directory
        metrics = ServerMetrics(version: "test")
        store = RuleSetStore(
            initial: try RuleSet.load([directory.path]), paths: [directory.path], metrics: metrics,
            logger: Logger(label: "test.rules"))
        configuration.port = 0
        configuration.secret = Array(ServerFixture.secret.utf8)
        configuration.maxEventBytes = maxEventBytes
        configuration.reloadInterval = nil
        configuration.reloadOnSIGHUP = false
        configuration.clock = { ServerFixture.now }
    }

    /// The application, as production builds it.
    func application() throws -> some ApplicationProtocol {
        try buildApplication(
            configuration, rules: store, effects: effects, metrics: metrics, logger: Logger(label: "test.serve"))
    }

    /// A login event for `user` (omitted when nil), with `email` and `logins`.
    static func event(user: String? = "auth0|123", email: String = "ann@acme.com", logins: Int = 1) -> String {
        let id = user.map { "\"user_id\":\"\($0)\"," } ?? ""
        return "{\"user\":{\(id)\"email\":\"\(email)\"},\"stats\":{\"logins_count\":\(logins)}}"
    }

    static let bearer: HTTPFields = [.authorization: "Bearer \(secret)", .contentType: "application/json"]

    /// Headers signing `body` at `timestamp` with `secret`, computed here with swift-crypto (not the server's code).
    static func signed(_ body: String, timestamp: Double = now, secret: String = secret) -> HTTPFields {
        let stamp = String(Int(timestamp))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array((stamp + "." + body).utf8), using: SymmetricKey(data: Array(secret.utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        return [
            .contentType: "application/json", timestampHeader: stamp, signatureHeader: "v1=" + hex,
        ]
    }

    static let timestampHeader = HTTPField.Name("X-Rolecall-Timestamp")!
    static let signatureHeader = HTTPField.Name("X-Rolecall-Signature")!
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }

    /// The value of the JSON error body's `error`.
    var errorCode: String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return nil
        }
        return object["error"] as? String
    }

    /// The body as a JSON object.
    var object: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }
}
