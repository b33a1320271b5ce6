import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `rules serve ARGUMENTS --port 0 [--outbox DIR/outbox.db]`, running once it has printed
/// `rules: listening on http://127.0.0.1:PORT` on stderr; stopped when released. The AUTH0_* variables of the test's
/// own environment are removed; `environment` adds to what is left.
final class ServeProcess {
    let process = Process()
    let log = CLITests.LockedData()
    /// A temporary directory holding the outbox, removed when the value is released (unless `directory` was given).
    let directory: String
    let ownsDirectory: Bool
    /// `http://127.0.0.1:PORT`.
    private(set) var url = ""

    /// The outbox file.
    var outbox: String { directory + "/outbox.db" }

    /// Starts the server; with `outbox` false, `arguments` say where the outbox is (or that there is none).
    init(
        _ arguments: [String], environment extra: [String: String] = [:], directory given: String? = nil,
        outbox: Bool = true
    ) throws {
        if let given {
            directory = given
            ownsDirectory = false
        } else {
            directory =
                FileManager.default.temporaryDirectory.appendingPathComponent(
                    "rolecall-serve-\(UUID().uuidString)"
                ).path
            ownsDirectory = true
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments =
            ["serve"] + arguments + ["--port", "0"] + (outbox ? ["--outbox", directory + "/outbox.db"] : [])
        process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
        process.environment = CLITests.environment(extra)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drained for as long as the server runs, so its log never fills the pipe.
        let log = self.log
        DispatchQueue.global().async {
            var received = Data()
            while true {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                received += chunk
                log.set(received)
            }
        }
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let found = Self.listeningURL(in: text) {
                url = found
                return
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        stop()
        throw ServeError("rules serve did not print `rules: listening on http://127.0.0.1:PORT`: " + text)
    }

    deinit {
        stop()
        if ownsDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// What the server printed so far.
    var text: String { String(decoding: log.get(), as: UTF8.self) }

    /// SIGTERM, and waits up to `seconds` for the exit; the exit status, or nil when it did not exit in time
    /// (it is then killed).
    @discardableResult
    func stop(within seconds: Double = 20) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard !process.isRunning else {
            kill9()
            return nil
        }
        return process.terminationStatus
    }

    /// SIGKILL: no chance to finish anything.
    func kill9() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The URL in the line `rules: listening on URL`, once that line is complete.
    static func listeningURL(in text: String) -> String? {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            guard let range = line.range(of: "rules: listening on ") else { continue }
            let url = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
            if url.hasPrefix("http://127.0.0.1:") { return url }
        }
        return nil
    }

    /// POSTs `body` to `path` with the bearer `secret` and `headers`; returns the status and body (status 0: no
    /// answer).
    func post(
        _ path: String, _ body: Data, secret: String?, headers: [String: String] = [:], timeout: Double = 30
    ) -> (status: Int, body: Data) {
        request("POST", path, body, secret: secret, headers: headers, timeout: timeout)
    }

    /// Sends `method` to `path` with the bearer `secret` and `headers`; returns the status and body (status 0: no
    /// answer).
    func request(
        _ method: String, _ path: String, _ body: Data? = nil, secret: String?, headers: [String: String] = [:],
        timeout: Double = 30
    ) -> (status: Int, body: Data) {
        guard let target = URL(string: url + path) else { return (0, Data()) }
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = timeout
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let secret { request.setValue("Bearer \(secret)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let done = DispatchSemaphore(value: 0)
        let result = CLITests.LockedData()
        let status = NSLock()
        nonisolated(unsafe) var code = 0
        URLSession.shared.dataTask(with: request) { data, response, _ in
            status.lock()
            code = (response as? HTTPURLResponse)?.statusCode ?? 0
            status.unlock()
            result.set(data ?? Data())
            done.signal()
        }.resume()
        done.wait()
        status.lock()
        defer { status.unlock() }
        return (code, result.get())
    }
}

/// A server that could not be started.
struct ServeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
