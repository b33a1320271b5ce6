import Crypto

/// Checks that a request comes from someone holding the shared secret (DESIGN.md, `rules serve`).
///
/// A request carries `Authorization: Bearer SECRET`, or signs its body: `X-Rolecall-Timestamp: UNIX_SECONDS`
/// and `X-Rolecall-Signature: v1=HEX`, HEX being the lowercase hex HMAC-SHA256, keyed with the secret, of
/// `TIMESTAMP + "." + BODY`. A signed request whose timestamp is more than ``window`` seconds from the server's
/// clock is refused, so a captured request cannot be replayed later. Every comparison of secret material takes
/// the same time whatever the bytes.
public struct RequestAuthenticator: Sendable {
    /// The secret's bytes (a `SymmetricKey` is made per check: it is not `Sendable`).
    let secret: [UInt8]
    /// SHA-256 of the secret: a bearer token is compared through its hash, so the comparison's length is fixed.
    let secretDigest: [UInt8]
    /// How far a signature's timestamp may be from the clock, either way, in seconds. A signature is remembered
    /// until its timestamp leaves the window (the outbox's ``RequestSignature``), so a replay is caught.
    public let window: Double

    /// An authenticator for `secret`.
    public init(secret: [UInt8], window: Double = 300) {
        self.secret = secret
        self.secretDigest = Array(SHA256.hash(data: secret))
        self.window = window
    }

    /// What the headers say before the body is read.
    public enum HeaderVerdict: Sendable, Equatable {
        /// A correct bearer token: accepted.
        case accepted
        /// A signature in time: accept once ``verify(signature:timestamp:body:)`` says the body matches it.
        case needsBody(timestamp: String, signature: [UInt8])
        /// Refused, and why (for the log and the answer; it never contains the secret).
        case refused(String)
    }

    /// Judges the authentication headers at the time `now` (Unix seconds).
    public func check(authorization: String?, timestamp: String?, signature: String?, now: Double)
        -> HeaderVerdict
    {
        let prefix = "bearer "
        var bearerRefusal: String?
        if let authorization, authorization.utf8.count > prefix.utf8.count,
            authorization.prefix(prefix.count).lowercased() == prefix
        {
            let token = authorization.dropFirst(prefix.count).utf8
            if constantTimeEqual(Array(SHA256.hash(data: Array(token))), secretDigest) { return .accepted }
            bearerRefusal = "wrong bearer token"
        } else if authorization != nil {
            bearerRefusal = "the Authorization header is not `Bearer SECRET`"
        }
        // An Authorization that is not ours (a proxy's own token, say) leaves a signature to prove the request.
        guard let timestamp, let signature else {
            return .refused(
                bearerRefusal
                    ?? "no credentials: send `Authorization: Bearer SECRET` or X-Rolecall-Timestamp and "
                    + "X-Rolecall-Signature")
        }
        guard !timestamp.isEmpty, timestamp.utf8.count <= 20, timestamp.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let seconds = Double(timestamp)
        else {
            return .refused("X-Rolecall-Timestamp is not Unix seconds")
        }
        guard abs(seconds - now) <= window else {
            return .refused("X-Rolecall-Timestamp is more than \(Int(window)) s from the server's clock")
        }
        guard signature.hasPrefix("v1="), let mac = RequestAuthenticator.bytes(hex: signature.dropFirst(3)),
            mac.count == SHA256.byteCount
        else {
            return .refused("X-Rolecall-Signature is not `v1=` and 64 lowercase hex digits")
        }
        return .needsBody(timestamp: timestamp, signature: mac)
    }

    /// True when `signature` is the HMAC of `timestamp.body`.
    public func verify(signature: [UInt8], timestamp: String, body: some Sequence<UInt8>) -> Bool {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        hmac.update(data: Array(timestamp.utf8) + [UInt8(ascii: ".")])
        hmac.update(data: Array(body))
        return constantTimeEqual(Array(hmac.finalize()), signature)
    }

    /// The signature header value for `body` at `timestamp` (what a client sends; for tests and tools).
    public func signature(timestamp: String, body: some Sequence<UInt8>) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        hmac.update(data: Array(timestamp.utf8) + [UInt8(ascii: ".")])
        hmac.update(data: Array(body))
        return "v1=" + hexadecimal(hmac.finalize())
    }

    /// The bytes of lowercase hex text, or nil when it is not that.
    static func bytes(hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}

/// Whether `a` and `b` are equal, in a time that depends only on their lengths.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}
