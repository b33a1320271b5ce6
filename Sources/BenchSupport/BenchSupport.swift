// What the two benchmark executables (rolecall-bench, rolecall-load-bench) both need: reading and writing whole
// files with no size limit (the event workloads are hundreds of megabytes, past the rule loader's limit), a
// message on standard error, and a duration in seconds. A failure ends the program with status 2.
#if canImport(Glibc)
    import Glibc
#endif

/// The program's name, for its messages.
let program = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "bench"

/// Writes `text` to standard error.
public func complain(_ text: String) {
    _ = Array(text.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// The bytes of the file at `path`.
public func readAll(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        complain("\(program): cannot open \(path)\n")
        exit(2)
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while case let count = fread(&chunk, 1, chunk.count, file), count > 0 { bytes += chunk[0..<count] }
    return bytes
}

/// Writes `text` as UTF-8 to the file at `path`, replacing it.
public func writeAll(_ path: String, _ text: String) {
    guard let file = fopen(path, "wb") else {
        complain("\(program): cannot write \(path)\n")
        exit(2)
    }
    defer { fclose(file) }
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
}

/// `duration` in seconds.
public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
