import Foundation
import Testing

/// `rules lsp` driven over real pipes by ``LSPClient``, as an editor drives it.
@Suite(.serialized) struct LSPTests {
    /// An empty workspace folder of its own.
    static func workspace() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lsp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.path
    }

    static func uri(_ path: String) -> String { URL(fileURLWithPath: path).absoluteString }

    static func open(_ client: LSPClient, _ uri: String, _ text: String, version: Int = 1) throws {
        try client.notify(
            "textDocument/didOpen",
            ["textDocument": ["uri": uri, "languageId": "rolecall", "version": version, "text": text]])
    }

    /// Three mistakes, one on a line with a scalar outside the BMP before it (two UTF-16 units).
    static let threeMistakes = """
        rule "café 😀" when usr.email == "a" assign "staff"
        rule "b" when user.emial == "x" and lowr(user.name) == "y" assign "staff"

        """

    @Test func lifecycleAnswersBeforeInitializeAndExitsZeroAfterShutdown() throws {
        let client = try LSPClient()
        let early = try client.request("textDocument/hover", [:])
        #expect((early["error"] as? [String: Any])?["code"] as? Int == -32002)
        let answer = try client.start(root: nil)
        let capabilities = (answer["result"] as? [String: Any])?["capabilities"] as? [String: Any]
        #expect(capabilities?["documentFormattingProvider"] as? Bool == true)
        #expect(capabilities?["hoverProvider"] as? Bool == true)
        #expect((capabilities?["textDocumentSync"] as? [String: Any])?["change"] as? Int == 2)
        let shutdown = try client.request("shutdown")
        #expect(shutdown.keys.contains("result") && shutdown["error"] == nil)
        try client.notify("exit")
        #expect(try client.finish() == 0)
    }

    @Test func exitWithoutShutdownIsStatusOne() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        try client.notify("exit")
        #expect(try client.finish() == 1)
    }

    @Test func threeMistakesThenTheirQuickFixesLeaveNone() throws {
        let client = try LSPClient()
        try client.start(root: try Self.workspace())
        let uri = "file:///nowhere/x.rules"
        try Self.open(client, uri, Self.threeMistakes)
        let found = try client.diagnostics(for: uri)
        #expect(found.map { $0["code"] as? String } == ["unknown-root", "unknown-field", "unknown-function"])
        #expect(found.map { rangeList($0["range"]) } == [[0, 20, 0, 23], [1, 14, 1, 24], [1, 36, 1, 40]])
        #expect(found.map { $0["severity"] as? Int } == [1, 2, 1])
        #expect(found.allSatisfy { $0["source"] as? String == "rolecall" })
        #expect(found.first?["message"] as? String == "unknown field `usr`\nhelp: did you mean `user`?")

        let actions = try client.request(
            "textDocument/codeAction",
            [
                "textDocument": ["uri": uri],
                "range": ["start": ["line": 0, "character": 0], "end": ["line": 2, "character": 0]],
                "context": ["diagnostics": found],
            ])
        let list = actions["result"] as? [[String: Any]] ?? []
        #expect(list.count == 3)
        #expect(list.allSatisfy { $0["kind"] as? String == "quickfix" })
        let edits = list.flatMap { action -> [[String: Any]] in
            let changes = (action["edit"] as? [String: Any])?["changes"] as? [String: Any]
            return changes?[uri] as? [[String: Any]] ?? []
        }
        let fixed = applying(edits, to: Self.threeMistakes)
        #expect(
            fixed == """
                rule "café 😀" when user.email == "a" assign "staff"
                rule "b" when user.email == "x" and lower(user.name) == "y" assign "staff"

                """)
        try client.notify(
            "textDocument/didChange",
            ["textDocument": ["uri": uri, "version": 2], "contentChanges": [["text": fixed]]])
        #expect(try client.diagnostics(for: uri).isEmpty)
    }

    @Test func aMisspeltKeywordHasAQuickFixAndOtherErrorsNone() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/k.rules"
        try Self.open(client, uri, "rul \"k\" when true assign \"y\"\nrule \"n\" when user.email == 1 assign \"z\"\n")
        let found = try client.diagnostics(for: uri)
        #expect(
            found.map { $0["code"] as? String } == ["unknown-keyword", "constant-condition", "type-mismatch"],
            "\(found)")
        let actions = try client.request(
            "textDocument/codeAction",
            [
                "textDocument": ["uri": uri],
                "range": ["start": ["line": 0, "character": 0], "end": ["line": 1, "character": 40]],
                "context": ["diagnostics": found],
            ])
        let list = actions["result"] as? [[String: Any]] ?? []
        #expect(list.map { $0["title"] as? String } == ["change `rul` to `rule`"])
        let changes = (list.first?["edit"] as? [String: Any])?["changes"] as? [String: Any]
        let edit = (changes?[uri] as? [[String: Any]])?.first
        #expect(edit?["newText"] as? String == "rule")
        #expect(rangeList(edit?["range"]) == [0, 0, 0, 3])
    }

    @Test func aRangeEditIsAppliedInUTF16Positions() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/r.rules"
        try Self.open(client, uri, "rule \"😀\" when user.email == \"a\" assign \"x\"\n")
        #expect(try client.diagnostics(for: uri).isEmpty)
        // Replace `email` (after two UTF-16 units for the emoji) by `emial`.
        try client.notify(
            "textDocument/didChange",
            [
                "textDocument": ["uri": uri, "version": 2],
                "contentChanges": [
                    [
                        "range": ["start": ["line": 0, "character": 20], "end": ["line": 0, "character": 25]],
                        "text": "emial",
                    ]
                ],
            ])
        let found = try client.diagnostics(for: uri)
        #expect(found.map { $0["code"] as? String } == ["unknown-field"])
        #expect(found.map { rangeList($0["range"]) } == [[0, 15, 0, 25]])
    }

    /// The golden files of the language tests, as a workspace folder: each file's diagnostics are those of
    /// `rules check --format json` on the same folder, code, severity, message, help and range alike.
    @Test func diagnosticsAreThoseOfRulesCheck() throws {
        let root = LSPClient.root + "/Tests/RolecallLanguageTests/Golden"
        let check = Process()
        check.executableURL = URL(fileURLWithPath: LSPClient.binary)
        check.arguments = ["check", root, "--format", "json", "--max-diagnostics", "100000"]
        let pipe = Pipe()
        check.standardOutput = pipe
        try check.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        check.waitUntilExit()
        let report = try JSONSerialization.jsonObject(with: output) as? [String: Any]
        let expected = report?["diagnostics"] as? [[String: Any]] ?? []
        #expect(expected.count > 20)

        let client = try LSPClient()
        try client.start(root: root)
        for path in Set(expected.compactMap { $0["file"] as? String }).sorted() {
            let published = try client.diagnostics(for: Self.uri(path))
            let wanted = expected.filter { $0["file"] as? String == path }
            #expect(published.count == wanted.count, "\(path)")
            for (lsp, cli) in zip(published, wanted) {
                let numbers = ["line", "column", "endLine", "endColumn"].map { (cli[$0] as? Int ?? 0) - 1 }
                #expect(rangeList(lsp["range"]) == numbers, "\(path): \(cli)")
                #expect(lsp["code"] as? String == cli["code"] as? String)
                #expect(lsp["severity"] as? Int == (cli["severity"] as? String == "error" ? 1 : 2))
                var message = cli["message"] as? String ?? ""
                if let help = cli["help"] as? String { message += "\nhelp: " + help }
                #expect(lsp["message"] as? String == message)
                let notes = cli["notes"] as? [[String: Any]] ?? []
                #expect((lsp["relatedInformation"] as? [Any] ?? []).count == notes.filter { $0["line"] != nil }.count)
            }
        }
    }

    @Test func duplicateRuleNamesAcrossFilesPointAtTheOther() throws {
        let root = try Self.workspace()
        let onDisk = root + "/a.rules"
        try "rule \"same\" when user.email_verified assign \"x\"\n".write(
            toFile: onDisk, atomically: true, encoding: .utf8)
        let client = try LSPClient()
        try client.start(root: root)
        let uri = Self.uri(root + "/b.rules")
        try Self.open(client, uri, "rule \"same\" when true assign \"y\"\n")
        let found = try client.diagnostics(for: uri)
        let duplicate = found.first { $0["code"] as? String == "duplicate-rule" }
        #expect(duplicate != nil, "\(found)")
        let related = duplicate?["relatedInformation"] as? [[String: Any]]
        #expect((related?.first?["location"] as? [String: Any])?["uri"] as? String == Self.uri(onDisk))
    }

    @Test func completionAfterUserListsItsFieldsWithTypes() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/c.rules"
        try Self.open(
            client, uri, "rule \"c\" when user. assign \"st\"\nrule \"d\" when true assign \"staff\", \"eu\"\n")
        let answer = try client.request(
            "textDocument/completion",
            ["textDocument": ["uri": uri], "position": ["line": 0, "character": 19]])
        let items = (answer["result"] as? [String: Any])?["items"] as? [[String: Any]] ?? []
        let email = items.first { $0["label"] as? String == "email" }
        #expect(email?["detail"] as? String == "a string")
        #expect(items.contains { $0["label"] as? String == "identities" })
        #expect(!items.contains { $0["label"] as? String == "request" })

        // Inside `assign "st`: the roles of the workspace, replacing what is written of the name.
        let roles = try client.request(
            "textDocument/completion",
            ["textDocument": ["uri": uri], "position": ["line": 0, "character": 30]])
        let roleItems = (roles["result"] as? [String: Any])?["items"] as? [[String: Any]] ?? []
        #expect(Set(roleItems.compactMap { $0["label"] as? String }).isSuperset(of: ["staff", "eu"]))
        let edit = roleItems.first { $0["label"] as? String == "staff" }?["textEdit"] as? [String: Any]
        #expect(rangeList(edit?["range"]) == [0, 28, 0, 30])

        // After a quantifier's name, the fields of its list's elements; a name bound to itself has none.
        try client.notify(
            "textDocument/didChange",
            [
                "textDocument": ["uri": uri, "version": 2],
                "contentChanges": [["text": "when any(authentication.methods, m, m.) or any(m, m, m.) assign \"x\"\n"]],
            ])
        let fields = try client.request(
            "textDocument/completion", ["textDocument": ["uri": uri], "position": ["line": 0, "character": 38]])
        let fieldItems = (fields["result"] as? [String: Any])?["items"] as? [[String: Any]] ?? []
        #expect(fieldItems.compactMap { $0["label"] as? String } == ["name", "timestamp", "type"])
        let none = try client.request(
            "textDocument/completion", ["textDocument": ["uri": uri], "position": ["line": 0, "character": 55]])
        #expect(((none["result"] as? [String: Any])?["items"] as? [[String: Any]])?.isEmpty == true)
    }

    /// Two roles that print alike are labelled apart, each inserting its own bytes as escapes; the string being
    /// typed is not offered as the empty role.
    @Test func completionLabelsRolesThatPrintAlikeApart() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/alike.rules"
        try Self.open(
            client, uri, "rule \"a\" assign \"caf\u{E9}\"\nrule \"b\" assign \"cafe\u{301}\"\nrule \"c\" assign \"\n")
        let answer = try client.request(
            "textDocument/completion", ["textDocument": ["uri": uri], "position": ["line": 2, "character": 17]])
        let items = (answer["result"] as? [String: Any])?["items"] as? [[String: Any]] ?? []
        #expect(items.compactMap { $0["label"] as? String } == [#""cafe\u{301}""#, #""caf\u{e9}""#], "\(answer)")
        let inserted = items.compactMap { ($0["textEdit"] as? [String: Any])?["newText"] as? String }
        #expect(inserted == [#"cafe\u{301}"#, #"caf\u{e9}"#])
    }

    @Test func hoverOnAFieldShowsItsType() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/h.rules"
        try Self.open(client, uri, "rule \"h\" when user.email_verified assign \"staff\"\n")
        let answer = try client.request(
            "textDocument/hover", ["textDocument": ["uri": uri], "position": ["line": 0, "character": 22]])
        let result = answer["result"] as? [String: Any]
        let value = (result?["contents"] as? [String: Any])?["value"] as? String
        #expect(value?.hasPrefix("`user.email_verified`: a boolean") == true, "\(answer)")
        #expect(rangeList(result?["range"]) == [0, 19, 0, 33])

        let role = try client.request(
            "textDocument/definition", ["textDocument": ["uri": uri], "position": ["line": 0, "character": 44]])
        let locations = role["result"] as? [[String: Any]] ?? []
        #expect(locations.map { rangeList($0["range"]) } == [[0, 41, 0, 48]])
    }

    @Test func aLetNameHoversWithItsDefinitionAndLeadsToIt() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/l.rules"
        try Self.open(
            client, uri, "let staff = user.email ends_with \"@acme.com\"\n\nrule \"l\" when staff assign \"s\"\n")
        let hover = try client.request(
            "textDocument/hover", ["textDocument": ["uri": uri], "position": ["line": 2, "character": 16]])
        let value = ((hover["result"] as? [String: Any])?["contents"] as? [String: Any])?["value"] as? String
        #expect(value?.contains("let staff = user.email ends_with \"@acme.com\"") == true, "\(hover)")
        let definition = try client.request(
            "textDocument/definition", ["textDocument": ["uri": uri], "position": ["line": 2, "character": 16]])
        let locations = definition["result"] as? [[String: Any]] ?? []
        #expect(locations.map { rangeList($0["range"]) } == [[0, 4, 0, 9]])

        let symbols = try client.request("textDocument/documentSymbol", ["textDocument": ["uri": uri]])
        let list = symbols["result"] as? [[String: Any]] ?? []
        #expect(list.map { $0["name"] as? String } == ["staff", "l"])
        #expect(list.map { $0["kind"] as? Int } == [13, 12])
        #expect(list.map { rangeList($0["range"]) } == [[0, 0, 0, 44], [2, 0, 2, 30]])
    }

    /// Found by an attacker: a rule named `"a\u{202e}b"` reached the editor's outline with U+202E as itself. The
    /// outline, the roles in its detail and the rules a role's hover lists show hidden scalars written out, as
    /// messages do.
    @Test func theOutlineAndHoverWriteHiddenScalarsOut() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/h.rules"
        try Self.open(
            client, uri,
            "rule \"a\\u{202e}b\" when user.email_verified assign \"r\\u{200b}\"\nrule \"c\\u{202e}d\" assign \"s\"\n")
        let symbols = try client.request("textDocument/documentSymbol", ["textDocument": ["uri": uri]])
        let list = symbols["result"] as? [[String: Any]] ?? []
        #expect(list.map { $0["name"] as? String } == [#"a\u{202e}b"#, #"c\u{202e}d"#], "\(symbols)")
        #expect(list.map { $0["detail"] as? String } == [#"assign "r\u{200b}""#, #"assign "s""#], "\(symbols)")
        let hover = try client.request(
            "textDocument/hover", ["textDocument": ["uri": uri], "position": ["line": 1, "character": 26]])
        let value = ((hover["result"] as? [String: Any])?["contents"] as? [String: Any])?["value"] as? String
        #expect(value?.hasPrefix("role `s`") == true, "\(hover)")
        #expect(value?.contains(#"- `"c\u{202e}d"` (`/nowhere/h.rules:2`)"#) == true, "\(hover)")
        #expect(value?.unicodeScalars.contains("\u{202E}") == false, "\(hover)")
    }

    /// A role written with an escape (`"r\u{200b}"`) is the role its value names: hover and go to definition
    /// found nothing, as they looked the escape's text up as written.
    @Test func aRoleWrittenWithAnEscapeHoversAndLeadsToItsRules() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/e.rules"
        try Self.open(
            client, uri,
            "rule \"a\" assign \"r\\u{200b}\"\nrule \"b\" when \"r\\u{200b}\" in authorization.roles revoke \"x\"\n")
        let hover = try client.request(
            "textDocument/hover", ["textDocument": ["uri": uri], "position": ["line": 0, "character": 19]])
        let value = ((hover["result"] as? [String: Any])?["contents"] as? [String: Any])?["value"] as? String
        #expect(value?.hasPrefix(#"role `r\u{200b}`"#) == true, "\(hover)")
        #expect(value?.contains(#"- `"a"` (`/nowhere/e.rules:1`)"#) == true, "\(hover)")
        let definition = try client.request(
            "textDocument/definition", ["textDocument": ["uri": uri], "position": ["line": 1, "character": 16]])
        let locations = definition["result"] as? [[String: Any]] ?? []
        #expect(locations.map { rangeList($0["range"]) } == [[0, 16, 0, 27]], "\(definition)")
    }

    /// A role or rule name holding a backtick or Markdown's own characters is shown as written: the hover fenced
    /// it with one backtick, so `` ` `` ended the code span and the rest read as Markdown.
    @Test func aHoverShowsNamesWithBackticksAndMarkdownAsWritten() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/m.rules"
        try Self.open(client, uri, "rule \"*b* <i>\" assign \"a`b``c\"\nrule \"`x\" assign \"a`b``c\"\n")
        let hover = try client.request(
            "textDocument/hover", ["textDocument": ["uri": uri], "position": ["line": 0, "character": 24]])
        let value = ((hover["result"] as? [String: Any])?["contents"] as? [String: Any])?["value"] as? String
        #expect(value?.hasPrefix("role ```a`b``c```") == true, "\(hover)")
        #expect(value?.contains(#"- `"*b* <i>"` (`/nowhere/m.rules:1`)"#) == true, "\(hover)")
        #expect(value?.contains(#"- ``"`x"`` (`/nowhere/m.rules:2`)"#) == true, "\(hover)")
    }

    @Test func formattingReplacesTheDocumentOnceAndThenNothing() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/f.rules"
        try Self.open(client, uri, "rule \"f\"   when user.email_verified assign \"staff\"\n")
        let params: [String: Any] = [
            "textDocument": ["uri": uri], "options": ["tabSize": 2, "insertSpaces": true],
        ]
        let edits = try client.request("textDocument/formatting", params)["result"] as? [[String: Any]] ?? []
        #expect(edits.count == 1)
        let formatted = edits.first?["newText"] as? String
        #expect(formatted == "rule \"f\"\nwhen user.email_verified\nassign \"staff\"\n")
        try client.notify(
            "textDocument/didChange",
            ["textDocument": ["uri": uri, "version": 2], "contentChanges": [["text": formatted ?? ""]]])
        let again = try client.request("textDocument/formatting", params)["result"] as? [[String: Any]]
        #expect(again?.isEmpty == true)
    }

    /// Format-on-save uses `rules fmt`'s formatter: an escape in a string stays an escape.
    @Test func formattingKeepsTheEscapesOfStrings() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/e.rules"
        try Self.open(client, uri, "rule \"e\"   when user.email == \"a\\u{202e}b\\u{200b}\" assign \"s\\u{e9}\"\n")
        let params: [String: Any] = [
            "textDocument": ["uri": uri], "options": ["tabSize": 2, "insertSpaces": true],
        ]
        let edits = try client.request("textDocument/formatting", params)["result"] as? [[String: Any]] ?? []
        #expect(
            edits.first?["newText"] as? String
                == "rule \"e\"\nwhen user.email == \"a\\u{202e}b\\u{200b}\"\nassign \"s\\u{e9}\"\n")
    }

    @Test func badInputGetsProtocolAnswersAndTheStreamGoesOn() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        // Malformed JSON: a parse error with a null id.
        client.sendRaw(Data("Content-Length: 9\r\n\r\n{bad json".utf8))
        let parse = try client.receive()
        #expect((parse["error"] as? [String: Any])?["code"] as? Int == -32700)
        #expect(parse["id"] is NSNull)
        // A header section without Content-Length: answered, then the next message is read.
        client.sendRaw(Data("X-Nonsense: 1\r\n\r\n".utf8))
        #expect((try client.receive()["error"] as? [String: Any])?["code"] as? Int == -32700)
        // An unknown notification gets no answer; an unknown request gets method-not-found.
        try client.notify("rolecall/unheardOf")
        let unknown = try client.request("rolecall/unheardOf")
        #expect((unknown["error"] as? [String: Any])?["code"] as? Int == -32601)
        #expect(client.notifications.isEmpty, "\(client.notifications)")
        // Invalid params.
        let invalid = try client.request("textDocument/hover", ["textDocument": 3])
        #expect((invalid["error"] as? [String: Any])?["code"] as? Int == -32602)
        // A message over the limit is discarded, and the stream stays in step.
        let huge = 17 << 20
        client.sendRaw(Data("Content-Length: \(huge)\r\n\r\n".utf8) + Data(repeating: 0x20, count: huge))
        let tooLarge = try client.receive()
        #expect((tooLarge["error"] as? [String: Any])?["code"] as? Int == -32600)
        // A header without Content-Length followed by a body, then a Content-Length four bytes short of its body:
        // each answered, and the stream recovers (found by attacking the server: bodies do not end in a newline,
        // so a resync that waited for a line start never came back and every later message was dropped).
        client.sendRaw(Data("Content-Type: application/json\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":7}".utf8))
        #expect((try client.receive()["error"] as? [String: Any])?["code"] as? Int == -32700)
        let body = #"{"jsonrpc":"2.0","id":8,"method":"rolecall/unheardOf"}"#
        client.sendRaw(Data("Content-Length: \(body.utf8.count - 4)\r\n\r\n\(body)".utf8))
        #expect((try client.receive()["error"] as? [String: Any])?["code"] as? Int == -32700)
        // The four bytes left over spoil the next header: that message is answered as unreadable and skipped.
        let next = #"{"jsonrpc":"2.0","id":9,"method":"rolecall/unheardOf"}"#
        client.sendRaw(Data("Content-Length: \(next.utf8.count)\r\n\r\n\(next)".utf8))
        #expect((try client.receive()["error"] as? [String: Any])?["code"] as? Int == -32700)
        let still = try client.request("shutdown")
        #expect(still.keys.contains("result"))
        try client.notify("exit")
        #expect(try client.finish() == 0)
    }

    @Test func textThatIsNotUTF8IsAnsweredOrReported() throws {
        let root = try Self.workspace()
        // On disk: the checker's own diagnostic, at the bad byte.
        let bad = Data("rule \"a\" when user.email == \"".utf8) + Data([0xFF]) + Data("\" assign \"x\"\n".utf8)
        try bad.write(to: URL(fileURLWithPath: root + "/bad.rules"))
        let client = try LSPClient()
        try client.start(root: root)
        let found = try client.diagnostics(for: Self.uri(root + "/bad.rules"))
        #expect(found.map { $0["code"] as? String } == ["invalid-utf8"], "\(found)")
        #expect(found.map { rangeList($0["range"]) } == [[0, 29, 0, 30]])
        // In a message: the JSON is not valid, a parse error; the server goes on.
        let body =
            Data(#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"#.utf8)
            + Data(#""file:///nowhere/u.rules","languageId":"rolecall","version":1,"text":""#.utf8) + Data([0xFF])
            + Data(#""}}}"#.utf8)
        client.sendRaw(Data("Content-Length: \(body.count)\r\n\r\n".utf8) + body)
        let answer = try client.receive()
        #expect((answer["error"] as? [String: Any])?["code"] as? Int == -32700, "\(answer)")
        #expect(try client.request("shutdown").keys.contains("result"))
    }

    @Test func aContentTypeHeaderIsAcceptedAndClosingClearsDiagnostics() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/closed.rules"
        let open = try JSONSerialization.data(withJSONObject: [
            "jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": [
                "textDocument": [
                    "uri": uri, "languageId": "rolecall", "version": 1,
                    "text": "rule \"a\" when usr.x assign \"y\"\n",
                ]
            ],
        ])
        client.sendRaw(
            Data(
                "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: \(open.count)\r\n\r\n".utf8)
                + open)
        #expect(try client.diagnostics(for: uri).map { $0["code"] as? String } == ["unknown-root"])
        try client.notify("textDocument/didClose", ["textDocument": ["uri": uri]])
        #expect(try client.diagnostics(for: uri).isEmpty)
        let gone = try client.request(
            "textDocument/hover", ["textDocument": ["uri": uri], "position": ["line": 0, "character": 0]])
        #expect((gone["error"] as? [String: Any])?["code"] as? Int == -32602)
    }

    @Test func aTenMegabyteDocumentIsChecked() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/big.rules"
        let comment = "# " + String(repeating: "x", count: 97) + "\n"
        let text = String(repeating: comment, count: 100_000) + "rule \"big\" when usr.email == \"a\" assign \"x\"\n"
        try Self.open(client, uri, text)
        let found = try client.diagnostics(for: uri)
        #expect(found.map { rangeList($0["range"]) } == [[100_000, 16, 100_000, 19]])
    }

    /// Role names are their bytes: `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, though Swift's `String` finds
    /// them equal. Completion offers both, each inserting its own bytes as a literal's escapes; a role's
    /// definition is where its own spelling is assigned.
    @Test func theTwoSpellingsOfARoleAreTwoRoles() throws {
        let client = try LSPClient()
        try client.start(root: nil)
        let uri = "file:///nowhere/s.rules"
        try Self.open(
            client, uri,
            "rule \"a\" assign \"caf\u{E9}\"\nrule \"b\" assign \"cafe\u{301}\"\nrule \"c\" revoke \"cafe\u{301}\", \"x\"\n"
                + #"rule "d" assign "q\"r", "z\u{200b}w""# + "\n"
        )
        let definition = try client.request(
            "textDocument/definition", ["textDocument": ["uri": uri], "position": ["line": 2, "character": 18]])
        let locations = definition["result"] as? [[String: Any]] ?? []
        #expect(locations.map { rangeList($0["range"]).first } == [1], "\(definition)")
        let completion = try client.request(
            "textDocument/completion", ["textDocument": ["uri": uri], "position": ["line": 2, "character": 26]])
        let items = (completion["result"] as? [String: Any])?["items"] as? [[String: Any]] ?? []
        let inserted = items.compactMap { ($0["textEdit"] as? [String: Any])?["newText"] as? String }
        // Each arrives as a string literal's contents: the look-alikes with their scalars written out, a quote and
        // a hidden character escaped.
        #expect(
            inserted.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                == [#"caf\u{e9}"#, #"cafe\u{301}"#, #"q\"r"#, "x", #"z\u{200b}w"#], "\(inserted)")
    }

    /// Writes `text` to the file named by `name`'s bytes in `directory` (Foundation's paths are strings, and a
    /// name that is not UTF-8 is not one).
    static func write(_ text: String, named name: [UInt8], in directory: String) throws {
        let path = Array(directory.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = path.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { Glibc.open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        }
        try #require(fd >= 0)
        defer { close(fd) }
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) } == bytes.count)
    }

    /// The workspace scan reads a directory by its names' bytes: `x\xe9.rules` (not UTF-8) is checked under its
    /// own URI (`%E9`), and `x` + U+10FFE9 + `.rules` (valid UTF-8 spelling a code point of the range raw bytes
    /// are carried in) is read from itself, not from `x\xe9.rules`, and published under its own URI.
    @Test func theWorkspaceScanReadsFilesByTheirNamesBytes() throws {
        let root = try Self.workspace()
        try Self.write(
            "rule \"b\" when usr.x assign \"y\"\n", named: Array("x".utf8) + [0xE9] + Array(".rules".utf8), in: root)
        try Self.write(
            "rule \"c\" when lowr(user.name) == \"y\" assign \"y\"\n", named: Array("x\u{10FFE9}.rules".utf8), in: root)
        let client = try LSPClient()
        try client.start(root: root)
        let real = try client.diagnostics(for: "file://" + root + "/x%F4%8F%BF%A9.rules")
        #expect(real.map { $0["code"] as? String } == ["unknown-function"], "\(real)")
        let raw = try client.diagnostics(for: "file://" + root + "/x%E9.rules")
        #expect(raw.map { $0["code"] as? String } == ["unknown-root"], "\(raw)")
        #expect(try client.request("shutdown").keys.contains("result"))
    }
}
