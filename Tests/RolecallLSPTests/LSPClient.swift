import Foundation

/// A language client for tests: runs the built `rules lsp` with real pipes for its standard input and output,
/// frames messages with `Content-Length` and reads the server's frames back, with a time limit on every wait.
///
/// `@unchecked Sendable`: the pipe's reading handler runs on another thread; it and the test share only
/// ``buffer`` and ``ended``, always under ``lock``.
final class LSPClient: @unchecked Sendable {
    static let root: String = {
        let file = #filePath
        return String(file[..<file.range(of: "/Tests/")!.lowerBound])
    }()
    static let binary = ProcessInfo.processInfo.environment["ROLECALL_BIN"] ?? root + "/.build/debug/rules"

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var buffer = Data()
    private var ended = false
    private let arrived = DispatchSemaphore(value: 0)
    private var nextID = 100
    /// Notifications received while waiting for a response, in order.
    var notifications: [[String: Any]] = []

    init() throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["lsp", "--stdio"]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        output.fileHandleForReading.readabilityHandler = { [lock, arrived] handle in
            let data = handle.availableData
            lock.lock()
            if data.isEmpty {
                self.ended = true
                handle.readabilityHandler = nil
            } else {
                self.buffer.append(data)
            }
            lock.unlock()
            arrived.signal()
        }
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// Writes bytes to the server as they are.
    func sendRaw(_ bytes: Data) {
        input.fileHandleForWriting.write(bytes)
    }

    /// Writes one framed message.
    func send(_ message: [String: Any]) throws {
        let body = try JSONSerialization.data(withJSONObject: message)
        sendRaw(Data("Content-Length: \(body.count)\r\n\r\n".utf8) + body)
    }

    /// A notification.
    func notify(_ method: String, _ params: [String: Any] = [:]) throws {
        try send(["jsonrpc": "2.0", "method": method, "params": params])
    }

    /// Sends a request and returns its response, keeping the notifications that come before it.
    func request(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
        nextID += 1
        let id = nextID
        try send(["jsonrpc": "2.0", "id": id, "method": method, "params": params])
        return try response(id: id)
    }

    /// The response with `id`, keeping the notifications that come before it.
    func response(id: Int) throws -> [String: Any] {
        while true {
            let message = try receive()
            if (message["id"] as? Int) == id, message["method"] == nil { return message }
            notifications.append(message)
        }
    }

    /// The next `textDocument/publishDiagnostics` for `uri`, from those kept or those to come.
    func diagnostics(for uri: String) throws -> [[String: Any]] {
        while true {
            if let index = notifications.firstIndex(where: {
                ($0["method"] as? String) == "textDocument/publishDiagnostics"
                    && (($0["params"] as? [String: Any])?["uri"] as? String) == uri
            }) {
                let message = notifications.remove(at: index)
                return ((message["params"] as? [String: Any])?["diagnostics"] as? [[String: Any]]) ?? []
            }
            notifications.append(try receive())
        }
    }

    /// The next message from the server.
    func receive(seconds: Double = 20) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            lock.lock()
            if let message = takeFrame() {
                lock.unlock()
                return message
            }
            let over = ended
            lock.unlock()
            if over { throw Timeout(description: "the server closed its output") }
            if arrived.wait(timeout: .now() + deadline.timeIntervalSinceNow) == .timedOut {
                throw Timeout(description: "no message within \(seconds) s")
            }
        }
    }

    /// A complete frame from the buffer, if one is there (called under the lock).
    private func takeFrame() -> [String: Any]? {
        guard let headerEnd = buffer.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let header = String(decoding: buffer[buffer.startIndex..<headerEnd.lowerBound], as: UTF8.self)
        guard let line = header.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
            let length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))
        else { return ["invalid header": header] }
        guard buffer.endIndex - headerEnd.upperBound >= length else { return nil }
        let body = buffer[headerEnd.upperBound..<(headerEnd.upperBound + length)]
        buffer = Data(buffer[(headerEnd.upperBound + length)...])
        return (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? ["invalid body": body]
    }

    /// Closes the server's input and waits for it to exit; returns its status.
    func finish(seconds: Double = 20) throws -> Int32 {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                throw Timeout(description: "the server did not exit")
            }
            usleep(10_000)
        }
        return process.terminationStatus
    }

    /// `initialize` with `root` as the workspace folder (none when nil), then `initialized`.
    @discardableResult
    func start(root: String?) throws -> [String: Any] {
        let params: [String: Any] = [
            "processId": NSNull(), "capabilities": [:] as [String: Any],
            "rootUri": root.map { URL(fileURLWithPath: $0).absoluteString } ?? NSNull(),
        ]
        let answer = try request("initialize", params)
        try notify("initialized")
        return answer
    }
}

/// A range as the tests write it: `[startLine, startCharacter, endLine, endCharacter]`.
func rangeList(_ range: Any?) -> [Int] {
    guard let range = range as? [String: Any], let start = range["start"] as? [String: Any],
        let end = range["end"] as? [String: Any]
    else { return [] }
    return [start["line"], start["character"], end["line"], end["character"]].map { ($0 as? Int) ?? -1 }
}

/// `text` with LSP text edits applied (positions in UTF-16 code units), as an editor applies them.
func applying(_ edits: [[String: Any]], to text: String) -> String {
    func offset(_ position: [String: Any]) -> Int {
        let line = position["line"] as! Int
        let character = position["character"] as! Int
        var units = Array(text.utf16)
        var index = 0
        var current = 0
        while current < line, index < units.count {
            if units[index] == 10 { current += 1 }
            index += 1
        }
        units = []
        return index + character
    }
    var units = Array(text.utf16)
    let sorted = edits.sorted {
        offset(($0["range"] as! [String: Any])["start"] as! [String: Any])
            > offset(($1["range"] as! [String: Any])["start"] as! [String: Any])
    }
    for edit in sorted {
        let range = edit["range"] as! [String: Any]
        let start = offset(range["start"] as! [String: Any])
        let end = offset(range["end"] as! [String: Any])
        units.replaceSubrange(start..<end, with: Array((edit["newText"] as! String).utf16))
    }
    return String(decoding: units, as: UTF16.self)
}
