import RolecallEngine
import RolecallFiles
import RolecallJSON
import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `rules lsp`: a Language Server Protocol 3.17 server for rule files, over standard input and output.
///
/// One thread reads a message, handles it and writes what it produces, in order. Every change checks the
/// whole workspace (open documents, and the `.rules` files under the workspace folders read from disk) as one
/// rule set, the way `rules check` does, and publishes each file's diagnostics. Bad input is answered as the
/// protocol says (parse error, invalid request, method not found, invalid params), never by stopping.
public struct LanguageServer {
    /// A JSON-RPC error answer.
    struct ResponseError: Error {
        var code: Int
        var message: String

        static let parseError = -32700
        static let invalidRequest = -32600
        static let methodNotFound = -32601
        static let invalidParams = -32602
        static let serverNotInitialized = -32002

        static func invalidParams(_ message: String) -> ResponseError {
            ResponseError(code: invalidParams, message: message)
        }
    }

    /// Whether `initialize` has been answered, and `shutdown`.
    var initialized = false
    var shuttingDown = false
    var workspace = Workspace()
    /// The URIs whose last published diagnostics were not empty, to clear them when their problems go.
    var published: Set<String> = []
    /// Messages to write, in order.
    var outbox: [JSONValue] = []
    /// Set by `exit`: the process's exit status.
    var exitCode: Int32?

    /// Largest number of diagnostics published for one file (the first, in position order): a generated or
    /// pasted file of garbage would otherwise send the editor hundreds of thousands.
    static let maxDiagnosticsPerFile = 1_000

    public init() {}

    /// Serves on standard input and output until `exit` or the end of input; returns the exit status: 0 after
    /// `shutdown`, 2 when standard input cannot be read, 1 otherwise.
    public static func runStandardIO() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        var reader = MessageReader(fd: 0)
        let writer = MessageWriter(fd: 1)
        var server = LanguageServer()
        while true {
            let item = reader.next()
            // Input that cannot be read (`rules lsp <&-`) is not the editor closing it: said, and exit code 2, the
            // status of unreadable input.
            if reader.readError != 0 {
                server.log("error: cannot read standard input: \(String(cString: strerror(reader.readError)))")
                return 2
            }
            switch item {
            case .end:
                return server.shuttingDown ? 0 : 1
            case .message(let body):
                server.handle(body)
            case .framingError(let problem):
                server.answer(id: .null, error: ResponseError(code: ResponseError.parseError, message: problem))
            case .tooLarge(let length):
                server.answer(
                    id: .null,
                    error: ResponseError(
                        code: ResponseError.invalidRequest,
                        message: "message of \(length) bytes is larger than the limit of \(MessageReader.maxBodyBytes)"
                    ))
            }
            // SIGPIPE is ignored here, so an editor gone (or any failed write) is an error like any other: said
            // once, exit code 1.
            for message in server.outbox where !writer.send(message) {
                server.log("error: cannot write output: \(String(cString: strerror(errno)))")
                return 1
            }
            server.outbox.removeAll()
            if let code = server.exitCode { return code }
        }
    }

    /// Handles one message body.
    mutating func handle(_ body: [UInt8]) {
        let message: JSONValue
        do {
            message = try JSONValue.parse(body)
        } catch {
            answer(id: .null, error: ResponseError(code: ResponseError.parseError, message: "invalid JSON: \(error)"))
            return
        }
        guard case .object = message else {
            answer(
                id: .null, error: ResponseError(code: ResponseError.invalidRequest, message: "a message is an object"))
            return
        }
        let id = message["id"]
        if let id {
            switch id {
            case .number, .string: break
            default:
                answer(id: .null, error: ResponseError(code: ResponseError.invalidRequest, message: "invalid id"))
                return
            }
        }
        guard message["jsonrpc"]?.string == "2.0" else {
            if let id {
                answer(id: id, error: ResponseError(code: ResponseError.invalidRequest, message: "not JSON-RPC 2.0"))
            }
            return
        }
        guard let method = message["method"]?.string else {
            // A response to a request of ours (we send none that need one): nothing to do.
            if id == nil || (message["result"] == nil && message["error"] == nil) {
                answer(id: id ?? .null, error: ResponseError(code: ResponseError.invalidRequest, message: "no method"))
            }
            return
        }
        let params = message["params"]
        if let id {
            let result = request(method, params)
            switch result {
            case .success(let value): outbox.append(.members(["jsonrpc": "2.0", "id": id, "result": value]))
            case .failure(let error): answer(id: id, error: error)
            }
        } else {
            notification(method, params)
        }
    }

    mutating func answer(id: JSONValue, error: ResponseError) {
        outbox.append(
            .members([
                "jsonrpc": "2.0", "id": id,
                "error": .members(["code": .int(error.code), "message": .text(error.message)]),
            ]))
    }

    /// Answers a request.
    mutating func request(_ method: String, _ params: JSONValue?) -> Result<JSONValue, ResponseError> {
        if method == "initialize" {
            guard !initialized else {
                return .failure(ResponseError(code: ResponseError.invalidRequest, message: "already initialized"))
            }
            return initialize(params)
        }
        guard initialized else {
            return .failure(ResponseError(code: ResponseError.serverNotInitialized, message: "server not initialized"))
        }
        guard !shuttingDown else {
            return .failure(ResponseError(code: ResponseError.invalidRequest, message: "server is shutting down"))
        }
        switch method {
        case "shutdown":
            shuttingDown = true
            return .success(.null)
        case "textDocument/codeAction": return codeActions(params)
        case "textDocument/formatting": return formatting(params)
        case "textDocument/documentSymbol": return documentSymbols(params)
        case "textDocument/completion": return completion(params)
        case "textDocument/hover": return hover(params)
        case "textDocument/definition": return definition(params)
        default:
            return .failure(ResponseError(code: ResponseError.methodNotFound, message: "unknown method `\(method)`"))
        }
    }

    /// Acts on a notification; unknown ones (and any before `initialize`, but `exit`) are ignored, as the
    /// protocol asks.
    mutating func notification(_ method: String, _ params: JSONValue?) {
        if method == "exit" {
            exitCode = shuttingDown ? 0 : 1
            return
        }
        guard initialized, !shuttingDown else { return }
        switch method {
        case "initialized":
            workspace.rescan()
            checkAndPublish()
        case "textDocument/didOpen":
            guard let document = params?["textDocument"], let uri = document["uri"]?.string,
                let text = document["text"]?.string
            else { return log("didOpen without textDocument.uri and text") }
            workspace.documents[uri] = Workspace.Document(
                uri: uri, bytes: Array(text.utf8), version: document["version"]?.integer)
            checkAndPublish()
        case "textDocument/didChange":
            guard let uri = params?["textDocument"]?["uri"]?.string, var document = workspace.documents[uri],
                let changes = params?["contentChanges"]?.array
            else { return log("didChange of a document that is not open, or without contentChanges") }
            for change in changes {
                guard let text = change["text"]?.string else { continue }
                if let range = change["range"] {
                    // A range that cannot be read is ignored (a notification has no error answer), never taken
                    // as a whole-text change: that would silently replace the document (found by attacking it).
                    guard let start = Position(range["start"]), let end = Position(range["end"]) else {
                        log("didChange with a range that is not a range: the change is ignored")
                        continue
                    }
                    let lines = LineIndex(document.bytes)
                    let from = lines.offset(of: start)
                    let to = max(from, lines.offset(of: end))
                    document.bytes.replaceSubrange(from..<to, with: Array(text.utf8))
                } else {
                    document.bytes = Array(text.utf8)
                }
            }
            document.version = params?["textDocument"]?["version"]?.integer ?? document.version
            workspace.documents[uri] = document
            checkAndPublish()
        case "textDocument/didSave":
            guard let uri = params?["textDocument"]?["uri"]?.string else { return }
            if let text = params?["text"]?.string { workspace.documents[uri]?.bytes = Array(text.utf8) }
            if let path = DocumentURI.path(uri) { workspace.refresh(path: path) }
            checkAndPublish()
        case "textDocument/didClose":
            guard let uri = params?["textDocument"]?["uri"]?.string else { return }
            workspace.documents[uri] = nil
            if let path = DocumentURI.path(uri) { workspace.refresh(path: path) }
            checkAndPublish()
        case "workspace/didChangeWatchedFiles", "workspace/didChangeWorkspaceFolders":
            if method == "workspace/didChangeWorkspaceFolders" {
                let event = params?["event"]
                let removed = (event?["removed"]?.array ?? []).compactMap {
                    $0["uri"]?.string.flatMap(DocumentURI.path)
                }
                let added = (event?["added"]?.array ?? []).compactMap { $0["uri"]?.string.flatMap(DocumentURI.path) }
                workspace.roots = workspace.roots.filter { !removed.contains($0) } + added
            }
            workspace.rescan()
            checkAndPublish()
        default:
            break
        }
    }

    func log(_ text: String) {
        let line = Array("rules lsp: \(text)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
    }

    mutating func initialize(_ params: JSONValue?) -> Result<JSONValue, ResponseError> {
        guard let params, case .object = params else { return .failure(.invalidParams("initialize takes an object")) }
        var roots: [String] = []
        if let folders = params["workspaceFolders"]?.array {
            roots = folders.compactMap { $0["uri"]?.string.flatMap(DocumentURI.path) }
        }
        if roots.isEmpty, let uri = params["rootUri"]?.string, let path = DocumentURI.path(uri) { roots = [path] }
        if roots.isEmpty, let path = params["rootPath"]?.string, path.hasPrefix("/") { roots = [path] }
        workspace.roots = roots.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        initialized = true
        let capabilities: JSONValue = .members([
            "positionEncoding": "utf-16",
            "textDocumentSync": .members([
                "openClose": true, "change": .int(2), "save": .members(["includeText": false]),
            ]),
            "codeActionProvider": .members(["codeActionKinds": .array(["quickfix"])]),
            "documentFormattingProvider": true,
            "documentSymbolProvider": true,
            "completionProvider": .members(["triggerCharacters": .array([".", "\""])]),
            "hoverProvider": true,
            "definitionProvider": true,
        ])
        return .success(
            .members([
                "capabilities": capabilities,
                "serverInfo": .members(["name": "rolecall", "version": .text(rolecallVersion)]),
            ]))
    }
}

// The messages are built with literals (`"jsonrpc": "2.0"`); no other module of the package declares these.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
