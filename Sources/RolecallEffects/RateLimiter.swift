#if canImport(Glibc)
    import Glibc
#endif

/// Paces requests so a batch does not provoke 429s: a token bucket at the tenant's rate, plus a pause until the
/// reset time whenever a response says no requests remain.
public final class RateLimiter {
    /// Requests per second on average.
    public let rate: Double
    /// Requests allowed back to back.
    public let burst: Double
    var tokens: Double
    var updated: Double
    var pausedUntil = 0.0
    let clock: () -> Double
    let sleep: (Double) -> Void

    /// A limiter at `rate` requests per second with bursts of `burst`.
    public init(
        rate: Double, burst: Double? = nil, clock: @escaping () -> Double = wallClock,
        sleep: @escaping (Double) -> Void = sleepSeconds
    ) {
        self.rate = max(rate, 0.001)
        self.burst = max(1, burst ?? rate)
        self.tokens = self.burst
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()
    }

    /// Waits until a request may be sent; returns how long it waited, in seconds.
    @discardableResult
    public func acquire() -> Double {
        var waited = 0.0
        let now = clock()
        if pausedUntil > now {
            sleep(pausedUntil - now)
            waited += pausedUntil - now
        }
        refill()
        if tokens < 1 {
            let wait = (1 - tokens) / rate
            sleep(wait)
            waited += wait
            refill()
        }
        tokens -= 1
        return waited
    }

    /// Notes a response's rate-limit headers: with none remaining, requests pause until the reset time.
    public func observe(headers: [String: String]) {
        guard let remaining = headers["x-ratelimit-remaining"].flatMap(Int.init), remaining <= 0,
            let reset = headers["x-ratelimit-reset"].flatMap(Double.init)
        else { return }
        pausedUntil = max(pausedUntil, reset)
    }

    func refill() {
        let now = clock()
        tokens = min(burst, tokens + (now - updated) * rate)
        updated = now
    }
}

/// Seconds since the Unix epoch.
public func wallClock() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Blocks the calling thread for `seconds`.
public func sleepSeconds(_ seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
