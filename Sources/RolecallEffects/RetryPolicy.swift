/// When to retry a Management API request, and how long to wait first.
///
/// Retried: 429, 408, 5xx, network failures and invalid answers. The wait is `Retry-After` when present (seconds,
/// or an HTTP-date minus now, never less than ``minimumResetWait``), else `x-ratelimit-reset` minus now (never less
/// than ``minimumResetWait``), else exponential
/// backoff with full jitter; every wait is capped at ``maximumWait`` and the attempts at ``maxAttempts``. A header
/// that is not a sensible number (NaN, infinite, negative, past year 9999) counts as absent. Any other 4xx is
/// permanent and never retried.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts = 8
    /// The longest single wait, in seconds.
    public var maximumWait = 60.0
    /// The shortest wait derived from a time: `x-ratelimit-reset` (Auth0's reset can equal now) or a `Retry-After`
    /// HTTP-date (which can be past).
    public var minimumResetWait = 1.0
    /// The first backoff, in seconds; it doubles with each attempt.
    public var baseBackoff = 0.5

    /// The default policy.
    public init() {}

    /// Why a retry waits: shown in the logs.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        case retryAfter
        case rateLimitReset
        case backoff

        public var description: String {
            switch self {
            case .retryAfter: "Retry-After"
            case .rateLimitReset: "x-ratelimit-reset"
            case .backoff: "backoff"
            }
        }
    }

    /// Whether a response with `status` may be retried.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 408 || (500...599).contains(status)
    }

    /// How long to wait before attempt `attempt + 1` (attempt counts from 1) after `headers`, at Unix time `now`.
    /// `random` is a number in 0..<1 for the jitter.
    public func wait(afterAttempt attempt: Int, headers: [String: String], now: Double, random: Double) -> (
        Double, Reason
    ) {
        // An HTTP-date names a second, which may be this one or already past (a server's clock behind ours): like
        // a reset time, it waits at least ``minimumResetWait``, or every retry would follow at once. Delta-seconds
        // are the server's own count, `0` included.
        if let retryAfter = NetworkValue.retryAfter(headers["retry-after"], now: now, dateFloor: minimumResetWait) {
            return (min(retryAfter, maximumWait), .retryAfter)
        }
        if let reset = NetworkValue.unixTime(headers["x-ratelimit-reset"]), now.isFinite {
            return (min(max(reset - now, minimumResetWait), maximumWait), .rateLimitReset)
        }
        let ceiling = min(maximumWait, baseBackoff * Double(1 << min(max(attempt - 1, 0), 20)))
        return (min(maximumWait, max(0.05, ceiling * (random.isFinite ? random : 1))), .backoff)
    }
}
