import Metrics
import Prometheus

extension ServerMetrics {
    /// Routes swift-metrics (`Counter`, `Gauge`, `Timer` of any module, the outbox worker's among them) to this
    /// registry, so `/metrics` exports them too. Once per process: swift-metrics allows one bootstrap.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}
