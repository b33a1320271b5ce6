import CJSONIndex
import RolecallLanguage

extension Evaluator {
    /// Fills the slots from one event in a single pass over its bytes: fields the rules read are recorded,
    /// everything else is skipped (and validated).
    ///
    /// One event has one meaning (DESIGN.md, "Events"; RFC 7493): a key on the path to a field the rules or the
    /// planner read that appears twice in its object is an error, and so is a key repeated anywhere inside a value
    /// read as a whole, a number there out of the range of a double, and a lone surrogate (`\ud800`) in a string
    /// that is read. Everything else is checked for JSON syntax and UTF-8 only: a number like `1e999` in a field
    /// nobody reads is accepted, by every command alike.
    func read(_ event: UnsafeRawBufferPointer) throws(JSONError) {
        for index in slots.indices { slots[index] = .null }
        guard let base = event.baseAddress?.assumingMemoryBound(to: UInt8.self), event.count > 0 else {
            throw JSONError("empty input, expected a JSON object", at: 0)
        }
        if indexesStrings {
            let words = (event.count + 63) / 64
            if words > state.pointee.specialsCapacity {
                state.pointee.specials.deallocate()
                state.pointee.specials = .allocate(capacity: words)
                state.pointee.specialsCapacity = words
            }
            rolecall_json_specials(base, event.count, state.pointee.specials)
        }
        var scanner = JSONScanner(base: base, count: event.count, maxDepth: program.maxDepth, specials: specials)
        guard try scanner.peekToken("a JSON object") == UInt8(ascii: "{") else {
            throw scanner.unexpected("a JSON object (the event)")
        }
        seenFields.update(repeating: false)
        try readValue(&scanner, node: 0, depth: 0, strict: false, seen: seenFields)
        scanner.skipWhitespace()
        guard scanner.position == scanner.count else { throw scanner.unexpected("the end of the event") }
    }

    /// Reads the value at the scanner for field node `node`. `strict`: the value is inside one the rules read as a
    /// whole, so what is skipped is checked like what is read. `seen` marks the nodes read in this event.
    func readValue(
        _ scanner: inout JSONScanner, node: Int, depth: Int, strict: Bool, seen: UnsafeMutableBufferPointer<Bool>
    ) throws(JSONError) {
        let field = program.fields[node]
        let byte = try scanner.peekToken("a value")
        let start = scanner.position
        let strict = strict || field.whole
        if byte == UInt8(ascii: "{"), field.keyCount > 0 {
            guard depth < program.maxDepth else {
                throw JSONError("nesting deeper than \(program.maxDepth) levels", at: start)
            }
            scanner.position += 1
            if try scanner.peekToken("`}` or a key") == UInt8(ascii: "}") {
                scanner.position += 1
            } else if !strict {
                try readMembers(&scanner, of: field, depth: depth, seen: seen)
            } else {
                // Keys that name no field, remembered only when the object is read as a whole.
                var others = Set<[UInt8]>()
                while true {
                    let key = try scanner.skipKeyAndColon()
                    if let child = childNode(field, key: key, base: scanner.base, count: scanner.count) {
                        guard !seen[child] else {
                            throw JSONError(
                                "the key `\(path(of: child).dotted)` appears twice in the event", at: key.start - 1)
                        }
                        seen[child] = true
                        try readValue(&scanner, node: child, depth: depth + 1, strict: strict, seen: seen)
                    } else if strict {
                        let name =
                            key.escaped
                            ? Array(
                                try scanner.decodeStringStrictly(start: key.start, end: key.end) {
                                    path(of: node).dotted + " (a key)"
                                }.utf8)
                            : Array(UnsafeBufferPointer(start: scanner.base + key.start, count: key.end - key.start))
                        func member() -> [PathSegment] {
                            self.path(of: node) + [.key(String(decoding: name, as: UTF8.self), span: Span(0, 0))]
                        }
                        guard others.insert(name).inserted else {
                            throw JSONError(
                                "the key `\(member().dotted)` appears twice in the event", at: key.start - 1)
                        }
                        try scanner.skipValueStrictly(depth: depth + 1, path: member)
                    } else {
                        try scanner.skipMember(depth: depth + 1)
                    }
                    if try scanner.endOfMember(close: UInt8(ascii: "}")) { break }
                }
            }
            if field.slot >= 0 { slots[field.slot] = .rawObject(start: start, end: scanner.position) }
        } else if byte == UInt8(ascii: "["), field.indexCount > 0 || field.every >= 0 {
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
                        try readValue(&scanner, node: child, depth: depth + 1, strict: strict, seen: seen)
                    } else if field.every >= 0 {
                        // Each element is read afresh: a key it repeats is an error, the same key in the next
                        // element is not.
                        let every = program.fields[field.every]
                        for descendant in program.subtrees[
                            every.firstDescendant..<(every.firstDescendant + every.descendantCount)]
                        {
                            seen[descendant] = false
                        }
                        try readValue(&scanner, node: field.every, depth: depth + 1, strict: strict, seen: seen)
                    } else if strict {
                        let element = index
                        try scanner.skipValueStrictly(depth: depth + 1) {
                            self.path(of: node) + [.index(element, span: Span(0, 0))]
                        }
                    } else {
                        try scanner.skipMember(depth: depth + 1)
                    }
                    index += 1
                    if try scanner.endOfMember(close: UInt8(ascii: "]")) { break }
                }
            }
            if field.slot >= 0 { slots[field.slot] = .rawArray(start: start, end: scanner.position) }
        } else if strict {
            let value = try readWhole(&scanner, node: node, depth: depth)
            if field.slot >= 0 { slots[field.slot] = value }
        } else if field.slot >= 0 {
            // A quantified list that is not a list: its value is read, for the evaluator's type error.
            slots[field.slot] = try scalarOrRaw(&scanner, node: node, depth: depth)
        } else if field.element, byte != UInt8(ascii: "{"), byte != UInt8(ascii: "[") {
            // An element bound to a name is a value the rules read: a number out of range or a lone surrogate
            // in it is refused, as in any field read (an object or list element is checked through its fields).
            _ = try readWhole(&scanner, node: node, depth: depth)
        } else {
            try scanner.skipValue(depth: depth)
        }
    }

    /// The members of an object not read as a whole, from its first key: each key is looked up among `field`'s
    /// children, whose values are read, and every other member is skipped. The common case of ``readValue``, in a
    /// function of its own so that its loop is small.
    @inline(never)
    func readMembers(
        _ scanner: inout JSONScanner, of field: Program.FieldNode, depth: Int, seen: UnsafeMutableBufferPointer<Bool>
    ) throws(JSONError) {
        while true {
            let key = try scanner.skipKeyAndColon()
            if let child = childNode(field, key: key, base: scanner.base, count: scanner.count) {
                guard !seen[child] else { throw repeatedKey(child, at: key.start &- 1) }
                seen[child] = true
                try readValue(&scanner, node: child, depth: depth &+ 1, strict: false, seen: seen)
            } else {
                try scanner.skipMember(depth: depth &+ 1)
            }
            if try scanner.endOfMember(close: UInt8(ascii: "}")) { return }
        }
    }

    @inline(never)
    func repeatedKey(_ node: Int, at offset: Int) -> JSONError {
        JSONError("the key `\(path(of: node).dotted)` appears twice in the event", at: offset)
    }

    /// A value the rules read as a whole, checked as I-JSON: scalars parsed, strings and containers left in place.
    func readWhole(_ scanner: inout JSONScanner, node: Int, depth: Int) throws(JSONError) -> Value {
        let start = scanner.position
        switch scanner.base[start] {
        case JSONScanner.quote:
            let string = try scanner.scanString()
            guard string.escaped else { return .rawString(start: string.start, end: string.end) }
            return .string(
                try scanner.decodeStringStrictly(start: string.start, end: string.end) { path(of: node).dotted })
        case UInt8(ascii: "["):
            if depth < program.maxDepth, try scanner.skipPlainStringList() {
                return .rawArray(start: start, end: scanner.position)
            }
            scanner.position = start
            try skipStrictly(&scanner, node: node, depth: depth)
            return .rawArray(start: start, end: scanner.position)
        case UInt8(ascii: "{"):
            try skipStrictly(&scanner, node: node, depth: depth)
            return .rawObject(start: start, end: scanner.position)
        default:
            return try scalarOrRaw(&scanner, node: node, depth: depth)
        }
    }

    /// ``JSONScanner/skipValueStrictly(depth:path:)`` for the value of field node `node`, out of line: the closure
    /// that names the path holds the evaluator, which costs reference counting wherever it is made.
    @inline(never)
    func skipStrictly(_ scanner: inout JSONScanner, node: Int, depth: Int) throws(JSONError) {
        try scanner.skipValueStrictly(depth: depth) { path(of: node) }
    }

    /// The path of field node `node` from the event's root, found by walking the field tree (for messages only).
    func path(of node: Int) -> [PathSegment] {
        var parents = [Int: (parent: Int, segment: PathSegment)]()
        var queue = [0]
        while let current = queue.popLast(), current != node {
            let field = program.fields[current]
            for key in program.keys[field.firstKey..<(field.firstKey + field.keyCount)] {
                let name = String(
                    decoding: UnsafeBufferPointer(start: program.keyPool.baseAddress! + key.offset, count: key.length),
                    as: UTF8.self)
                parents[key.node] = (current, .key(name, span: Span(0, 0)))
                queue.append(key.node)
            }
            for index in program.indices[field.firstIndex..<(field.firstIndex + field.indexCount)] {
                parents[index.node] = (current, .index(index.index, span: Span(0, 0)))
                queue.append(index.node)
            }
            if field.every >= 0 {
                parents[field.every] = (current, .index(-1, span: Span(0, 0)))
                queue.append(field.every)
            }
        }
        var segments: [PathSegment] = []
        var current = node
        while let step = parents[current] {
            segments.append(step.segment)
            current = step.parent
        }
        return segments.reversed()
    }

    /// The child of `field` named by `key`, comparing bytes (escaped keys are decoded first; a key holding a lone
    /// surrogate names no field).
    ///
    /// Takes the event's bytes, not the scanner: copying a scanner just written by the key scan costs a
    /// store-forwarding stall on every key.
    @inline(__always)
    func childNode(
        _ field: Program.FieldNode, key: (start: Int, end: Int, escaped: Bool), base: UnsafePointer<UInt8>, count: Int
    ) -> Int? {
        let pool = program.keyPool.baseAddress!
        if key.escaped { return escapedChildNode(field, key: key, base: base, count: count) }
        let length = key.end - key.start
        guard field.keyLengthBits &>> UInt64(length & 63) & 1 != 0 else { return nil }
        if length <= 8, key.start &+ 8 <= count {
            // One integer comparison per candidate: the key's bytes, masked to its length.
            let mask: UInt64 = length == 8 ? ~0 : (1 &<< UInt64(length &* 8)) &- 1
            let word = UnsafeRawPointer(base + key.start).loadUnaligned(as: UInt64.self) & mask
            for position in field.firstKey..<(field.firstKey + field.keyCount) {
                let candidate = program.keys[position]
                if candidate.prefix == word, candidate.length == length { return candidate.node }
            }
            return nil
        }
        // A longer key: its first eight bytes against the candidate's first, before any call to memcmp (keys of
        // one length, like `phone_number` and `app_metadata`, are common).
        let first = length >= 8 ? UnsafeRawPointer(base + key.start).loadUnaligned(as: UInt64.self) : 0
        for position in field.firstKey..<(field.firstKey + field.keyCount) {
            let candidate = program.keys[position]
            if candidate.length == length, length < 8 || candidate.prefix == first,
                memcmp(base + key.start, pool + candidate.offset, length) == 0
            {
                return candidate.node
            }
        }
        return nil
    }

    /// ``childNode(_:key:base:count:)`` for a key with escapes: decoded first, and a lone surrogate names no field.
    @inline(never)
    func escapedChildNode(
        _ field: Program.FieldNode, key: (start: Int, end: Int, escaped: Bool), base: UnsafePointer<UInt8>, count: Int
    ) -> Int? {
        let pool = program.keyPool.baseAddress!
        let scanner = JSONScanner(base: base, count: count, maxDepth: program.maxDepth)
        guard scanner.loneSurrogate(start: key.start, end: key.end) == nil else { return nil }
        let decoded = Array(scanner.decodeString(start: key.start, end: key.end).utf8)
        return program.keys[field.firstKey..<(field.firstKey + field.keyCount)].first {
            UnsafeBufferPointer(start: pool + $0.offset, count: $0.length).elementsEqual(decoded)
        }?.node
    }

    /// The child of list field `field` at `index`.
    @inline(__always)
    func childNode(_ field: Program.FieldNode, index: Int) -> Int? {
        program.indices[field.firstIndex..<(field.firstIndex + field.indexCount)].first { $0.index == index }?.node
    }

    /// ``scalarOrRaw(_:depth:)`` for the value of field node `node`, which the rules read: a number out of range
    /// names its path.
    func scalarOrRaw(_ scanner: inout JSONScanner, node: Int, depth: Int) throws(JSONError) -> Value {
        do { return try scalarOrRaw(&scanner, depth: depth) } catch {
            throw JSONScanner.outOfRange(error) { path(of: node).dotted }
        }
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
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try scanner.scanNumber())
        default:
            // The same error as where the value is skipped: it is not a value, rather than a bad number.
            throw scanner.unexpected("a value")
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
