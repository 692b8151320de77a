//! Per-queue Prometheus metrics: what the runtime sees of each run, and what the backend holds.

use std::time::Duration;

use jobs::{Queue, QueueBackend};
use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, exponential_buckets,
};

/// What the worker runtime records per queue.
#[derive(Clone, Debug)]
pub struct JobMetrics {
    started: IntCounterVec,
    finished: IntCounterVec,
    running: IntGaugeVec,
    duration: HistogramVec,
    latency: HistogramVec,
    tenants_down: prometheus::IntGauge,
}

impl JobMetrics {
    /// Registers the runtime's metrics.
    ///
    /// # Errors
    /// When a metric of the same name is already registered.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let started = IntCounterVec::new(
            Opts::new("nexus_jobs_started_total", "Job runs started, per queue"),
            &["queue"],
        )?;
        let finished = IntCounterVec::new(
            Opts::new(
                "nexus_jobs_finished_total",
                "Job runs finished, per queue and outcome (done, retrying, dead, quarantined, \
                 skipped, deferred: not run because the tenant's database was down)",
            ),
            &["queue", "outcome"],
        )?;
        let running = IntGaugeVec::new(
            Opts::new("nexus_jobs_running", "Job runs in progress in this process"),
            &["queue"],
        )?;
        // 1 ms to ~65 s: a no-op to a slow CFDI stamp.
        let duration = HistogramVec::new(
            HistogramOpts::new("nexus_job_duration_seconds", "Handler time per run")
                .buckets(exponential_buckets(0.001, 2.0, 17)?),
            &["queue"],
        )?;
        // 0.5 ms to ~2 h: idle latency to a deep backlog.
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "nexus_job_start_latency_seconds",
                "From the moment a job was due (committed, or its retry time) to its start",
            )
            .buckets(exponential_buckets(0.0005, 2.0, 24)?),
            &["queue"],
        )?;
        let tenants_down = prometheus::IntGauge::new(
            "nexus_tenants_down",
            "Tenants whose database this process cannot reach; their jobs wait in the outbox",
        )?;
        registry.register(Box::new(tenants_down.clone()))?;
        registry.register(Box::new(started.clone()))?;
        registry.register(Box::new(finished.clone()))?;
        registry.register(Box::new(running.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            started,
            finished,
            running,
            duration,
            latency,
            tenants_down,
        })
    }

    /// A handler is about to run; `due_at_us` is when its job became due.
    pub fn start(&self, queue: Queue, due_at_us: Option<i64>) {
        let q = queue.name();
        self.started.with_label_values(&[q]).inc();
        self.running.with_label_values(&[q]).inc();
        if let Some(due) = due_at_us {
            let waited = chrono::Utc::now().timestamp_micros() - due;
            // Clocks of two hosts may disagree a little: never a negative latency.
            #[expect(clippy::cast_precision_loss, reason = "microseconds fit f64 exactly")]
            let secs = waited.max(0) as f64 / 1e6;
            self.latency.with_label_values(&[q]).observe(secs);
        }
    }

    /// A handler has returned, and what came of the run (`Outcome::label` of the runtime).
    pub fn finish(&self, queue: Queue, took: Duration, outcome: &str) {
        let q = queue.name();
        self.running.with_label_values(&[q]).dec();
        self.duration
            .with_label_values(&[q])
            .observe(took.as_secs_f64());
        self.finished.with_label_values(&[q, outcome]).inc();
    }

    /// How many tenants are down now.
    pub fn tenants_down(&self, n: usize) {
        self.tenants_down.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// A delivery was acknowledged without a run because its tenant's database is down.
    pub fn deferred(&self, queue: Queue) {
        self.finished
            .with_label_values(&[queue.name(), "deferred"])
            .inc();
    }
}

/// What the queue backend holds, per queue and state, sampled every few seconds.
#[derive(Clone, Debug)]
pub struct QueueGauges {
    jobs: IntGaugeVec,
    up: prometheus::IntGauge,
}

impl QueueGauges {
    /// Registers `nexus_queue_jobs{queue,state}` and `nexus_queue_backend_up`.
    ///
    /// # Errors
    /// When a metric of the same name is already registered.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let jobs = IntGaugeVec::new(
            Opts::new(
                "nexus_queue_jobs",
                "Jobs in the queue backend, per queue and state (waiting, delayed, running, \
                 done, dead)",
            ),
            &["queue", "state"],
        )?;
        let up = prometheus::IntGauge::new(
            "nexus_queue_backend_up",
            "1 when the queue backend answered the last sample",
        )?;
        registry.register(Box::new(jobs.clone()))?;
        registry.register(Box::new(up.clone()))?;
        Ok(Self { jobs, up })
    }

    /// Reads every queue's counts once.
    pub async fn sample(&self, backend: &QueueBackend) {
        let mut ok = true;
        for q in Queue::ALL {
            match backend.counts(q).await {
                Ok(c) => {
                    for (state, n) in [
                        ("waiting", c.waiting),
                        ("delayed", c.delayed),
                        ("running", c.running),
                        ("done", c.done),
                        ("dead", c.dead),
                    ] {
                        self.jobs
                            .with_label_values(&[q.name(), state])
                            .set(i64::try_from(n).unwrap_or(i64::MAX));
                    }
                }
                Err(e) => {
                    tracing::debug!("queue counts of {}: {e}", q.name());
                    ok = false;
                }
            }
        }
        self.up.set(i64::from(ok));
    }

    /// Samples every `every` until `shutdown` turns true.
    pub async fn run(
        self,
        backend: QueueBackend,
        every: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            self.sample(&backend).await;
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}
