import RolecallEffects
import RolecallEngine
import RolecallFiles
import RolecallOutbox

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Everything `rules serve` is told on its command line, as values: production and tests build the same
/// application from it (``buildApplication(_:rules:effects:metrics:logger:onListening:)``).
public struct ServerConfiguration: Sendable {
    /// The address to listen on (default loopback only).
    public var host = "127.0.0.1"
    /// The port; 0 picks a free one (``buildApplication(_:rules:effects:metrics:logger:onListening:)`` reports it).
    public var port = 8080
    /// The shared secret requests must prove they hold; nil accepts every request (`--insecure-no-auth`).
    public var secret: [UInt8]?
    /// Events larger than this are refused with 413, before they are buffered.
    public var maxEventBytes = 1 << 20
    /// A connection that sends or receives nothing for this long is closed (slow or stuck clients).
    public var idleTimeout: Duration = .seconds(30)
    /// A request's head must arrive whole within this long of its first byte (of the accept, for a connection's
    /// first request), or it is answered 408 and its connection closed: a client sending half a head, or a head a
    /// byte at a time, holds a connection slot this long rather than ``idleTimeout``.
    public var headDeadline: Duration = .seconds(3)
    /// A request must arrive whole (head to end) within this long, or its connection is closed: a client
    /// dribbling a byte now and then cannot hold a connection and its half-read body.
    public var requestDeadline: Duration = .seconds(10)
    /// Connections served at once; more wait in the listen backlog. With ``maxEventBytes``, this bounds the
    /// memory that bodies being read can take.
    public var maxConnections = 1_024
    /// Whether the decision log keeps the event itself (after ``redactor``).
    public var logEvents = false
    /// The paths replaced by `"[redacted]"` in logged events.
    public var redactor = EventRedactor()
    /// PEM files for TLS; nil for plain http.
    public var tls: TLSFiles?
    /// How often to look for changed rule files; nil never.
    public var reloadInterval: Duration? = .seconds(1)
    /// Whether SIGHUP reloads the rules (off in tests, where many servers share one process).
    public var reloadOnSIGHUP = true
    /// The version `/metrics` reports.
    public var version = rolecallVersion
    /// The clock, in Unix seconds (signature timestamps, decision times).
    public var clock: @Sendable () -> Double = { wallClock() }

    /// A certificate chain and its private key, in PEM files.
    public struct TLSFiles: Sendable {
        /// The certificate chain, leaf first.
        public var certificate: String
        /// The private key.
        public var key: String
        /// The two files.
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// The defaults (`rules serve` without options, but with no secret).
    public init() {}

    /// Whether ``host`` is reachable from this machine only: an IPv4 address in 127.0.0.0/8 or the IPv6 `::1`
    /// (IPv4-mapped loopback included), or `localhost` when every address it resolves to is one of those (by what
    /// it resolves to, not by its name: an `/etc/hosts` can send `localhost` anywhere). Anything else, `0.0.0.0`
    /// and `::` first of all, may be reached by others; so is a form `inet_pton` does not read (`127.1`), which
    /// the resolver might.
    public var listensOnLoopbackOnly: Bool {
        guard host.lowercased() == "localhost" else { return Self.isLoopback(host) }
        return Self.allLoopback(Self.resolved(host))
    }

    /// Whether `addresses` (numeric, as the resolver gives them) are all loopback addresses, and there is one.
    static func allLoopback(_ addresses: [String]) -> Bool {
        !addresses.isEmpty && addresses.allSatisfy(isLoopback)
    }

    /// Whether `address`, a numeric IPv4 or IPv6 address, is a loopback address.
    static func isLoopback(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        // ::ffff:127.x.y.z
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    }

    /// The numeric addresses `name` resolves to (none when it does not resolve).
    static func resolved(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var next = list
        while let entry = next {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
                == 0
            {
                addresses.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            next = entry.pointee.ai_next
        }
        return addresses
    }
}

/// The durable side of a decision: the outbox the effects are committed to and the worker that carries them out.
public struct ServerEffects: Sendable {
    /// Where each decision and its effects are committed before the answer.
    public var outbox: Outbox
    /// Carries out the committed effects; the outbox wakes it after each commit that queued any.
    public var worker: OutboxWorker
    /// The two.
    public init(outbox: Outbox, worker: OutboxWorker) {
        self.outbox = outbox
        self.worker = worker
    }
}
