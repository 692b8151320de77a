//! Handlers of notification jobs: `notify.dispatch` turns business events into messages,
//! `notify.send` delivers one message through its channel.

mod dispatch;
pub mod send;

pub use dispatch::dispatch;
pub use send::{EMAIL_NOT_CONFIGURED, PUSH_NOT_CONFIGURED, WHATSAPP_NOT_CONFIGURED, send};

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Per-channel delivery metrics.
#[derive(Debug, Clone)]
pub struct NotifyMetrics {
    outcomes: IntCounterVec,
    latency: HistogramVec,
}

impl NotifyMetrics {
    /// Registers the metrics.
    ///
    /// # Errors
    /// When they are registered already.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let outcomes = IntCounterVec::new(
            Opts::new(
                "nexus_notifications_total",
                "Messages handled by notify.send, per channel and outcome (sent, failed, parked, \
                 retrying, interrupted)",
            ),
            &["channel", "outcome"],
        )?;
        // 5 ms to ~80 s: a local relay to a provider retrying.
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "nexus_notification_send_seconds",
                "Time the provider took to take a message, per channel",
            )
            .buckets(prometheus::exponential_buckets(0.005, 2.0, 15)?),
            &["channel"],
        )?;
        registry.register(Box::new(outcomes.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self { outcomes, latency })
    }

    pub(crate) fn outcome(&self, channel: &str, outcome: &str) {
        self.outcomes.with_label_values(&[channel, outcome]).inc();
    }

    pub(crate) fn took(&self, channel: &str, secs: f64) {
        self.latency.with_label_values(&[channel]).observe(secs);
    }
}
