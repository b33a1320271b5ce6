import RolecallJSON

/// Writes the evaluation clock into a logged event, as `rules log export` does: `"rolecall_now":"<RFC 3339>"`
/// becomes the event's first member and every other byte stays as it was, so `rules eval --events` on the export
/// decides with the clock the login was decided with (``Evaluator/clockFromEvent``).
public enum EventClock {
    /// `event` (a JSON object, as logged) with `rolecall_now` set to `clock` (Unix seconds, written with
    /// milliseconds). A top-level `rolecall_now` the event already had (a client may send one; the server never
    /// honours it) is removed, so the stamp is the only one. Bytes that are not a JSON object come back unchanged.
    public static func stamp(_ event: [UInt8], clock: Double) -> [UInt8] {
        let member = Array("\"\(Program.clockField)\":\"\(Timestamp.format(clock))\"".utf8)
        let result = event.withUnsafeBufferPointer { buffer -> [UInt8]? in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return nil }
            var scanner = JSONScanner(base: base, count: buffer.count, maxDepth: 512)
            guard (try? scanner.peekToken("`{`")) == UInt8(ascii: "{") else { return nil }
            let open = scanner.position
            scanner.position += 1
            // Members called `rolecall_now`, as byte ranges to cut (with one adjacent comma each).
            var cuts: [Range<Int>] = []
            do {
                if try scanner.peekToken("`}` or a key") == UInt8(ascii: "}") {
                    return Array(event[...open]) + member + Array(event[(open + 1)...])
                }
                // The end of the last member kept: a `rolecall_now` that closes the object takes the comma before
                // it with it, back to there.
                var lastKeptEnd: Int?
                while true {
                    _ = try scanner.peekToken("a key")
                    let start = scanner.position
                    let key = try scanner.skipKeyAndColon()
                    try scanner.skipValue(depth: 1)
                    let end = scanner.position
                    let name = key.escaped ? scanner.decodeString(start: key.start, end: key.end) : nil
                    let isClock =
                        name.map { $0 == Program.clockField }
                        ?? (Array(buffer[key.start..<key.end]) == Array(Program.clockField.utf8))
                    let closed = try scanner.endOfMember(close: UInt8(ascii: "}"))
                    if !isClock {
                        lastKeptEnd = end
                    } else if !closed {
                        // The member, the comma after it and the blanks up to the next member.
                        scanner.skipWhitespace()
                        cuts.append(start..<scanner.position)
                    } else if let keptEnd = lastKeptEnd {
                        cuts.removeAll { $0.lowerBound >= keptEnd }
                        cuts.append(keptEnd..<end)
                    } else {
                        cuts = [(open + 1)..<end]
                    }
                    if closed { break }
                }
            } catch {
                return nil
            }
            var kept: [UInt8] = []
            kept.reserveCapacity(buffer.count + member.count + 1)
            var position = open + 1
            for cut in cuts {
                kept += buffer[position..<cut.lowerBound]
                position = cut.upperBound
            }
            kept += buffer[position...]
            // Only `rolecall_now` members: the object is empty once they are cut.
            let nothingLeft = kept.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0x7D }
            return Array(buffer[...open]) + member + (nothingLeft ? [] : [UInt8(ascii: ",")]) + kept
        }
        return result ?? event
    }
}
