import CCurlShim

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP request for ``CurlClient``.
public struct HTTPRequest: Sendable {
    /// `GET`, `POST`, `DELETE`, ...
    public var method: String
    /// The absolute URL.
    public var url: String
    /// Header lines as name and value.
    public var headers: [(String, String)]
    /// The body, if any.
    public var body: [UInt8]?
    /// A total timeout shorter than the client's for this request (a run's deadline that comes sooner), if any.
    public var timeoutMilliseconds: Int?

    /// Creates a request.
    public init(
        method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeoutMilliseconds: Int? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

/// An HTTP response: status, headers (names lower-cased) and body.
public struct HTTPResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// Header values by lower-cased name (the last one wins).
    public var headers: [String: String]
    /// The body bytes.
    public var body: [UInt8]
    /// How many times libcurl sent the request again by itself (a kept-alive connection that had died), unseen
    /// by the caller otherwise.
    public var resends = 0

    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A request that got no HTTP response.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it was.
    public enum Kind: Sendable {
        /// The connect or total timeout passed.
        case timeout
        /// The connection could not be made, or broke (worth retrying).
        case connection
        /// Anything else libcurl reports (a malformed URL, an unsupported protocol), or a request the client
        /// refuses to send: not worth retrying.
        case other
    }

    /// What kind of failure it was.
    public var kind: Kind
    /// libcurl's description.
    public var message: String
    /// How many times libcurl sent the request again by itself before failing.
    public var resends = 0
    public var description: String { message }

    /// A failure of `kind` described by `message`.
    public init(kind: Kind, message: String, resends: Int = 0) {
        self.kind = kind
        self.message = message
        self.resends = resends
    }
}

/// A blocking HTTP client over one libcurl easy handle.
///
/// The handle is owned by this object and freed with it; it is reused for every request, so connections are
/// kept alive between requests to the same host. Not thread-safe: use one client per thread. Its calls block,
/// so call them from a thread of your own, never from Swift's cooperative pool (the effect runner is
/// synchronous and runs on the caller's thread).
///
/// It speaks https, and plain http only to a loopback host or when `allowHTTP` is set; libcurl is told the same
/// (`CURLOPT_PROTOCOLS_STR`), so no other of its protocols (`dict`, `gopher`, `file`, ...) can be reached.
/// Redirects are never followed, and paths are sent as they are (`CURLOPT_PATH_AS_IS`: no dot segment is
/// collapsed). Header lines with control characters are refused, not sent.
public final class CurlClient {
    /// Connect and total timeouts, in milliseconds.
    ///
    /// libcurl reads 0 as "no timeout", so a value below 1 is raised to 1 ms: a timeout always ends a request.
    public struct Timeouts: Sendable {
        /// How long connecting may take.
        public var connectMilliseconds: Int
        /// How long a whole request may take.
        public var totalMilliseconds: Int

        /// Creates timeouts.
        public init(connectMilliseconds: Int = 5_000, totalMilliseconds: Int = 15_000) {
            self.connectMilliseconds = max(1, connectMilliseconds)
            self.totalMilliseconds = max(1, totalMilliseconds)
        }
    }

    /// Responses larger than this are cut off with an error: nothing Auth0 sends comes close.
    public static let maxResponseBytes = 16 << 20
    /// Header sections larger than this are cut off with an error (libcurl 7.88 limits one line, not all).
    public static let maxHeaderBytes = 256 << 10

    static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    let handle: UnsafeMutableRawPointer
    let timeouts: Timeouts
    /// Whether plain http may go to hosts other than loopback ones.
    public let allowHTTP: Bool

    /// A client with `timeouts`; `allowHTTP` lets plain http go to any host, not only to loopback ones.
    public init(timeouts: Timeouts = Timeouts(), allowHTTP: Bool = false) {
        precondition(CurlClient.globalInit, "libcurl failed to initialise")
        guard let handle = curl_easy_init() else { fatalError("libcurl could not allocate a handle (out of memory)") }
        self.handle = handle
        self.timeouts = timeouts
        self.allowHTTP = allowHTTP
    }

    deinit { curl_easy_cleanup(handle) }

    /// Collects a response's headers and body while libcurl delivers them.
    final class Collector {
        var headers: [String: String] = [:]
        var headerBytes = 0
        var body: [UInt8] = []
        var overflow = false
        /// Times libcurl sent the request's header section: more than once means it resent the request.
        var sends = 0
    }

    /// Sends `request` and waits for the response.
    public func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        let endpoint: Endpoint
        do {
            endpoint = try Endpoint(parsing: request.url)
        } catch {
            throw TransportError(kind: .other, message: "refused to send: \(error.message)")
        }
        guard endpoint.isAllowed(allowHTTP: allowHTTP) else {
            throw TransportError(
                kind: .other,
                message: "refused to send plain http to `\(endpoint.host)`: use https, or allow http explicitly")
        }
        for (name, value) in request.headers where !Self.isHeaderSafe(name) || !Self.isHeaderSafe(value) {
            throw TransportError(kind: .other, message: "refused to send a header with a control character")
        }
        // Reset the options but keep the live connections for reuse.
        curl_easy_reset(handle)
        let collector = Collector()
        let context = Unmanaged.passUnretained(collector).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // curl adds `Expect: 100-continue` to larger POSTs; Auth0 does not need the extra round trip.
        headerList = curl_slist_append(headerList, "Expect:")
        // CURLOPT_PROTOCOLS_STR needs libcurl 7.85 (Debian 12 has 7.88.1); an older libcurl refuses the option, so
        // every request fails instead of going out unrestricted.
        let protocols = endpoint.scheme == "http" ? "http,https" : "https"
        let total = min(timeouts.totalMilliseconds, max(1, request.timeoutMilliseconds ?? Int.max))

        var code = rolecall_curl_setopt_string(handle, CURLOPT_URL, request.url)
        code = code == CURLE_OK ? rolecall_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, protocols) : code
        code = code == CURLE_OK ? rolecall_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, protocols) : code
        code = code == CURLE_OK ? rolecall_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0) : code
        // The path goes out as given: libcurl would otherwise collapse `/../` and `/./`, sending the request to
        // another endpoint than the one built.
        code = code == CURLE_OK ? rolecall_curl_setopt_long(handle, CURLOPT_PATH_AS_IS, 1) : code
        code = code == CURLE_OK ? rolecall_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) : code
        code =
            code == CURLE_OK
            ? rolecall_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(timeouts.connectMilliseconds, total))
            : code
        code = code == CURLE_OK ? rolecall_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, total) : code
        // The debug callback sees each time the request's headers go out, which is how a resend shows; it reads
        // nothing else (the headers carry the token).
        code = code == CURLE_OK ? rolecall_curl_setopt_debug_function(handle, CurlClient.onDebug) : code
        code = code == CURLE_OK ? rolecall_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, context) : code
        code = code == CURLE_OK ? rolecall_curl_setopt_long(handle, CURLOPT_VERBOSE, 1) : code
        code = code == CURLE_OK ? rolecall_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList) : code
        code =
            code == CURLE_OK
            ? rolecall_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, CurlClient.onBody) : code
        code = code == CURLE_OK ? rolecall_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context) : code
        code =
            code == CURLE_OK
            ? rolecall_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, CurlClient.onHeader) : code
        code = code == CURLE_OK ? rolecall_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context) : code
        if code == CURLE_OK, let body = request.body {
            code = body.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    rolecall_curl_setopt_postfields(handle, $0.baseAddress, buffer.count)
                }
            }
        }
        if code == CURLE_OK, request.method != "GET" || request.body != nil {
            code = rolecall_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        if code == CURLE_OK { code = curl_easy_perform(handle) }
        withExtendedLifetime(collector) {}
        let resends = max(0, collector.sends - 1)
        guard code == CURLE_OK else {
            var error = CurlClient.error(code, overflow: collector.overflow)
            error.resends = resends
            throw error
        }
        var status = 0
        _ = rolecall_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: collector.headers, body: collector.body, resends: resends)
    }

    /// Whether a header name or value can go on the wire as it is: no CR, LF, NUL or other control character
    /// (tab aside), which would end the line and start another header.
    static func isHeaderSafe(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 == 9 || ($0 >= 32 && $0 != 127) }
    }

    static func error(_ code: CURLcode, overflow: Bool) -> TransportError {
        let message = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return TransportError(kind: .timeout, message: message)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
            CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR:
            return TransportError(kind: .connection, message: message)
        case CURLE_WRITE_ERROR where overflow:
            return TransportError(
                kind: .other,
                message: "response too large (over \(maxResponseBytes) bytes of body or \(maxHeaderBytes) of headers)")
        case CURLE_UNSUPPORTED_PROTOCOL:
            return TransportError(kind: .other, message: "refused to send: \(message) (only https is allowed)")
        default: return TransportError(kind: .other, message: message)
        }
    }

    static let onBody: rolecall_curl_write_callback = { data, size, count, context in
        let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        guard collector.body.count + length <= CurlClient.maxResponseBytes else {
            collector.overflow = true
            return 0
        }
        data!.withMemoryRebound(to: UInt8.self, capacity: length) {
            collector.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
        }
        return length
    }

    static let onDebug: rolecall_curl_debug_callback = { _, type, _, _, context in
        if type == CURLINFO_HEADER_OUT {
            Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue().sends += 1
        }
        return 0
    }

    static let onHeader: rolecall_curl_write_callback = { data, size, count, context in
        let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        collector.headerBytes += length
        guard collector.headerBytes <= CurlClient.maxHeaderBytes else {
            collector.overflow = true
            return 0
        }
        let line = data!.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        if line.hasPrefix("HTTP/") {
            collector.headers = [:]  // a new response (after a redirect or 100 Continue)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r\n")
            collector.headers[name] = value
        }
        return length
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let first = firstIndex(where: { !characters.contains($0) }),
            let last = lastIndex(where: { !characters.contains($0) })
        else { return "" }
        return String(self[first...last])
    }
}
