/// A hash table of small integers (positions in the caller's own arrays) found by their keys' hashes: the
/// index of a large rule set's names, conjuncts, roles or fields.
///
/// Each slot is one 64-bit word, half of the key's hash and the value, so a table of 64,000 keys takes a
/// megabyte, and a lookup reads one slot (or a few neighbours) without touching a key: the caller compares
/// its key with the one stored at the value only when the hashes agree. A `Dictionary` keyed by the strings
/// themselves is three to five times larger and reads a key (wherever it was allocated) at every occupied slot
/// it probes, which on a rule set larger than the processor's caches costs a cache miss each.
package struct HashIndex {
    /// Per slot: the upper half the hash (never 0 in an occupied slot) and the value plus one; 0 is empty.
    var slots: [UInt64]
    /// How many values are stored.
    package private(set) var count = 0

    /// A table with room for `capacity` values before it grows.
    package init(capacity: Int = 0) {
        var size = 16
        while size < 2 * capacity { size *= 2 }
        slots = [UInt64](repeating: 0, count: size)
    }

    /// The stored half of `hash`: its upper 32 bits, made nonzero.
    static func tag(_ hash: Int) -> UInt64 {
        let tag = UInt64(UInt(bitPattern: hash) >> 32) & 0xFFFF_FFFF
        return tag == 0 ? 1 : tag
    }

    /// Where the probe for a key whose tag is `tag` starts.
    func start(_ tag: UInt64) -> Int {
        // The tag's bits, mixed, pick the slot: the table can then grow without the full hashes.
        Int(truncatingIfNeeded: (tag &* 0x9E37_79B9_7F4A_7C15) >> 32) & (slots.count - 1)
    }

    /// The first value stored under `hash` for which `matches` holds (the caller compares its key with the
    /// value's), and its slot; nil when there is none.
    package func find(_ hash: Int, where matches: (Int) -> Bool) -> (value: Int, slot: Int)? {
        let tag = HashIndex.tag(hash)
        var slot = start(tag)
        while slots[slot] != 0 {
            if slots[slot] >> 32 == tag {
                let value = Int(slots[slot] & 0xFFFF_FFFF) - 1
                if matches(value) { return (value, slot) }
            }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Stores `value` (below 2^32 - 1) under `hash`, whether or not a value is stored under it already.
    package mutating func insert(_ hash: Int, _ value: Int) {
        precondition(value >= 0 && value < 0xFFFF_FFFF, "a hash index holds values below 2^32 - 1")
        if 2 * (count + 1) > slots.count { grow() }
        place(HashIndex.tag(hash) << 32 | UInt64(value + 1))
        count += 1
    }

    /// Replaces the value in `slot` (from ``find(_:where:)``) with `value`.
    package mutating func replace(at slot: Int, with value: Int) {
        precondition(value >= 0 && value < 0xFFFF_FFFF, "a hash index holds values below 2^32 - 1")
        slots[slot] = slots[slot] & 0xFFFF_FFFF_0000_0000 | UInt64(value + 1)
    }

    mutating func place(_ entry: UInt64) {
        var slot = start(entry >> 32)
        while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
        slots[slot] = entry
    }

    mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: 2 * old.count)
        for entry in old where entry != 0 { place(entry) }
    }
}
