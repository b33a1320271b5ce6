/// Replaces the values at some paths of a JSON event with the string `"[redacted]"`, keeping every other byte
/// of the event as it was: what `rules serve --log-events --redact PATH` writes to the decision log.
///
/// A path is a dotted list of object keys with optional list indexes, as in the rule language:
/// `user.email`, `user.identities[0].access_token`, `request.query["x-token"]` is written
/// `request.query.x-token` (every segment between dots is a key, compared after decoding the event's escapes).
/// `[*]` stands for every element of a list: `user.identities[*].access_token` redacts the token of each
/// identity, however many there are.
/// Every occurrence is redacted, so a key that appears twice cannot keep a copy of the value.
public struct EventRedactor: Sendable {
    /// The text a redacted value becomes.
    public static let replacement: [UInt8] = Array("\"[redacted]\"".utf8)

    /// Why a `--redact` path is not one.
    public struct PathError: Error, Sendable, CustomStringConvertible {
        /// What is wrong, naming the path.
        public var description: String
    }

    /// One step of a path.
    enum Step: Hashable, Sendable {
        case key(String)
        case index(Int)
        /// Every element of a list.
        case every
    }

    /// The paths as a tree: each node's children by step; a node with `redact` set is replaced whole.
    final class Node: Sendable {
        let redact: Bool
        let children: [Step: Node]

        init(redact: Bool, children: [Step: Node]) {
            self.redact = redact
            self.children = children
        }
    }

    let root: Node
    /// The paths, as given.
    public let paths: [String]

    /// A redactor for `paths` (e.g. `user.email`); throws for an empty path or segment or a malformed index.
    public init(paths: [String]) throws(PathError) {
        var parsed: [[Step]] = []
        for path in paths { parsed.append(try EventRedactor.parse(path)) }
        self.paths = paths
        self.root = EventRedactor.tree(parsed)
    }

    /// A redactor that redacts nothing.
    public init() {
        self.paths = []
        self.root = Node(redact: false, children: [:])
    }

    /// True when there is nothing to redact.
    public var isEmpty: Bool { root.children.isEmpty }

    static func parse(_ path: String) throws(PathError) -> [Step] {
        var steps: [Step] = []
        for segment in path.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(segment)
            // A key, then any number of `[N]`.
            let key = rest.prefix { $0 != "[" }
            rest = rest.dropFirst(key.count)
            if !key.isEmpty {
                steps.append(.key(String(key)))
            } else if rest.isEmpty || steps.isEmpty {
                throw PathError(description: "`\(path)` has an empty segment; write paths like `user.email`")
            }
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]") else {
                    throw PathError(description: "`\(path)` has a malformed list index; write `[0]` or `[*]`")
                }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                if inside == "*" {
                    steps.append(.every)
                } else if let index = Int(inside), index >= 0 {
                    steps.append(.index(index))
                } else {
                    throw PathError(description: "`\(path)` has a malformed list index; write `[0]` or `[*]`")
                }
                rest = rest[rest.index(after: close)...]
            }
        }
        return steps
    }

    /// The node for list element `index`: the paths for that index and those for every element, together.
    static func element(_ index: Int, of node: Node) -> Node? {
        let specific = node.children[.index(index)]
        guard let every = node.children[.every] else { return specific }
        guard let specific else { return every }
        return merged(specific, every)
    }

    /// Two subtrees as one: redacted where either is, with the children of both.
    static func merged(_ a: Node, _ b: Node) -> Node {
        if a.redact || b.redact { return Node(redact: true, children: [:]) }
        return Node(redact: false, children: a.children.merging(b.children) { merged($0, $1) })
    }

    static func tree(_ paths: [[Step]]) -> Node {
        // A path that is a prefix of another redacts the whole subtree: the longer one adds nothing.
        if paths.contains(where: \.isEmpty) { return Node(redact: true, children: [:]) }
        var groups: [Step: [[Step]]] = [:]
        for path in paths { groups[path[0], default: []].append(Array(path.dropFirst())) }
        return Node(redact: false, children: groups.mapValues { tree($0) })
    }

    /// The event with every value at one of the paths replaced by `"[redacted]"`; throws for invalid JSON.
    public func redact(_ event: UnsafeRawBufferPointer) throws(JSONError) -> [UInt8] {
        guard let base = event.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return [] }
        var scanner = JSONScanner(base: base, count: event.count, maxDepth: 512)
        var cuts: [(start: Int, end: Int)] = []
        try walk(&scanner, root, depth: 0, cuts: &cuts)
        scanner.skipWhitespace()
        guard scanner.position == event.count else { throw scanner.unexpected("the end of the event") }
        var output: [UInt8] = []
        output.reserveCapacity(event.count)
        var copied = 0
        for cut in cuts {
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: event[copied..<cut.start]))
            output.append(contentsOf: EventRedactor.replacement)
            copied = cut.end
        }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: event[copied...]))
        return output
    }

    /// The event with the paths redacted; throws for invalid JSON.
    public func redact(_ event: [UInt8]) throws(JSONError) -> [UInt8] {
        let result = event.withUnsafeBytes { bytes in Result { () throws(JSONError) in try redact(bytes) } }
        return try result.get()
    }

    /// Walks the value at the scanner's position, recording the byte ranges of values to replace, in order.
    func walk(_ scanner: inout JSONScanner, _ node: Node, depth: Int, cuts: inout [(start: Int, end: Int)])
        throws(JSONError)
    {
        let byte = try scanner.peekToken("a value")
        if node.redact {
            let start = scanner.position
            try scanner.skipValue(depth: depth)
            cuts.append((start, scanner.position))
            return
        }
        guard depth < scanner.maxDepth else {
            throw JSONError("nesting deeper than \(scanner.maxDepth) levels", at: scanner.position)
        }
        switch byte {
        case UInt8(ascii: "{"):
            scanner.position += 1
            if try scanner.peekToken("`}` or a key") == UInt8(ascii: "}") {
                scanner.position += 1
                return
            }
            repeat {
                let key = try scanner.skipKeyAndColon()
                let name =
                    key.escaped
                    ? scanner.decodeString(start: key.start, end: key.end)
                    : String(
                        decoding: UnsafeBufferPointer(start: scanner.base + key.start, count: key.end - key.start),
                        as: UTF8.self)
                if let child = node.children[.key(name)] {
                    try walk(&scanner, child, depth: depth + 1, cuts: &cuts)
                } else {
                    try scanner.skipValue(depth: depth + 1)
                }
            } while !(try scanner.endOfMember(close: UInt8(ascii: "}")))
        case UInt8(ascii: "["):
            scanner.position += 1
            if try scanner.peekToken("`]` or a value") == UInt8(ascii: "]") {
                scanner.position += 1
                return
            }
            var index = 0
            repeat {
                if let child = EventRedactor.element(index, of: node) {
                    try walk(&scanner, child, depth: depth + 1, cuts: &cuts)
                } else {
                    try scanner.skipValue(depth: depth + 1)
                }
                index += 1
            } while !(try scanner.endOfMember(close: UInt8(ascii: "]")))
        default:
            try scanner.skipScalar(byte)
        }
    }
}
