//! The job contract and the envelope that travels through the queues.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Queue;

/// A kind of job. The payload holds ids, never whole rows: the handler reads current state.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name, stored in the outbox and the queues; renaming it orphans queued jobs.
    const NAME: &'static str;
    /// The queue (worker pool) that runs it.
    const QUEUE: Queue;

    /// The tenant the job works for.
    fn tenant_id(&self) -> Uuid;
}

/// What a queue carries: which job, for which tenant, from which outbox row, with its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// [`Job::NAME`].
    pub name: String,
    /// The tenant.
    pub tenant_id: Uuid,
    /// The outbox row it came from.
    pub outbox_id: i64,
    /// Which run of the job this is (0 first; each retry of ours adds one).
    #[serde(default)]
    pub attempt: u32,
    /// The job's payload.
    pub payload: serde_json::Value,
    /// When the job became due (Unix microseconds), set by the relay: the start of a run minus
    /// this is the enqueue→start latency operators watch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at_us: Option<i64>,
    /// How many times the outbox row was put back in line after the queue lost its push or a
    /// worker deferred it (its tenant's database was down): part of [`Envelope::dedupe_key`], so
    /// the backend does not drop the new push as a duplicate of the first. Not part of the run's
    /// identity ([`Envelope::push_key`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub requeued: u32,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes fields by reference"
)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Envelope {
    /// The envelope of an outbox row of `tenant_id`: its job, attempt and payload, due when the
    /// row became available. The relay pushes these; tests that run jobs in-task deliver them.
    #[must_use]
    pub fn of_outbox_row(row: entities::jobs::tables::outbox::Model, tenant_id: Uuid) -> Self {
        Self {
            name: row.job_name,
            tenant_id,
            outbox_id: row.id,
            attempt: u32::try_from(row.attempt).unwrap_or(0),
            payload: row.payload,
            due_at_us: Some(row.available_at.max(row.created_at).timestamp_micros()),
            requeued: u32::try_from(row.relay_attempts).unwrap_or(0),
        }
    }

    /// The idempotency key of the job: unique across tenants and stable across deliveries.
    #[must_use]
    pub fn key(&self) -> String {
        format!("{}:{}", self.tenant_id, self.outbox_id)
    }

    /// The key of this push: a retry is a new push of the same job, so it must not be taken for a
    /// duplicate by the backend's dedupe.
    #[must_use]
    pub fn push_key(&self) -> String {
        format!("{}:{}:{}", self.tenant_id, self.outbox_id, self.attempt)
    }

    /// The backend's dedupe key of this push: [`Envelope::push_key`], with the number of times
    /// the row was put back in line when it was. The backend remembers a key for days after its
    /// job ran, so a row pushed again under its first key would be dropped.
    #[must_use]
    pub fn dedupe_key(&self) -> String {
        if self.requeued == 0 {
            self.push_key()
        } else {
            format!("{}~{}", self.push_key(), self.requeued)
        }
    }

    /// Reads the payload as a job of type `J`.
    ///
    /// # Errors
    /// When the envelope is for another job or the payload does not fit `J`.
    pub fn decode<J: Job>(&self) -> Result<J, DecodeError> {
        if self.name != J::NAME {
            return Err(DecodeError::WrongJob {
                expected: J::NAME,
                found: self.name.clone(),
            });
        }
        serde_json::from_value(self.payload.clone())
            .map_err(|e| DecodeError::Payload(e.to_string()))
    }
}

/// Why an envelope could not be read as a job.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The envelope names another job.
    #[error("expected job {expected}, found {found}")]
    WrongJob {
        /// The job asked for.
        expected: &'static str,
        /// The job in the envelope.
        found: String,
    },
    /// The payload does not deserialise.
    #[error("bad payload: {0}")]
    Payload(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ping {
        tenant_id: Uuid,
        n: u32,
    }

    impl Job for Ping {
        const NAME: &'static str = "ping";
        const QUEUE: Queue = Queue::Maintenance;
        fn tenant_id(&self) -> Uuid {
            self.tenant_id
        }
    }

    fn envelope(name: &str, payload: serde_json::Value) -> Envelope {
        Envelope {
            name: name.into(),
            tenant_id: Uuid::nil(),
            outbox_id: 7,
            attempt: 2,
            payload,
            due_at_us: None,
            requeued: 0,
        }
    }

    #[test]
    fn the_key_joins_tenant_and_outbox_id_and_the_push_key_adds_the_attempt() {
        let e = envelope("ping", serde_json::json!({}));
        assert_eq!(e.key(), "00000000-0000-0000-0000-000000000000:7");
        assert_eq!(e.push_key(), "00000000-0000-0000-0000-000000000000:7:2");
        assert_eq!(e.dedupe_key(), e.push_key());
        let again = Envelope { requeued: 1, ..e };
        assert_eq!(
            again.dedupe_key(),
            "00000000-0000-0000-0000-000000000000:7:2~1",
            "a row put back in line is pushed under a new dedupe key"
        );
        assert_eq!(again.push_key(), "00000000-0000-0000-0000-000000000000:7:2");
    }

    #[test]
    fn an_envelope_decodes_into_its_job() {
        let e = envelope(
            "ping",
            serde_json::json!({"tenant_id": Uuid::nil(), "n": 3}),
        );
        assert_eq!(
            e.decode::<Ping>().unwrap(),
            Ping {
                tenant_id: Uuid::nil(),
                n: 3
            }
        );
    }

    #[test]
    fn an_envelope_of_another_job_or_a_bad_payload_is_refused() {
        let other = envelope(
            "pong",
            serde_json::json!({"tenant_id": Uuid::nil(), "n": 3}),
        );
        assert!(matches!(
            other.decode::<Ping>(),
            Err(DecodeError::WrongJob { .. })
        ));
        let bad = envelope("ping", serde_json::json!({"n": "three"}));
        assert!(matches!(bad.decode::<Ping>(), Err(DecodeError::Payload(_))));
    }
}
