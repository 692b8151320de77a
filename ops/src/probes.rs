//! Readiness probes of dependencies other than the platform database.

use std::time::Duration;

use api::{BoxFuture, ReadinessProbe};

/// Answers when Redis answers `PING`.
pub struct RedisProbe {
    client: redis::Client,
}

impl RedisProbe {
    /// A probe for a Redis URL (already validated by the configuration).
    ///
    /// # Errors
    /// When the URL does not parse.
    pub fn new(url: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
        })
    }

    /// Pings once.
    ///
    /// # Errors
    /// Why Redis did not answer.
    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = tokio::time::timeout(
            Duration::from_secs(2),
            self.client.get_multiplexed_async_connection(),
        )
        .await
        .map_err(|_| "timed out connecting".to_owned())?
        .map_err(|e| e.to_string())?;
        let pong: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(format!("unexpected answer {pong}"))
        }
    }
}

impl ReadinessProbe for RedisProbe {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.ping())
    }
}

/// Answers when the queue backend answers (the SQLite queue file in the embedded shape).
pub struct QueueProbe {
    backend: jobs::QueueBackend,
}

impl QueueProbe {
    /// A probe for an open backend.
    #[must_use]
    pub fn new(backend: jobs::QueueBackend) -> Self {
        Self { backend }
    }
}

impl ReadinessProbe for QueueProbe {
    fn name(&self) -> &'static str {
        "queue"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.backend.ping().await.map_err(|e| e.to_string()) })
    }
}
