import RolecallLanguage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs a program and collects what it writes, without Foundation's `Process` (`rules diff --base` runs git).
enum Subprocess {
    /// What a finished program wrote, and its exit status (128 + N when signal N ended it).
    struct Output {
        var status: Int32
        var standardOutput: [UInt8]
        var standardError: [UInt8]
    }

    /// A program that could not be started; the description is the system's reason.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `arguments[0]`, found on `PATH`, with `arguments`, standard input closed, and both of its output
    /// streams read as they come (so a large output cannot fill a pipe and stall the program). Each argument is
    /// passed as the bytes it stands for as a file name (``FileName/bytes(_:)``): a path read as raw bytes reaches
    /// the program as those bytes.
    static func run(_ arguments: [String]) throws(Failure) -> Output {
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        guard pipe(&output) == 0 else { throw Failure(description: String(cString: strerror(errno))) }
        guard pipe(&errors) == 0 else {
            let reason = String(cString: strerror(errno))
            close(output[0])
            close(output[1])
            throw Failure(description: reason)
        }
        // Only the child's standard output and error are these pipes: no other process started meanwhile (a
        // worker thread's) may inherit them, or the reads below would wait for it to end too.
        for end in output + errors { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        let argv = arguments.map { FileName.cString($0).withUnsafeBufferPointer { strdup($0.baseAddress!) } } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid = pid_t()
        let status = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        close(output[1])
        close(errors[1])
        guard status == 0 else {
            close(output[0])
            close(errors[0])
            throw Failure(description: String(cString: strerror(status)))
        }
        var result = Output(status: 0, standardOutput: [], standardError: [])
        drain(output[0], errors[0], into: &result)
        close(output[0])
        close(errors[0])
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
        let signal = waitStatus & 0x7f
        result.status = signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal
        return result
    }

    /// Reads both descriptors to their ends, whichever has something first.
    static func drain(_ output: Int32, _ errors: Int32, into result: inout Output) {
        var descriptors = [
            pollfd(fd: output, events: Int16(POLLIN), revents: 0),
            pollfd(fd: errors, events: Int16(POLLIN), revents: 0),
        ]
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while descriptors.contains(where: { $0.fd >= 0 }) {
            guard poll(&descriptors, 2, -1) >= 0 else {
                if errno == EINTR { continue }
                return
            }
            for index in 0..<2 where descriptors[index].fd >= 0 && descriptors[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(descriptors[index].fd, $0.baseAddress!, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    descriptors[index].fd = -1  // poll skips a negative descriptor
                    continue
                }
                if index == 0 {
                    result.standardOutput += chunk[0..<count]
                } else {
                    result.standardError += chunk[0..<count]
                }
            }
        }
    }
}
