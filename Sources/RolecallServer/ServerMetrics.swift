import Prometheus
import RolecallEngine
import Synchronization

/// The server's Prometheus metrics, in one registry that `/metrics` exports whole.
///
/// Production bootstraps swift-metrics with a ``PrometheusMetricsFactory`` on the same registry (see
/// ``ServerMetrics/bootstrapMetricsSystem()``), so metrics other modules record through swift-metrics (the outbox
/// worker's) appear beside these. Tests give each application a registry of its own.
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` exports.
    public let registry: PrometheusCollectorRegistry
    let decisions: Counter
    let reloads: Counter
    let reloadFailures: Counter
    let ruleCount: Gauge
    let loadedAt: Gauge
    let generation: Gauge
    let cache = Mutex<Cache>(Cache())

    struct Cache {
        var latency: [String: DurationHistogram] = [:]
        var rules: [String: Counter] = [:]
        var errors: [String: Counter] = [:]
    }

    /// Buckets of the request latency histogram: a decision takes microseconds, a commit a few milliseconds.
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// Metrics in `registry`, with a build-info gauge for `version`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), version: String) {
        self.registry = registry
        decisions = registry.makeCounter(
            descriptor: .init(
                namespace: "rolecall", metricName: "decisions", unitName: "total",
                helpText: "Decisions answered by POST /v1/decide."))
        reloads = registry.makeCounter(
            descriptor: .init(
                namespace: "rolecall", metricName: "ruleset_loads", unitName: "total",
                helpText: "Rule sets loaded (at start and by reloads)."))
        reloadFailures = registry.makeCounter(
            descriptor: .init(
                namespace: "rolecall", metricName: "ruleset_reload_failures", unitName: "total",
                helpText: "Reloads refused because the new rule set had errors or could not be read."))
        ruleCount = registry.makeGauge(
            descriptor: .init(
                namespace: "rolecall", metricName: "ruleset_rules", unitName: "",
                helpText: "Rules in the rule set serving now."))
        loadedAt = registry.makeGauge(
            descriptor: .init(
                namespace: "rolecall", metricName: "ruleset_loaded_timestamp", unitName: "seconds",
                helpText: "When the rule set serving now was loaded (Unix time)."))
        generation = registry.makeGauge(
            descriptor: .init(
                namespace: "rolecall", metricName: "ruleset_generation", unitName: "",
                helpText: "1 for the rule set the server started with, one more per successful reload."))
        registry.makeGauge(
            descriptor: .init(
                namespace: "rolecall", metricName: "build_info", unitName: "",
                helpText: "The running version of Rolecall (always 1)."),
            labels: [("version", version)]
        ).set(to: 1)
    }

    /// The registry in Prometheus's text format.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// Records one HTTP request's latency.
    func requestFinished(route: String, method: String, status: Int, duration: Duration) {
        histogram(route: route, method: method, status: status).record(duration)
    }

    /// The latency histogram of one route, method and status (made on first use).
    func histogram(route: String, method: String, status: Int) -> DurationHistogram {
        let key = route + " " + method + " " + String(status)
        return cache.withLock { cache in
            if let known = cache.latency[key] { return known }
            let made = registry.makeDurationHistogram(
                descriptor: .init(
                    namespace: "rolecall", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                    helpText: "Time from a request's head to its response, by route, method and status."),
                labels: [("route", route), ("method", method), ("status", String(status))],
                buckets: ServerMetrics.latencyBuckets)
            cache.latency[key] = made
            return made
        }
    }

    /// Counts one decision, the rules that fired and the evaluation errors it reported.
    func decided(_ decision: Decision) {
        decisions.increment()
        guard !decision.matched.isEmpty || !decision.errors.isEmpty else { return }
        let (fired, failed) = cache.withLock { cache in
            let fired = decision.matched.map { rule in
                if let known = cache.rules[rule] { return known }
                let made = registry.makeCounter(
                    descriptor: .init(
                        namespace: "rolecall", metricName: "rules_fired", unitName: "total",
                        helpText: "Times each rule fired, by rule name."),
                    labels: [("rule", rule)])
                cache.rules[rule] = made
                return made
            }
            let failed = decision.errors.map { error in
                if let known = cache.errors[error.code] { return known }
                let made = registry.makeCounter(
                    descriptor: .init(
                        namespace: "rolecall", metricName: "evaluation_errors", unitName: "total",
                        helpText: "Rule evaluation errors (the rule did not fire), by error code."),
                    labels: [("code", error.code)])
                cache.errors[error.code] = made
                return made
            }
            return (fired, failed)
        }
        for counter in fired { counter.increment() }
        for counter in failed { counter.increment() }
    }

    /// Records that `ruleSet` is serving now.
    func ruleSetLoaded(_ ruleSet: RuleSet) {
        reloads.increment()
        ruleCount.set(Double(ruleSet.program.ruleCount))
        loadedAt.set(ruleSet.loadedAt)
        generation.set(Double(ruleSet.generation))
    }

    /// Counts a refused reload.
    func reloadFailed() {
        reloadFailures.increment()
    }
}
