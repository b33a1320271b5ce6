import Synchronization

/// Remembers the signatures accepted within the timestamp window, so a captured signed request is accepted once:
/// replayed later in the window, it would re-apply an older login's decision over a newer one.
///
/// A signature is remembered until its timestamp leaves the window (then the timestamp check refuses it
/// anyway). At most ``capacity`` are remembered; past that the oldest are forgotten first, which only
/// re-opens the window for requests about to leave it.
final class ReplayGuard: Sendable {
    /// A signature: the 32 bytes of an HMAC-SHA256, as four words.
    struct Key: Hashable {
        var words: (UInt64, UInt64, UInt64, UInt64)

        init?(_ bytes: [UInt8]) {
            guard bytes.count == 32 else { return nil }
            func word(_ at: Int) -> UInt64 { bytes[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
            words = (word(0), word(8), word(16), word(24))
        }

        static func == (lhs: Key, rhs: Key) -> Bool { lhs.words == rhs.words }

        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    struct State {
        var seen: [Key: Double] = [:]
        /// Keys in the order they were accepted, with their expiry, for forgetting the oldest first.
        var order: [(key: Key, expires: Double)] = []
        var head = 0
    }

    let window: Double
    let capacity: Int
    let state = Mutex(State())

    init(window: Double, capacity: Int = 200_000) {
        self.window = window
        self.capacity = capacity
    }

    /// True the first time `signature` (of a request stamped `timestamp`) is seen at `now`; false for a replay.
    func firstUse(of signature: [UInt8], timestamp: Double, now: Double) -> Bool {
        guard let key = Key(signature) else { return false }
        return state.withLock { state in
            // Forget what has left the window, and the oldest past the capacity.
            while state.head < state.order.count,
                state.order[state.head].expires < now || state.order.count - state.head >= capacity
            {
                let old = state.order[state.head]
                if state.seen[old.key] == old.expires { state.seen[old.key] = nil }
                state.head += 1
            }
            if state.head > 4_096 && state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
            if let expires = state.seen[key], expires >= now { return false }
            let expires = timestamp + window
            state.seen[key] = expires
            state.order.append((key, expires))
            return true
        }
    }
}
