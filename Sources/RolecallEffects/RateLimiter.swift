import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Paces requests so a batch does not provoke 429s: a token bucket at the tenant's rate, plus a pause until the
/// reset time whenever a response says no requests remain.
///
/// The pause is capped at ``maximumWait`` (a reset an hour away from a broken server costs a minute, not an
/// hour) and logged with what waited and why; reset headers that are not sensible Unix times are ignored.
public final class RateLimiter {
    /// Requests per second on average.
    public let rate: Double
    /// Requests allowed back to back.
    public let burst: Double
    /// The longest single pause, in seconds (as the retry policy's cap).
    public let maximumWait: Double
    var tokens: Double
    var updated: Double
    var pausedUntil = 0.0
    /// Why a limiter waits.
    public enum WaitReason: Sendable, Equatable {
        /// Pacing to ``rate``.
        case rate
        /// A response said no requests remain until its `x-ratelimit-reset`.
        case reset
    }
    /// The wait ``acquire(before:)`` last refused to begin because it would end past the deadline, and why.
    public private(set) var refusedWait: (seconds: Double, reason: WaitReason)?
    let clock: () -> Double
    let sleep: (Double) -> Void
    let logger: Logger

    /// A limiter at `rate` requests per second with bursts of `burst`, pausing at most `maximumWait` seconds at a
    /// time. A rate that is not a positive finite number is taken as 0.001 (and a burst as 1).
    public init(
        rate: Double, burst: Double? = nil, maximumWait: Double = 60,
        logger: Logger = Logger(label: "rolecall.effects"),
        clock: @escaping () -> Double = wallClock, sleep: @escaping (Double) -> Void = sleepSeconds
    ) {
        self.rate = rate.isFinite ? max(rate, 0.001) : 0.001
        let burst = burst ?? self.rate
        self.burst = burst.isFinite ? max(1, burst) : 1
        self.maximumWait = maximumWait.isFinite ? max(0, maximumWait) : 60
        self.tokens = self.burst
        self.clock = clock
        self.sleep = sleep
        self.logger = logger
        self.updated = clock()
    }

    /// Waits until a request may be sent; returns how long it waited, in seconds.
    @discardableResult
    public func acquire() -> Double { acquire(before: .infinity) ?? 0 }

    /// Waits until a request may be sent, unless that would take until Unix time `deadline` or later: then it
    /// returns nil at once, without waiting. Otherwise returns how long it waited, in seconds.
    public func acquire(before deadline: Double) -> Double? {
        let now = clock()
        var pause = max(0, pausedUntil - now)
        if pause > maximumWait {
            pausedUntil = now + maximumWait
            pause = maximumWait
        }
        refill()
        let bucketWait = tokens < 1 ? min((1 - tokens) / rate, maximumWait) : 0
        guard now + pause + bucketWait < deadline else {
            refusedWait = (pause + bucketWait, pause > 0 ? .reset : .rate)
            return nil
        }
        if pause > 0 {
            logger.notice(
                "pausing requests until the rate limit resets",
                metadata: ["wait.seconds": "\(Self.rounded(pause))", "wait.reason": "x-ratelimit-remaining=0"])
            sleep(pause)
        }
        var waited = pause
        refill()
        if tokens < 1 {
            let wait = min((1 - tokens) / rate, maximumWait)
            // A wait of a second or more is worth a line at the CLI's level (notice): the run seems stuck otherwise.
            logger.log(
                level: wait >= 1 ? .notice : .debug, "pacing requests to the configured rate: the next request waits",
                metadata: [
                    "wait.seconds": "\(Self.rounded(wait))", "wait.reason": "rate",
                    "rate.per_second": "\(rate)", "burst": "\(burst)",
                ])
            sleep(wait)
            waited += wait
            refill()
        }
        // A capped wait may leave less than one token: the debt is dropped, so no later wait grows past the cap.
        tokens = max(0, tokens - 1)
        return waited
    }

    /// Notes a response's rate-limit headers: with none remaining, requests pause until the reset time (a reset
    /// that is not a Unix time up to year 9999 is ignored).
    public func observe(headers: [String: String]) {
        guard let remaining = NetworkValue.count(headers["x-ratelimit-remaining"]), remaining <= 0,
            let reset = NetworkValue.unixTime(headers["x-ratelimit-reset"])
        else { return }
        pausedUntil = max(pausedUntil, reset)
        logger.notice(
            "the server says no requests remain until the reset",
            metadata: ["x-ratelimit-reset": "\(reset)", "wait.seconds": "\(Self.rounded(reset - clock()))"])
    }

    func refill() {
        let now = clock()
        tokens = min(burst, tokens + max(0, now - updated) * rate)
        updated = now
    }

    /// Seconds to three decimals, for logs; anything not finite shows as is.
    static func rounded(_ seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 1e12 else { return "\(seconds)" }
        return String(Double(Int(seconds * 1000)) / 1000)
    }
}

/// Seconds since the Unix epoch.
public func wallClock() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Blocks the calling thread for `seconds`; a value that is not a positive finite number does not wait, and a
/// wait is never longer than a day.
public func sleepSeconds(_ seconds: Double) {
    guard seconds.isFinite, seconds > 0 else { return }
    let seconds = min(seconds, 86_400)
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
