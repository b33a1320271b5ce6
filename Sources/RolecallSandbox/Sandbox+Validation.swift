extension Sandbox.Configuration {
    /// Throws when the sandbox could not serve this configuration: the rate must be a positive finite number,
    /// the burst at least 1, fault counts not negative, reset times at most a year, the delay at most ten
    /// minutes.
    public func validate() throws(SandboxError) {
        guard rateLimit.isFinite, rateLimit > 0 else { throw SandboxError("the rate must be a positive number") }
        guard burst >= 1 else { throw SandboxError("the burst must be at least 1") }
        guard faults.tooManyRequests >= 0, faults.serverErrors >= 0, faults.droppedConnections >= 0,
            faults.badRequests >= 0
        else { throw SandboxError("fault counts must not be negative") }
        guard (0...31_536_000).contains(faults.resetAfter), (0...31_536_000).contains(faults.retryAfter ?? 0) else {
            throw SandboxError("reset and Retry-After times must be between 0 and a year")
        }
        guard (0...600_000).contains(faults.delayMilliseconds) else {
            throw SandboxError("the delay must be between 0 and 600000 milliseconds")
        }
    }
}
