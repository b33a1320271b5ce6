import CSQLite
import RolecallLanguage

/// One SQLite connection (system `libsqlite3`), used by one thread at a time.
///
/// Only what the outbox needs: statements with bound parameters, stepped row by row. Every failure is an
/// ``OutboxError`` carrying SQLite's own message and the statement it concerned.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    let path: String

    /// Opens `path`, creating it when `create` is true. Waits up to `busyMilliseconds` for another connection's
    /// write lock before failing with `SQLITE_BUSY`.
    init(path: String, create: Bool, readOnly: Bool = false, busyMilliseconds: Int32 = 10_000) throws(OutboxError) {
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX
        flags |= readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            handle = nil
            throw OutboxError("cannot open the outbox \(FileName.visible(path)): \(message)")
        }
        sqlite3_busy_timeout(handle, busyMilliseconds)
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs `sql` (one or more statements without parameters).
    func execute(_ sql: String) throws(OutboxError) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        guard status == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(status))
            sqlite3_free(error)
            throw OutboxError("outbox \(FileName.visible(path)): \(message) (in `\(sql.prefix(60))`)")
        }
    }

    /// A prepared statement for `sql`.
    func prepare(_ sql: String) throws(OutboxError) -> SQLiteStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
            let statement
        else {
            throw OutboxError("outbox \(FileName.visible(path)): \(lastMessage) (in `\(sql.prefix(60))`)")
        }
        return SQLiteStatement(statement, connection: self)
    }

    /// Runs `body` in a transaction that takes the write lock at once (`BEGIN IMMEDIATE`), committing when it
    /// returns and rolling back when it throws.
    func immediateTransaction<T>(_ body: () throws(OutboxError) -> T) throws(OutboxError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The connection's last error message.
    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// Rows changed by the last statement.
    var changes: Int { Int(sqlite3_changes(handle)) }
}

/// A prepared statement: bind with ``bind(_:)``, then ``step()`` through the rows; reset for the next use.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private let connection: SQLiteConnection

    init(_ statement: OpaquePointer, connection: SQLiteConnection) {
        self.statement = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(statement) }

    /// A value to bind.
    enum Value {
        case text(String)
        case integer(Int)
        case real(Double)
        case blob([UInt8])
        case null
    }

    /// Resets the statement and binds `values` to its parameters in order.
    @discardableResult
    func bind(_ values: [Value]) throws(OutboxError) -> SQLiteStatement {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .text(let text):
                // By length, not up to a NUL: a JSON string can hold U+0000.
                var text = text
                status = text.withUTF8 {
                    sqlite3_bind_text64(
                        statement, index,
                        UnsafeRawPointer($0.baseAddress ?? UnsafePointer(bitPattern: 1))?
                            .assumingMemoryBound(to: CChar.self), UInt64($0.count), rolecall_sqlite_transient(),
                        UInt8(SQLITE_UTF8))
                }
            case .integer(let number): status = sqlite3_bind_int64(statement, index, Int64(number))
            case .real(let number): status = sqlite3_bind_double(statement, index, number)
            case .blob(let bytes):
                status = bytes.withUnsafeBytes {
                    sqlite3_bind_blob64(
                        statement, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64($0.count),
                        rolecall_sqlite_transient())
                }
            case .null: status = sqlite3_bind_null(statement, index)
            }
            guard status == SQLITE_OK else { throw OutboxError("outbox: cannot bind: \(connection.lastMessage)") }
        }
        return self
    }

    /// Advances to the next row; false when there is none.
    func step() throws(OutboxError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = connection.lastMessage
            sqlite3_reset(statement)
            throw OutboxError("outbox \(FileName.visible(connection.path)): \(message)")
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [Value] = []) throws(OutboxError) {
        try bind(values)
        while try step() {}
        sqlite3_reset(statement)
    }

    /// Every row of the statement run with `values`, each read by `row`.
    func rows<T>(_ values: [Value], _ row: (SQLiteStatement) -> T) throws(OutboxError) -> [T] {
        try bind(values)
        var result: [T] = []
        while try step() { result.append(row(self)) }
        sqlite3_reset(statement)
        return result
    }

    /// Every row of the statement run without parameters.
    func rows<T>(_ row: (SQLiteStatement) -> T) throws(OutboxError) -> [T] { try rows([], row) }

    /// Column `index` of the current row as text; nil for NULL.
    func text(_ index: Int32) -> String? {
        guard sqlite3_column_type(statement, index) != SQLITE_NULL, let text = sqlite3_column_text(statement, index)
        else { return nil }
        let count = Int(sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Column `index` as an integer (0 for NULL).
    func integer(_ index: Int32) -> Int { Int(sqlite3_column_int64(statement, index)) }

    /// Column `index` as a real number; nil for NULL.
    func real(_ index: Int32) -> Double? {
        sqlite3_column_type(statement, index) == SQLITE_NULL ? nil : sqlite3_column_double(statement, index)
    }

    /// Column `index` as bytes; nil for NULL.
    func blob(_ index: Int32) -> [UInt8]? {
        guard sqlite3_column_type(statement, index) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(statement, index))
        guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}
