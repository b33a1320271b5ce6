/// The signatures of the signed requests whose decisions the outbox committed, until they expire: a signed
/// request seen before (a client's retry, or a captured request replayed within the signature window) is logged
/// but queues no role change, since an older login's effects replayed would undo a newer one's.
///
/// Owned by the outbox's writer thread alone, which commits every decision in order: a signature counts as seen
/// only once the transaction that recorded it has committed, so a request refused because its commit failed is
/// processed normally when the client retries it, and of two identical requests committed together only the
/// first queues effects. The table `signatures` holds the same set on disk, written in the decision's own
/// transaction, and is read back at start-up, so a restart forgets nothing that was acknowledged.
///
/// A signature is remembered until it expires (its timestamp leaves the window; the timestamp check refuses it
/// from then on). At most ``capacity`` are remembered in memory; past that the oldest are forgotten first, which
/// only re-opens the window for requests about to leave it.
final class SeenSignatures {
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

    /// Signatures accepted by a transaction not yet committed, with their expiry.
    typealias Pending = [Key: Double]

    let capacity: Int
    private var seen: [Key: Double] = [:]
    /// Keys in the order they were committed, with their expiry, for forgetting the oldest first.
    private var order: [(key: Key, expires: Double)] = []
    private var head = 0

    /// An empty memory of at most `capacity` signatures.
    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// What to insert for `record` at `now`, in a transaction that has already accepted `pending`: the record
    /// itself when its signature is new (the signature joins `pending`), or, for a signature committed before
    /// and not expired, the record without its plan and its signature (`replayed` true).
    func screen(_ record: DecisionRecord, now: Double, pending: inout Pending) -> (
        record: DecisionRecord, replayed: Bool
    ) {
        guard let signature = record.signature, let key = Key(signature.bytes) else { return (record, false) }
        forgetExpired(now: now)
        if let expires = seen[key] ?? pending[key], expires >= now {
            var replay = record
            replay.plan = nil
            replay.signature = nil
            return (replay, true)
        }
        pending[key] = signature.expires
        return (record, false)
    }

    /// Remembers the signatures of a transaction that committed.
    func remember(_ pending: Pending) {
        for (key, expires) in pending { remember(key, expires: expires) }
    }

    /// Remembers `bytes`, committed before, until `expires` (for the signatures read back at start-up).
    func remember(_ bytes: [UInt8], expires: Double) {
        guard let key = Key(bytes) else { return }
        remember(key, expires: expires)
    }

    private func remember(_ key: Key, expires: Double) {
        if order.count - head >= capacity { forgetOldest() }
        seen[key] = expires
        order.append((key, expires))
    }

    /// Forgets what has left the window.
    private func forgetExpired(now: Double) {
        while head < order.count && order[head].expires < now { forgetOldest() }
        if head > 4_096 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    private func forgetOldest() {
        let old = order[head]
        if seen[old.key] == old.expires { seen[old.key] = nil }
        head += 1
    }

    /// How many signatures are remembered.
    var count: Int { seen.count }
}
