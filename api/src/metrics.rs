//! HTTP metrics: requests and latency by route template and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The API's Prometheus metrics.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl HttpMetrics {
    /// Creates and registers the metrics.
    ///
    /// # Errors
    /// A registration clash.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "nexus_http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "nexus_http_request_duration_seconds",
                "HTTP request latency by method and route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        Ok(Self { requests, duration })
    }
}

/// Middleware: times the request and counts it under its route template (never the raw path,
/// which would make one series per id).
pub async fn middleware(State(m): State<HttpMetrics>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    m.duration
        .with_label_values(&[&method, &route])
        .observe(start.elapsed().as_secs_f64());
    m.requests
        .with_label_values(&[&method, &route, resp.status().as_str()])
        .inc();
    resp
}

/// A registry's metrics in the Prometheus text format, as an HTTP response (the API's
/// `/metrics`, and worker and scheduler processes' metrics listener).
pub fn exposition(registry: &prometheus::Registry) -> axum::response::Response {
    use axum::response::IntoResponse;
    use prometheus::Encoder;
    let encoder = prometheus::TextEncoder::new();
    let mut buf = Vec::new();
    match encoder.encode(&registry.gather(), &mut buf) {
        Ok(()) => (
            [(
                axum::http::header::CONTENT_TYPE,
                encoder.format_type().to_owned(),
            )],
            buf,
        )
            .into_response(),
        Err(e) => crate::error::ApiError::Internal(format!("metrics: {e}")).into_response(),
    }
}

/// Catalog search counters: which backend answered, and how often the configured one was
/// skipped because it did not answer.
#[derive(Clone)]
pub struct SearchMetrics {
    /// `nexus_catalog_searches_total{backend}`.
    pub searches: IntCounterVec,
    /// `nexus_catalog_search_fallbacks_total`.
    pub fallbacks: prometheus::IntCounter,
}

impl SearchMetrics {
    /// Creates and registers the metrics.
    ///
    /// # Errors
    /// A registration clash.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let searches = IntCounterVec::new(
            Opts::new(
                "nexus_catalog_searches_total",
                "Catalog searches by the backend that answered",
            ),
            &["backend"],
        )?;
        let fallbacks = prometheus::IntCounter::new(
            "nexus_catalog_search_fallbacks_total",
            "Catalog searches answered by SQL because Meilisearch did not answer",
        )?;
        registry.register(Box::new(searches.clone()))?;
        registry.register(Box::new(fallbacks.clone()))?;
        Ok(Self {
            searches,
            fallbacks,
        })
    }
}
