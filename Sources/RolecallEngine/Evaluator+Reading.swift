import RolecallLanguage

extension Evaluator {
    /// Fills the slots from one event in a single pass over its bytes: fields the rules read are recorded,
    /// everything else is skipped (and validated).
    func read(_ event: UnsafeRawBufferPointer) throws(JSONError) {
        for index in slots.indices { slots[index] = .null }
        guard let base = event.baseAddress?.assumingMemoryBound(to: UInt8.self), event.count > 0 else {
            throw JSONError("empty input, expected a JSON object", at: 0)
        }
        var scanner = JSONScanner(base: base, count: event.count, maxDepth: program.maxDepth)
        guard try scanner.peekToken("a JSON object") == UInt8(ascii: "{") else {
            throw scanner.unexpected("a JSON object (the event)")
        }
        try readValue(&scanner, node: 0, depth: 0)
        scanner.skipWhitespace()
        guard scanner.position == scanner.count else { throw scanner.unexpected("the end of the event") }
    }

    /// Reads the value at the scanner for field node `node`.
    func readValue(_ scanner: inout JSONScanner, node: Int, depth: Int) throws(JSONError) {
        let field = program.fields[node]
        let byte = try scanner.peekToken("a value")
        let start = scanner.position
        if byte == UInt8(ascii: "{"), field.keyCount > 0 {
            guard depth < program.maxDepth else {
                throw JSONError("nesting deeper than \(program.maxDepth) levels", at: start)
            }
            scanner.position += 1
            if try scanner.peekToken("`}` or a key") == UInt8(ascii: "}") {
                scanner.position += 1
            } else {
                while true {
                    let key = try scanner.skipKeyAndColon()
                    if let child = childNode(field, key: key, scanner: scanner) {
                        try readValue(&scanner, node: child, depth: depth + 1)
                    } else {
                        try scanner.skipValue(depth: depth + 1)
                    }
                    if try scanner.endOfMember(close: UInt8(ascii: "}")) { break }
                }
            }
            if field.slot >= 0 { slots[field.slot] = .rawObject(start: start, end: scanner.position) }
        } else if byte == UInt8(ascii: "["), field.indexCount > 0 {
            guard depth < program.maxDepth else {
                throw JSONError("nesting deeper than \(program.maxDepth) levels", at: start)
            }
            scanner.position += 1
            if try scanner.peekToken("`]` or a value") == UInt8(ascii: "]") {
                scanner.position += 1
            } else {
                var index = 0
                while true {
                    if let child = childNode(field, index: index) {
                        try readValue(&scanner, node: child, depth: depth + 1)
                    } else {
                        try scanner.skipValue(depth: depth + 1)
                    }
                    index += 1
                    if try scanner.endOfMember(close: UInt8(ascii: "]")) { break }
                }
            }
            if field.slot >= 0 { slots[field.slot] = .rawArray(start: start, end: scanner.position) }
        } else if field.slot >= 0 {
            slots[field.slot] = try scalarOrRaw(&scanner, depth: depth)
        } else {
            try scanner.skipValue(depth: depth)
        }
    }

    /// The child of `field` named by `key`, comparing bytes (escaped keys are decoded first).
    @inline(__always)
    func childNode(_ field: Program.FieldNode, key: (start: Int, end: Int, escaped: Bool), scanner: JSONScanner) -> Int?
    {
        let pool = program.keyPool.baseAddress!
        let candidates = program.keys[field.firstKey..<(field.firstKey + field.keyCount)]
        if key.escaped {
            let decoded = Array(scanner.decodeString(start: key.start, end: key.end).utf8)
            return candidates.first {
                UnsafeBufferPointer(start: pool + $0.offset, count: $0.length).elementsEqual(decoded)
            }?.node
        }
        let length = key.end - key.start
        for candidate in candidates where candidate.length == length {
            if memcmp(scanner.base + key.start, pool + candidate.offset, length) == 0 { return candidate.node }
        }
        return nil
    }

    /// The child of list field `field` at `index`.
    @inline(__always)
    func childNode(_ field: Program.FieldNode, index: Int) -> Int? {
        program.indices[field.firstIndex..<(field.firstIndex + field.indexCount)].first { $0.index == index }?.node
    }

    /// A value for a slot: scalars parsed, strings and containers left in place.
    func scalarOrRaw(_ scanner: inout JSONScanner, depth: Int) throws(JSONError) -> Value {
        let start = scanner.position
        switch scanner.base[start] {
        case JSONScanner.quote:
            let string = try scanner.scanString()
            if string.escaped { return .string(scanner.decodeString(start: string.start, end: string.end)) }
            return .rawString(start: string.start, end: string.end)
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            return try scanner.scanKeywordLiteral().map(Value.bool) ?? .null
        case UInt8(ascii: "["):
            try scanner.skipValue(depth: depth)
            return .rawArray(start: start, end: scanner.position)
        case UInt8(ascii: "{"):
            try scanner.skipValue(depth: depth)
            return .rawObject(start: start, end: scanner.position)
        default:
            return .number(try scanner.scanNumber())
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
