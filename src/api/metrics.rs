//! What `/metrics` tells Prometheus: requests by endpoint and status, their latency, audit
//! entries written and refused, keys refused.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route (`/api/v1/households/{id}`), never the raw path.
    pub endpoint: String,
    /// HTTP status.
    pub status: u16,
}

/// Labels of a latency.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    /// The route.
    pub endpoint: String,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// Seconds to answer.
    pub latency: Family<EndpointLabels, Histogram>,
    /// Audit entries committed.
    pub audit_written: Counter,
    /// Requests refused because their audit entry could not be written.
    pub audit_failed: Counter,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ])
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("lifeline");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<EndpointLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let audit_written = Counter::default();
        let audit_failed = Counter::default();
        registry.register(
            "http_requests",
            "API requests answered, by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an API request, by route",
            latency.clone(),
        );
        registry.register(
            "audit_entries",
            "Read-audit entries committed",
            audit_written.clone(),
        );
        registry.register(
            "audit_failures",
            "Requests refused because their audit entry could not be written",
            audit_failed.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            audit_written,
            audit_failed,
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
