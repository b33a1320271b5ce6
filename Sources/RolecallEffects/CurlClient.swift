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

    /// Creates a request.
    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
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
        /// Anything else libcurl reports (a malformed URL, an unsupported protocol): not worth retrying.
        case other
    }

    /// What kind of failure it was.
    public var kind: Kind
    /// libcurl's description.
    public var message: String
    public var description: String { message }
}

/// A blocking HTTP client over one libcurl easy handle.
///
/// The handle is owned by this object and freed with it; it is reused for every request, so connections are
/// kept alive between requests to the same host. Not thread-safe: use one client per thread. Its calls block,
/// so call them from a thread of your own, never from Swift's cooperative pool (the effect runner is
/// synchronous and runs on the caller's thread).
public final class CurlClient {
    /// Connect and total timeouts, in milliseconds.
    public struct Timeouts: Sendable {
        /// How long connecting may take.
        public var connectMilliseconds: Int
        /// How long a whole request may take.
        public var totalMilliseconds: Int

        /// Creates timeouts.
        public init(connectMilliseconds: Int = 5_000, totalMilliseconds: Int = 15_000) {
            self.connectMilliseconds = connectMilliseconds
            self.totalMilliseconds = totalMilliseconds
        }
    }

    /// Responses larger than this are cut off with an error: nothing Auth0 sends comes close.
    public static let maxResponseBytes = 16 << 20

    static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    let handle: UnsafeMutableRawPointer
    let timeouts: Timeouts

    /// A client with `timeouts`.
    public init(timeouts: Timeouts = Timeouts()) {
        precondition(CurlClient.globalInit, "libcurl failed to initialise")
        guard let handle = curl_easy_init() else { fatalError("libcurl could not allocate a handle (out of memory)") }
        self.handle = handle
        self.timeouts = timeouts
    }

    deinit { curl_easy_cleanup(handle) }

    /// Collects a response's headers and body while libcurl delivers them.
    final class Collector {
        var headers: [String: String] = [:]
        var body: [UInt8] = []
        var overflow = false
    }

    /// Sends `request` and waits for the response.
    public func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        // Reset the options but keep the live connections for reuse.
        curl_easy_reset(handle)
        let collector = Collector()
        let context = Unmanaged.passUnretained(collector).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // curl adds `Expect: 100-continue` to larger POSTs; Auth0 does not need the extra round trip.
        headerList = curl_slist_append(headerList, "Expect:")

        var code = rolecall_curl_setopt_string(handle, CURLOPT_URL, request.url)
        code = code == CURLE_OK ? rolecall_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) : code
        code =
            code == CURLE_OK
            ? rolecall_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, timeouts.connectMilliseconds) : code
        code =
            code == CURLE_OK ? rolecall_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeouts.totalMilliseconds) : code
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
        guard code == CURLE_OK else { throw CurlClient.error(code, overflow: collector.overflow) }
        var status = 0
        _ = rolecall_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: collector.headers, body: collector.body)
    }

    static func error(_ code: CURLcode, overflow: Bool) -> TransportError {
        let message = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return TransportError(kind: .timeout, message: message)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
            CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR:
            return TransportError(kind: .connection, message: message)
        case CURLE_WRITE_ERROR where overflow:
            return TransportError(kind: .other, message: "response larger than \(maxResponseBytes) bytes")
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

    static let onHeader: rolecall_curl_write_callback = { data, size, count, context in
        let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
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
