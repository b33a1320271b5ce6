/// Writes a valid rule file whose every choice (structure, spacing, comments, literals) is read from the fuzz
/// input, so that libFuzzer's mutations explore the formatter's layouts instead of syntax errors.
struct RuleWriter {
    let input: [UInt8]
    var position = 0
    var out = ""

    init(_ input: [UInt8]) { self.input = input }

    /// The next choice in `0..<bound`; the last (a leaf, for expressions) once the input is used up.
    mutating func next(_ bound: Int) -> Int {
        guard position < input.count else { return bound - 1 }
        defer { position += 1 }
        return Int(input[position]) % bound
    }

    /// Whether to repeat once more: one time in `oneIn`, and never once the input is used up.
    mutating func more(oneIn: Int) -> Bool { position < input.count && next(oneIn) == 0 }

    mutating func pick(_ items: [String]) -> String { items[next(items.count)] }

    mutating func space() -> String {
        pick([
            " ", " ", "  ", "\n", " \n  ", "\t", " # note\n ", "\n\n\n", " #\n", "\r\n", " # two words  \n",
            "\n# own line\n", "\n  # a\n\n  # b\n  ",
        ])
    }

    mutating func ruleSet() -> String {
        var out = next(3) == 0 ? "# generated\n" : ""
        var index = 0
        repeat {
            if next(5) == 0 {
                out += "let" + space() + "n\(index)" + space() + "=" + space() + expression(depth: 0) + space()
                if next(4) == 0 { out += pick(["# after a let\n", "\n# after a blank\n\n"]) }
            }
            let named = next(2) == 0
            if named { out += "rule" + space() + string(index) + space() }
            if !named || next(3) != 0 { out += "when" + space() + expression(depth: 0) + space() }
            repeat {
                switch next(5) {
                case 0: out += "assign" + space() + roles()
                case 1: out += "revoke" + space() + roles()
                case 2: out += "revoke" + space() + "all" + space()
                case 3: out += "revoke" + space() + "all" + space() + "except" + space() + roles()
                default: out += "stop" + space()
                }
            } while more(oneIn: 3)
            if next(4) == 0 { out += pick(["# between\n", "\n# after a blank\n\n", "#\n"]) }
            index += 1
        } while position < input.count && next(4) != 0 && index < 64
        return out
    }

    mutating func roles() -> String {
        var out = role()
        while more(oneIn: 3) { out += "," + space() + role() }
        return out + space()
    }

    mutating func role() -> String { pick(["\"member\"", "\"rol_0123456789abcdef\"", "\"a b\"", "\"\\u{1F600}\""]) }

    mutating func string(_ index: Int) -> String {
        switch next(6) {
        case 0: "\"r\(index)\""
        case 1: "\"s\\\"\(index)\\u{e9}\""
        case 2: "\"tab\\tnew\\nline\\\\\""
        case 3: "\"\""
        case 4: "\"é ü 中\""
        default: "\"rule \(index) # not a comment\""
        }
    }

    mutating func expression(depth: Int) -> String {
        if depth > 6 { return operand(depth: depth) }
        switch next(10) {
        case 9:
            return pick(["any", "all"]) + "(" + space() + operand(depth: depth + 1) + "," + space() + "e" + space()
                + "," + space() + expression(depth: depth + 1) + space() + ")"
        case 0: return expression(depth: depth + 1) + space() + "or" + space() + expression(depth: depth + 1)
        case 1: return expression(depth: depth + 1) + space() + "and" + space() + expression(depth: depth + 1)
        case 2: return "not" + space() + expression(depth: depth + 1)
        case 3: return "(" + space() + expression(depth: depth + 1) + space() + ")"
        case 4: return operand(depth: depth) + space() + "matches" + space() + pattern()
        case 5: return operand(depth: depth)
        default:
            let comparator = pick([
                "==", "!=", "<", "<=", ">", ">=", "in", "not in", "not  in", "contains", "starts_with", "ends_with",
            ])
            return operand(depth: depth) + space() + comparator + space() + operand(depth: depth)
        }
    }

    mutating func pattern() -> String {
        let body = pick(["@acme\\.com$", "^a\\/b", "[a-z]+", "(?:x|y)*", "\\d{2,}", " spaced "])
        switch next(3) {
        case 0: return "/" + body + "/" + pick(["", "i", "m", "s", "x", "im", "sxi"])
        case 1: return "\"" + body.replacingBackslashes() + "\""
        default: return "/" + body + "/"
        }
    }

    mutating func operand(depth: Int) -> String {
        switch next(14) {
        case 0: return string(next(100))
        case 1: return String(next(256))
        case 2: return pick(["0.5", "2.50", "1e3", "1E-2", "12.0e+4", "0", "007"])
        case 3: return pick(["true", "false", "null"])
        case 4: return "[" + list(depth: depth) + "]"
        case 5: return pick(["lower", "upper", "length"]) + "(" + expression(depth: depth + 1) + ")"
        case 6: return "-" + pick(["x", "(y)", "user.app_metadata.n", "1", "-2"])
        case 7: return "user.identities[\(next(3))].provider"
        case 8: return "user.app_metadata[\"k-\(next(9))\"].in"
        case 9: return "user.app_metadata." + pick(["and", "or", "not", "rule", "when", "matches", "null"])
        case 10: return "(" + expression(depth: depth + 1) + ")"
        default:
            return pick([
                "logins_count", "user.email", "request.geoip.countryCode", "x", "authorization.roles",
                "user.app_metadata.groups", "connection.strategy", "user.name",
            ])
        }
    }

    mutating func list(depth: Int) -> String {
        guard next(5) != 0 else { return "" }
        var out = operand(depth: depth + 1)
        // Long lists too, so that they break (one element a line, or filling lines of literals).
        let long = next(4) == 0
        var count = 0
        while count < 60, (long && count < 20) || more(oneIn: 3) {
            out += "," + space() + operand(depth: depth + 1)
            count += 1
        }
        if next(4) == 0 { out += "," + space() }
        return out
    }
}

extension String {
    /// The pattern as a string literal's body: each backslash doubled.
    fileprivate func replacingBackslashes() -> String {
        var out = ""
        for character in self { out += character == "\\" ? "\\\\" : String(character) }
        return out
    }
}
