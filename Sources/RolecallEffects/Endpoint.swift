/// The scheme, host and port of a URL the client sends to, parsed strictly so a request cannot be steered elsewhere.
///
/// Only `https` (and `http`) URLs with a plain host are accepted: no user info (`user@host`, which makes the part
/// before `@` a user name and sends the request to the host after it), no empty host, a port only as 1 to 5 digits
/// in 1...65535, and nothing but printable ASCII after the host (paths are sent percent-encoded).
public struct Endpoint: Sendable, Equatable {
    /// `https` or `http`, lower-cased.
    public var scheme: String
    /// The host, lower-cased; an IPv6 address keeps its brackets.
    public var host: String
    /// The port, when one is given.
    public var port: Int?

    /// Parses `url`. A `base` URL (paths are appended to it) may have a path, such as a proxy's prefix, but no
    /// query or fragment. Throws a message saying what is wrong.
    public init(parsing url: String, base: Bool = false) throws(EndpointError) {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else {
            throw EndpointError("`\(url)` is not an absolute URL")
        }
        let scheme = url[..<colon].lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw EndpointError("the scheme `\(scheme)` is not allowed (only https, or http to a loopback address)")
        }
        let rest = url[url.index(colon, offsetBy: 3)...]
        let end = rest.firstIndex(where: Self.endsAuthority) ?? rest.endIndex
        let authority = rest[..<end]
        let tail = rest[end...]
        guard !base || !tail.contains(where: { $0 == "?" || $0 == "#" }) else {
            throw EndpointError("`\(url)` has a query or fragment; a base URL gets paths appended to it")
        }
        guard tail.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw EndpointError("`\(url)` has spaces or characters a URL cannot carry")
        }
        guard !authority.contains("@") else { throw EndpointError("`\(url)` has user info (`@`) before the host") }
        var host = Substring(authority)
        var port: Int?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw EndpointError("`\(url)` has a bad IPv6 host") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw EndpointError("`\(url)` has a bad IPv6 host") }
                port = try Self.port(after.dropFirst(), in: url)
            }
            let inner = host.dropFirst().dropLast()
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw EndpointError("`\(url)` has a bad IPv6 host")
            }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                port = try Self.port(authority[authority.index(after: colon)...], in: url)
            }
            guard Self.isHostName(String(host)) else { throw EndpointError("`\(url)` does not name a valid host") }
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
    }

    static func endsAuthority(_ character: Character) -> Bool {
        character == "/" || character == "?" || character == "#"
    }

    static func port(_ text: Substring, in url: String) throws(EndpointError) -> Int {
        guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ (48...57).contains($0) }),
            let value = Int(text),
            (1...65_535).contains(value)
        else { throw EndpointError("`\(url)` has a bad port (1 to 65535)") }
        return value
    }

    /// Whether `host` is a DNS host name or an IPv4 address: dot-separated labels of letters, digits and inner
    /// hyphens, 1 to 63 characters each, 253 in all (a trailing dot is not accepted). Nothing else: no `@`, `:`, `/`,
    /// `%`, spaces or control characters.
    public static func isHostName(_ host: String) -> Bool {
        let bytes = Array(host.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-"),
                label.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: "-") })
            else { return false }
        }
        return true
    }

    static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }

    /// Whether the host is this machine: `localhost`, an address in 127.0.0.0/8, or `[::1]`.
    ///
    /// The address must be a canonical dotted quad: four decimal numbers 0...255 without leading zeros or signs.
    /// `127.0.0.099` is not one (libcurl does not read it as an address and looks it up in DNS as a host name).
    public var isLoopback: Bool {
        if host == "localhost" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in
            (1...3).contains(part.utf8.count) && part.utf8.allSatisfy({ (48...57).contains($0) })
                && (part == "0" || part.utf8.first != UInt8(ascii: "0")) && Int(part).map { $0 <= 255 } == true
        }
    }

    /// Whether a request to this endpoint may go out: https always, http only to a loopback host or when
    /// `allowHTTP` says so.
    public func isAllowed(allowHTTP: Bool) -> Bool { scheme == "https" || allowHTTP || isLoopback }
}

/// A URL the client refuses to send to.
public struct EndpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with it.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
