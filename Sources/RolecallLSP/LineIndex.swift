import RolecallEngine
import RolecallLanguage

/// A position as LSP counts it: a 0-based line and a 0-based column in UTF-16 code units.
struct Position: Equatable, Sendable {
    var line: Int
    var character: Int

    var json: JSONValue { .members(["line": .int(line), "character": .int(character)]) }

    /// Reads `{"line": L, "character": C}`; nil when either is missing or negative.
    init?(_ value: JSONValue?) {
        guard let line = value?["line"]?.integer, let character = value?["character"]?.integer,
            line >= 0, character >= 0
        else { return nil }
        self.init(line: line, character: character)
    }

    init(line: Int, character: Int) {
        self.line = line
        self.character = character
    }
}

/// Converts between the UTF-8 byte offsets of spans and LSP positions for one text.
///
/// Lines end at `\n`, `\r\n` or a lone `\r`, as ``SourceFile`` and the LSP specification count them. Columns
/// are UTF-16 code units: a scalar above U+FFFF counts two, and a byte that is not part of well-formed UTF-8
/// counts one (it shows as one replacement character).
struct LineIndex: Sendable {
    let bytes: [UInt8]
    /// The offset at which each line starts.
    let lineStarts: [Int]
    /// Per line: whether it is all ASCII, so a column is the byte distance from the line's start. Without this,
    /// every position on a long line was counted from its start, and the outline of 5,000 rules written on one
    /// line took 21 s (found by attacking the server).
    let asciiLines: [Bool]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        var ascii: [Bool] = []
        var lineIsASCII = true
        var offset = 0
        let count = bytes.count
        while offset < count {
            let byte = bytes[offset]
            if byte >= 0x80 { lineIsASCII = false }
            if byte == 0x0A || (byte == 0x0D && (offset + 1 == count || bytes[offset + 1] != 0x0A)) {
                starts.append(offset + 1)
                ascii.append(lineIsASCII)
                lineIsASCII = true
            }
            offset += 1
        }
        ascii.append(lineIsASCII)
        lineStarts = starts
        asciiLines = ascii
    }

    /// The 0-based line holding `offset`.
    func line(of offset: Int) -> Int {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// The end of 0-based `line`'s text, before its line break.
    func lineEnd(_ line: Int) -> Int {
        guard line + 1 < lineStarts.count else { return bytes.count }
        var end = lineStarts[line + 1] - 1
        if end > lineStarts[line], bytes[end] == 0x0A, bytes[end - 1] == 0x0D { end -= 1 }
        return end
    }

    /// The LSP position of byte `offset` (clamped to the text).
    func position(of offset: Int) -> Position {
        let offset = min(max(offset, 0), bytes.count)
        let line = line(of: offset)
        if asciiLines[line] { return Position(line: line, character: offset - lineStarts[line]) }
        var character = 0
        var index = lineStarts[line]
        bytes.withUnsafeBufferPointer { buffer in
            while index < offset {
                let length = wellFormedUTF8Length(buffer.baseAddress!, count: buffer.count, at: index) ?? 1
                character += length == 4 ? 2 : 1
                index += length
            }
        }
        return Position(line: line, character: character)
    }

    /// The byte offset of an LSP position: a line past the end is the end of the text, a column past the end of
    /// its line is the line's end, and a column inside a surrogate pair is the start of its scalar.
    func offset(of position: Position) -> Int {
        guard position.line < lineStarts.count else { return bytes.count }
        let end = lineEnd(position.line)
        if asciiLines[position.line] {
            // Compared, not added: a client may send any character number.
            let start = lineStarts[position.line]
            return position.character >= end - start ? end : start + position.character
        }
        var index = lineStarts[position.line]
        var character = 0
        bytes.withUnsafeBufferPointer { buffer in
            while index < end {
                let length = wellFormedUTF8Length(buffer.baseAddress!, count: buffer.count, at: index) ?? 1
                let width = length == 4 ? 2 : 1
                if character + width > position.character { break }
                character += width
                index += length
            }
        }
        return index
    }

    /// `{"start": ..., "end": ...}` of a span.
    func range(_ span: Span) -> JSONValue {
        .members(["start": position(of: span.start).json, "end": position(of: span.end).json])
    }

    /// The range of the whole text.
    var wholeRange: JSONValue {
        .members(["start": Position(line: 0, character: 0).json, "end": position(of: bytes.count).json])
    }
}
