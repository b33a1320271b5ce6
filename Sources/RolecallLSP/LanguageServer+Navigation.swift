import RolecallEngine
import RolecallLanguage

extension LanguageServer {
    /// `textDocument/completion`: inside `assign "`/`revoke "` the roles the workspace's rules name; after
    /// `user.` (or a quantifier's name, `m.`) the fields the schema knows there, with their types; elsewhere
    /// the event's top-level fields, `let` names, keywords, functions and operators.
    func completion(_ params: JSONValue?) -> Result<JSONValue, ResponseError> {
        let file: Workspace.CheckedFile
        let cursor: Int
        switch document(params).flatMap({ found in offset(params, in: found).map { (found, $0) } }) {
        case .success(let found): (file, cursor) = found
        case .failure(let error): return .failure(error)
        }
        let bytes = file.file.bytes
        let line = file.lines.line(of: cursor)
        let before = Array(bytes[file.lines.lineStarts[line]..<cursor])
        var items: [JSONValue] = []
        func item(
            _ label: String, kind: Int, detail: String? = nil, replacing from: Int? = nil, text: String? = nil
        ) -> JSONValue {
            var members: [(key: String, value: JSONValue)] = [("label", .text(label)), ("kind", .int(kind))]
            if let detail { members.append(("detail", .text(detail))) }
            // A label shown differently from what is inserted is still matched by what the author types.
            if let text, text != label { members.append(("filterText", .text(text))) }
            if let from {
                members.append(
                    (
                        "textEdit",
                        .members([
                            "range": file.lines.range(Span(from, cursor)), "newText": .text(text ?? label),
                        ])
                    ))
            }
            return .object(members)
        }
        switch SourceContext.at(before) {
        case .comment:
            break
        case .string(let quote, let roleList):
            guard roleList else { break }
            let from = cursor - (before.count - quote - 1)
            // The string being typed is a mention of the empty role until it is finished: not a role to offer.
            let roles = workspace.roleMentions().filter { !$0.key.string.isEmpty }.sorted(by: { $0.key < $1.key })
            // Two roles that print alike (`caf\u{e9}`, `cafe\u{301}`) are labelled with their scalars written out.
            let shown = Spellings(roles.map(\.key.string))
            for (role, mentions) in roles {
                let rules = Set(mentions.map(\.ruleName)).count
                var detail = "role, in \(rules) rule\(rules == 1 ? "" : "s")"
                if shown.alike.contains(role) { detail += "; another role prints like it with different bytes" }
                // What is typed between the quotes: the role as a string literal's contents, so `"`, `\\` and
                // hidden characters arrive escaped (and a look-alike with every non-ASCII scalar escaped).
                let literal = shown.alike.contains(role) ? Spelling.literal(role.string) : Spelling.quoted(role.string)
                let contents = String(literal.dropFirst().dropLast())
                items.append(item(shown.inline(role.string), kind: 12, detail: detail, replacing: from, text: contents))
            }
        case .path(let parents, let partial):
            let from = cursor - partial.utf8.count
            guard let type = resolve(parents, before: cursor, in: file) else { break }
            switch type {
            case .object(let fields):
                for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
                    items.append(item(name, kind: 5, detail: field.phrase, replacing: from))
                }
            default:
                break
            }
        case .word(let partial):
            let from = cursor - partial.utf8.count
            if case .object(let fields) = EventSchema.root {
                for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
                    items.append(item(name, kind: 5, detail: field.phrase, replacing: from))
                }
            }
            items.append(item("logins_count", kind: 5, detail: "a number: stats.logins_count", replacing: from))
            for name in bindingNames() { items.append(item(name, kind: 6, detail: "let", replacing: from)) }
            for keyword in Keyword.allCases { items.append(item(keyword.rawValue, kind: 14, replacing: from)) }
            items.append(item("all", kind: 14, detail: "revoke all / all(LIST, NAME, CONDITION)", replacing: from))
            items.append(item("except", kind: 14, detail: "revoke all except ROLE, ...", replacing: from))
            items.append(item("any", kind: 3, detail: "any(LIST, NAME, CONDITION)", replacing: from))
            for function in Function.allCases {
                items.append(item(function.rawValue, kind: 3, detail: Self.signature(function), replacing: from))
            }
            for op in ["==", "!=", "<", "<=", ">", ">="] { items.append(item(op, kind: 24)) }
        }
        return .success(.members(["isIncomplete": false, "items": .array(items)]))
    }

    /// `textDocument/hover`: a field's type and what it holds, a function's signature, or for a role name the
    /// rules that assign and revoke it.
    func hover(_ params: JSONValue?) -> Result<JSONValue, ResponseError> {
        let file: Workspace.CheckedFile
        let cursor: Int
        switch document(params).flatMap({ found in offset(params, in: found).map { (found, $0) } }) {
        case .success(let found): (file, cursor) = found
        case .failure(let error): return .failure(error)
        }
        if let (role, span) = roleString(at: cursor, in: file),
            let mentions = workspace.roleMentions()[ExactString(role)]
        {
            // The role and the rules' names with their hidden scalars written out, as the outline shows them.
            var text = "role \(Self.code(Spelling.visible(role)))"
            for (kind, verb) in [
                (RoleMention.Kind.assign, "assigned"), (.revoke, "revoked"), (.except, "kept by `revoke all except`"),
            ] {
                let rules = mentions.filter { $0.kind == kind }
                guard !rules.isEmpty else { continue }
                text += "\n\n\(verb) by:\n"
                for mention in rules {
                    let line = mention.file.location(of: mention.span.start).line
                    let location = "\(FileName.visible(mention.file.path)):\(line)"
                    text += "\n- \(Self.code(Spelling.quoted(mention.ruleName))) (\(Self.code(location)))"
                }
            }
            return .success(markdown(text, file.lines.range(span)))
        }
        guard let (path, span) = pathWord(at: cursor, in: file) else { return .success(.null) }
        if path.count == 1, let binding = bindings()[path[0]] {
            var source = binding.file.text(binding.span)
            if source.count > 500 { source = String(source.prefix(500)) + " ..." }
            let line = binding.file.location(of: binding.span.start).line
            return .success(
                markdown(
                    Self.codeBlock(source) + "\n\n" + Self.code("\(FileName.visible(binding.file.path)):\(line)"),
                    file.lines.range(span)))
        }
        if path.count == 1, let function = Function(rawValue: path[0]) {
            return .success(markdown("```\n\(Self.signature(function))\n```", file.lines.range(span)))
        }
        guard let type = resolve(path, before: cursor, in: file) else { return .success(.null) }
        var text = "`\(path.joined(separator: "."))`: \(type.phrase)"
        if let description = FieldDescriptions.text[path.joined(separator: ".")] { text += "\n\n" + description }
        return .success(markdown(text, file.lines.range(span)))
    }

    /// `textDocument/definition`: from a role name to where rules assign it (or, for a role no rule assigns,
    /// where they revoke it), and from a `let` name to its definition.
    func definition(_ params: JSONValue?) -> Result<JSONValue, ResponseError> {
        let file: Workspace.CheckedFile
        let cursor: Int
        switch document(params).flatMap({ found in offset(params, in: found).map { (found, $0) } }) {
        case .success(let found): (file, cursor) = found
        case .failure(let error): return .failure(error)
        }
        guard let (role, _) = roleString(at: cursor, in: file),
            let mentions = workspace.roleMentions()[ExactString(role)]
        else {
            guard let (path, _) = pathWord(at: cursor, in: file), path.count == 1,
                let binding = bindings()[path[0]], let uri = workspace.uri(of: binding.file),
                let lines = workspace.files[uri]?.lines
            else { return .success(.null) }
            return .success(.array([.members(["uri": .text(uri), "range": lines.range(binding.nameSpan)])]))
        }
        let assigning = mentions.filter { $0.kind == .assign }
        let locations: [JSONValue] = (assigning.isEmpty ? mentions : assigning).compactMap { mention in
            guard let uri = workspace.uri(of: mention.file), let lines = workspace.files[uri]?.lines else { return nil }
            return .members(["uri": .text(uri), "range": lines.range(mention.span)])
        }
        return .success(.array(locations))
    }

    /// `text` as a Markdown code span, whatever it holds: fenced with one backtick more than its longest run of
    /// them, and padded with a space where it starts or ends with one (CommonMark), so that a name with a backtick,
    /// a `*` or a `<` shows as written rather than as formatting.
    static func code(_ text: String) -> String {
        let fence = String(repeating: "`", count: longestBacktickRun(text) + 1)
        let padding = text.hasPrefix("`") || text.hasSuffix("`") ? " " : ""
        return fence + padding + text + padding + fence
    }

    /// `text` as a fenced Markdown code block, its fence longer than any run of backticks in it.
    static func codeBlock(_ text: String) -> String {
        let fence = String(repeating: "`", count: max(3, longestBacktickRun(text) + 1))
        return fence + "\n" + text + "\n" + fence
    }

    static func longestBacktickRun(_ text: String) -> Int {
        var longest = 0
        var run = 0
        for character in text.unicodeScalars {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }

    func markdown(_ text: String, _ range: JSONValue) -> JSONValue {
        .members(["contents": .members(["kind": "markdown", "value": .text(text)]), "range": range])
    }

    static func signature(_ function: Function) -> String {
        switch function {
        case .lower: "lower(string) -> string"
        case .upper: "upper(string) -> string"
        case .length: "length(string | list | object) -> number"
        case .daysSince: "days_since(timestamp) -> number"
        }
    }

    /// The `let` names of every file of the workspace.
    func bindingNames() -> [String] { bindings().keys.sorted() }

    /// The `let` declarations of every file of the workspace by name (the first, when a name is declared twice).
    func bindings() -> [String: Binding] {
        var found: [String: Binding] = [:]
        for file in workspace.checked?.files ?? [] {
            for case .binding(let binding) in Parser.parseDeclarations(file).declarations
            where found[binding.name] == nil {
                found[binding.name] = binding
            }
        }
        return found
    }

    /// The schema type of `path` (names as written), read in `file` before `cursor`: a quantifier's name there
    /// stands for an element of its list, and an alias (`logins_count`) for its path.
    ///
    /// `depth` counts the quantifiers looked through, so `any(m, m, m.` cannot send it round for ever.
    func resolve(_ path: [String], before cursor: Int, in file: Workspace.CheckedFile, depth: Int = 0) -> FieldType? {
        guard let first = path.first, depth < 16 else { return nil }
        var type: FieldType
        var rest = path.dropFirst()
        let (name, steps) = Self.splitIndexes(first)
        if let local = Self.quantifierList(named: name, before: cursor, in: file.file.bytes),
            case .list(let element)? = resolve(local, before: cursor - 1, in: file, depth: depth + 1)
        {
            type = element
        } else if let alias = EventSchema.aliases[name] {
            rest = alias.dropFirst() + rest
            guard case .object(let fields) = EventSchema.root, let found = fields[alias[0]] else { return nil }
            type = found
        } else {
            guard case .object(let fields) = EventSchema.root, let found = fields[name] else { return nil }
            type = found
        }
        for _ in 0..<steps {
            guard case .list(let element) = type else { return nil }
            type = element
        }
        for segment in rest {
            let (name, steps) = Self.splitIndexes(segment)
            switch type {
            case .object(let fields):
                guard let next = fields[name] else { return nil }
                type = next
            case .map(let value): type = value
            default: return nil
            }
            for _ in 0..<steps {
                guard case .list(let element) = type else { return nil }
                type = element
            }
        }
        return type
    }

    /// `identities[0]` as `("identities", 1)`: the name and how many index steps follow it.
    static func splitIndexes(_ segment: String) -> (String, Int) {
        guard let bracket = segment.firstIndex(of: "[") else { return (segment, 0) }
        return (String(segment[..<bracket]), segment.filter { $0 == "[" }.count)
    }

    /// The list path of the innermost `any(LIST, NAME, ...)` / `all(...)` binding `name` before `cursor`, if any.
    static func quantifierList(named name: String, before cursor: Int, in bytes: [UInt8]) -> [String]? {
        let window = String(decoding: bytes[max(0, cursor - 4096)..<cursor], as: UTF8.self)
        var found: [String]?
        for opener in ["any(", "all("] {
            var search = window[...]
            while let range = search.firstRange(of: opener) {
                let after = search[range.upperBound...]
                let parts = after.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
                if parts.count >= 2, parts[1].trimmingCharacters == name {
                    let list = parts[0].trimmingCharacters
                    if !list.isEmpty, list.allSatisfy({ $0.isLetter || $0.isNumber || "_.[]".contains($0) }) {
                        found = list.split(separator: ".").map(String.init)
                    }
                }
                search = after
            }
        }
        return found
    }

    /// The string literal around `cursor` on its line, when its value is a role some rule names.
    func roleString(at cursor: Int, in file: Workspace.CheckedFile) -> (String, Span)? {
        let lines = file.lines
        let line = lines.line(of: cursor)
        let start = lines.lineStarts[line]
        let end = lines.lineEnd(line)
        let bytes = file.file.bytes
        var index = start
        while index < end {
            if bytes[index] == UInt8(ascii: "#") { return nil }
            guard bytes[index] == UInt8(ascii: "\"") else {
                index += 1
                continue
            }
            var close = index + 1
            while close < end, bytes[close] != UInt8(ascii: "\"") {
                close += bytes[close] == UInt8(ascii: "\\") ? 2 : 1
            }
            if cursor > index, cursor <= close, close < end {
                // The string's value, its escapes read (`"r\u{200b}"` names the role `r` + U+200B), as the
                // lexer reads it for the rules.
                var lexer = Lexer(file: SourceFile(path: file.file.path, bytes: Array(bytes[index...close])))
                let text = lexer.next().text
                return workspace.roleMentions()[ExactString(text)] == nil ? nil : (text, Span(index, close + 1))
            }
            index = close + 1
        }
        return nil
    }

    /// The dotted path whose segment `cursor` is in, up to that segment (`user.email` on `email` of
    /// `user.email.x`), and that segment's span.
    func pathWord(at cursor: Int, in file: Workspace.CheckedFile) -> ([String], Span)? {
        let bytes = file.file.bytes
        func isWord(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "_") || (byte >= 0x30 && byte <= 0x39)
                || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
        }
        var start = min(cursor, bytes.count)
        while start > 0, isWord(bytes[start - 1]) { start -= 1 }
        var end = min(cursor, bytes.count)
        while end < bytes.count, isWord(bytes[end]) { end += 1 }
        guard start < end else { return nil }
        var pathStart = start
        while pathStart > 0, isWord(bytes[pathStart - 1]) || "[].".utf8.contains(bytes[pathStart - 1]) {
            pathStart -= 1
        }
        let text = String(decoding: bytes[pathStart..<end], as: UTF8.self)
        let path = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard path.allSatisfy({ !$0.isEmpty }) else { return nil }
        return (path, Span(start, end))
    }
}

/// Where the cursor is, read from its line up to it.
enum SourceContext: Equatable {
    case comment
    /// Inside a string opened at byte `quote` of the line; `roleList` when it follows `assign`, `revoke`,
    /// `except` or a `,` in an action.
    case string(quote: Int, roleList: Bool)
    /// After `a.b.`: the names before the last dot, and what is written after it.
    case path([String], partial: String)
    /// A word being written, or nothing.
    case word(String)

    static func at(_ line: [UInt8]) -> SourceContext {
        var quote: Int?
        var index = 0
        while index < line.count {
            let byte = line[index]
            if let _ = quote {
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    quote = nil
                }
            } else if byte == UInt8(ascii: "\"") {
                quote = index
            } else if byte == UInt8(ascii: "#") {
                return .comment
            }
            index += 1
        }
        if let quote {
            let before = String(decoding: line[..<quote], as: UTF8.self)
            let trimmed = before.trimmingCharacters
            let roleList =
                ["assign", "revoke", "except"].contains { trimmed.hasSuffix($0) }
                || (trimmed.hasSuffix(",") && ["assign", "revoke", "except"].contains { before.contains($0) })
            return .string(quote: quote, roleList: roleList)
        }
        var start = line.count
        while start > 0, let scalar = Optional(line[start - 1]),
            scalar == UInt8(ascii: "_") || scalar == UInt8(ascii: ".") || scalar == UInt8(ascii: "[")
                || scalar == UInt8(ascii: "]") || (scalar >= 0x30 && scalar <= 0x39)
                || ((scalar | 0x20) >= 0x61 && (scalar | 0x20) <= 0x7A)
        {
            start -= 1
        }
        let word = String(decoding: line[start...], as: UTF8.self)
        guard let dot = word.lastIndex(of: ".") else { return .word(word) }
        let parents = word[..<dot].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        return .path(parents, partial: String(word[word.index(after: dot)...]))
    }
}

extension StringProtocol {
    /// Without spaces and tabs at either end.
    var trimmingCharacters: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// One line on what the better-known fields of the post-login event hold, for hovers.
enum FieldDescriptions {
    static let text: [String: String] = [
        "user": "The user logging in.",
        "user.email": "The user's email address, as the identity provider gave it.",
        "user.email_verified": "Whether the email address has been verified.",
        "user.app_metadata": "Metadata only the application and the Management API can change: safe for roles.",
        "user.user_metadata": "Metadata the user can edit: never grant roles from it.",
        "user.identities": "The accounts linked to the user, one per connection.",
        "user.created_at": "When the user was created (RFC 3339).",
        "stats": "Login statistics.",
        "stats.logins_count": "How many times the user has logged in; SSO and silent logins are not counted.",
        "logins_count": "`stats.logins_count`: how many times the user has logged in.",
        "connection": "The connection the user logs in with.",
        "connection.name": "The connection's name, e.g. `acme-okta`.",
        "connection.strategy": "The connection's kind, e.g. `auth0`, `google-oauth2`, `samlp`.",
        "client": "The application the user logs in to.",
        "request": "The login request: IP address, geolocation, user agent.",
        "request.geoip": "Where the request came from, by its IP address.",
        "request.geoip.countryCode": "The two-letter ISO 3166 country code.",
        "authorization": "What the user is authorised for now.",
        "authorization.roles": "The roles the user has now.",
        "authentication": "How the user authenticated in this session.",
        "authentication.methods": "Each way the user authenticated, e.g. `pwd`, `mfa`, `federated`.",
        "organization": "The organization the user logs in to, if any.",
        "tenant": "The Auth0 tenant.",
        "transaction": "The authentication transaction: protocol, scopes, locale.",
    ]
}
