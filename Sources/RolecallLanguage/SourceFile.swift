/// A half-open range of UTF-8 byte offsets into a ``SourceFile``.
///
/// Line and column are worked out only when a diagnostic is printed (``SourceFile/location(of:)``).
public struct Span: Sendable, Hashable, CustomStringConvertible {
    /// Offset of the first byte.
    public var start: Int
    /// Offset one past the last byte.
    public var end: Int

    /// A span from `start` up to (not including) `end`.
    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = max(start, end)
    }

    /// The smallest span covering both.
    public func union(_ other: Span) -> Span { Span(min(start, other.start), max(end, other.end)) }

    public var description: String { "\(start)..<\(end)" }
}

/// One rule file's text, shared by its tokens, AST and diagnostics.
///
/// The bytes are kept exactly as read (even when they are not valid UTF-8) so spans always index them.
public final class SourceFile: Sendable {
    /// The path as the user gave it, used in diagnostics (`rules/x.rules:3:12`).
    public let path: String
    /// The file's bytes.
    public let bytes: [UInt8]
    /// Offsets at which each line starts; `lineStarts[0] == 0`.
    let lineStarts: [Int]
    /// The number of lines (a file that ends with a line break has an empty last line).
    public var lineCount: Int { lineStarts.count }
    /// The path's last component (after lexical normalisation): how an anonymous rule of this file is named
    /// until the rule set's other files are known. Worked out once per file, not once per rule.
    let lastComponent: String

    /// Wraps `bytes` read from `path`.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        var starts = [0]
        // Room for a line per line feed (counted first, a quick pass), rather than growing the table as lines are
        // found: growing copies it again at every doubling.
        starts.reserveCapacity(bytes.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) })
        // A lone `\r` ends a line too, as editors show it (and as the lexer ends a comment there).
        for (offset, byte) in bytes.enumerated()
        where byte == UInt8(ascii: "\n")
            || (byte == UInt8(ascii: "\r") && (offset + 1 == bytes.count || bytes[offset + 1] != UInt8(ascii: "\n")))
        {
            starts.append(offset + 1)
        }
        self.lineStarts = starts
        self.lastComponent = RuleFileLabels.components(of: path).last ?? path
    }

    /// Wraps source text, e.g. a rule set built in code.
    public convenience init(path: String, text: String) { self.init(path: path, bytes: Array(text.utf8)) }

    /// A 1-based line and column (in Unicode scalars) of a byte offset.
    public struct Location: Sendable, Hashable {
        /// 1-based line number.
        public var line: Int
        /// 1-based column, counted in Unicode scalars so carets line up with what an editor shows.
        public var column: Int
    }

    /// The line and column of `offset`.
    public func location(of offset: Int) -> Location {
        let line = self.line(of: offset)
        let column = scalarCount(from: lineStarts[line - 1], to: min(max(offset, 0), bytes.count)) + 1
        return Location(line: line, column: column)
    }

    /// The 1-based line of `offset`, by binary search of the line table: no column counting, so naming the line
    /// of every rule in a one-line file of thousands of rules stays linear.
    public func line(of offset: Int) -> Int {
        let offset = min(max(offset, 0), bytes.count)
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low + 1
    }

    /// The offset of the line break ending the line that holds `offset` (or the end of the file), found in the
    /// line table rather than by scanning, so a file of one long line costs no more than one of many.
    func lineEnd(after offset: Int) -> Int {
        let low = line(of: offset) - 1
        return low + 1 < lineStarts.count ? lineStarts[low + 1] - 1 : bytes.count
    }

    /// The text of 1-based `line`, without its line break.
    public func lineText(_ line: Int) -> String {
        let range = lineRange(line)
        return String(decoding: bytes[range], as: UTF8.self)
    }

    /// The byte range of 1-based `line`, without its line break.
    func lineRange(_ line: Int) -> Range<Int> {
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return start..<max(start, end)
    }

    /// The source text a span covers.
    public func text(_ span: Span) -> String {
        String(decoding: bytes[min(span.start, bytes.count)..<min(span.end, bytes.count)], as: UTF8.self)
    }

    /// `offset` moved back to the first byte of the UTF-8 sequence it is in (at most three bytes), within `limit`.
    func scalarStart(before offset: Int, limit: Int? = nil) -> Int {
        var offset = min(offset, limit ?? bytes.count)
        var steps = 0
        while offset > 0, offset < bytes.count, bytes[offset] & 0xC0 == 0x80, steps < 3 {
            offset -= 1
            steps += 1
        }
        return offset
    }

    /// Number of Unicode scalars in bytes `from..<to` (continuation bytes are not counted).
    func scalarCount(from: Int, to: Int) -> Int {
        var count = 0
        for index in from..<min(to, bytes.count) where bytes[index] & 0xC0 != 0x80 { count += 1 }
        return count
    }
}
