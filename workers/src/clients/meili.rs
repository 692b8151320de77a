//! The writing side of Meilisearch: index creation, settings, document batches, swaps and
//! deletions, each waited for until its task has finished. Every request has a deadline, so a
//! hung server fails a sync instead of stalling it.

use std::future::Future;
use std::time::Duration;

use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::errors::{Error as SdkError, ErrorCode, MeilisearchError};
use meilisearch_sdk::settings::Settings;
use meilisearch_sdk::tasks::Task;

/// Why a Meilisearch call failed.
#[derive(Debug, thiserror::Error)]
pub enum MeiliError {
    /// The server refused the request, could not be reached, or answered nonsense.
    #[error("meilisearch {op}: {source}")]
    Request {
        /// What was being done.
        op: &'static str,
        /// The client's error.
        #[source]
        source: SdkError,
    },
    /// No answer within the request deadline.
    #[error("meilisearch {op}: no answer within {ms} ms")]
    Timeout {
        /// What was being done.
        op: &'static str,
        /// The deadline.
        ms: u128,
    },
    /// The server took the request but its task failed.
    #[error("meilisearch task {uid} ({op}) failed: {message}")]
    TaskFailed {
        /// Task uid.
        uid: u32,
        /// What was being done.
        op: &'static str,
        /// Meilisearch's own message.
        message: String,
    },
    /// The task was still enqueued or processing at the task deadline.
    #[error("meilisearch task {uid} ({op}) not finished after {secs} s")]
    TaskTimeout {
        /// Task uid.
        uid: u32,
        /// What was being done.
        op: &'static str,
        /// The deadline.
        secs: u64,
    },
}

/// The SDK takes task ids as `AsRef<u32>`, which a bare `u32` is not.
struct TaskUid(u32);

impl AsRef<u32> for TaskUid {
    fn as_ref(&self) -> &u32 {
        &self.0
    }
}

/// A Meilisearch client for writes.
#[derive(Debug, Clone)]
pub struct MeiliWriter {
    client: Client,
    request_timeout: Duration,
    task_timeout: Duration,
}

impl MeiliWriter {
    /// A client on `url`. `request_timeout` bounds each HTTP exchange; `task_timeout` how long a
    /// task (indexing a batch can take a while on a busy server) may stay unfinished.
    ///
    /// # Errors
    /// When the key cannot go in an HTTP header.
    pub fn new(
        url: &str,
        api_key: Option<&str>,
        request_timeout: Duration,
        task_timeout: Duration,
    ) -> Result<Self, MeiliError> {
        let client = Client::new(url, api_key).map_err(|source| MeiliError::Request {
            op: "client",
            source,
        })?;
        Ok(Self {
            client,
            request_timeout,
            task_timeout,
        })
    }

    async fn call<T>(
        &self,
        op: &'static str,
        f: impl Future<Output = Result<T, SdkError>>,
    ) -> Result<T, MeiliError> {
        match tokio::time::timeout(self.request_timeout, f).await {
            Ok(r) => r.map_err(|source| MeiliError::Request { op, source }),
            Err(_) => Err(MeiliError::Timeout {
                op,
                ms: self.request_timeout.as_millis(),
            }),
        }
    }

    /// Waits for a task to finish; a failed task is an error carrying Meilisearch's message.
    ///
    /// # Errors
    /// A failed task, the task deadline, or a failed poll.
    pub async fn wait(&self, uid: u32, op: &'static str) -> Result<(), MeiliError> {
        self.wait_task(uid, op)
            .await?
            .map_err(|e| MeiliError::TaskFailed {
                uid,
                op,
                message: e.error_message,
            })
    }

    /// Waits for a task to finish: `Ok(Err(..))` is the task's own failure.
    async fn wait_task(
        &self,
        uid: u32,
        op: &'static str,
    ) -> Result<Result<(), MeilisearchError>, MeiliError> {
        let deadline = tokio::time::Instant::now() + self.task_timeout;
        // Small tasks finish in milliseconds; back off for the long ones.
        let mut pause = Duration::from_millis(2);
        loop {
            match self.call(op, self.client.get_task(TaskUid(uid))).await? {
                Task::Succeeded { .. } => return Ok(Ok(())),
                Task::Failed { content } => return Ok(Err(content.error)),
                Task::Enqueued { .. } | Task::Processing { .. } => {}
            }
            if tokio::time::Instant::now() + pause > deadline {
                return Err(MeiliError::TaskTimeout {
                    uid,
                    op,
                    secs: self.task_timeout.as_secs(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Whether an index exists.
    ///
    /// # Errors
    /// Any answer but the index or `index_not_found`.
    pub async fn index_exists(&self, uid: &str) -> Result<bool, MeiliError> {
        match tokio::time::timeout(self.request_timeout, self.client.get_index(uid)).await {
            Err(_) => Err(MeiliError::Timeout {
                op: "get index",
                ms: self.request_timeout.as_millis(),
            }),
            Ok(Ok(_)) => Ok(true),
            Ok(Err(SdkError::Meilisearch(e))) if e.error_code == ErrorCode::IndexNotFound => {
                Ok(false)
            }
            Ok(Err(source)) => Err(MeiliError::Request {
                op: "get index",
                source,
            }),
        }
    }

    /// Creates an index with primary key `id` unless it exists; `true` when it was created.
    /// (Creating and accepting `index_already_exists` avoids a lookup that answers 404 in the
    /// usual case, and a race with another process creating it.)
    ///
    /// # Errors
    /// As [`MeiliWriter::wait`].
    pub async fn create_index_if_missing(&self, uid: &str) -> Result<bool, MeiliError> {
        let t = self
            .call("create index", self.client.create_index(uid, Some("id")))
            .await?;
        match self.wait_task(t.task_uid, "create index").await? {
            Ok(()) => Ok(true),
            Err(e) if e.error_code == ErrorCode::IndexAlreadyExists => Ok(false),
            Err(e) => Err(MeiliError::TaskFailed {
                uid: t.task_uid,
                op: "create index",
                message: e.error_message,
            }),
        }
    }

    /// Creates an index with primary key `id`.
    ///
    /// # Errors
    /// As [`MeiliWriter::wait`]; an existing uid fails the task.
    pub async fn create_index(&self, uid: &str) -> Result<(), MeiliError> {
        let t = self
            .call("create index", self.client.create_index(uid, Some("id")))
            .await?;
        self.wait(t.task_uid, "create index").await
    }

    /// Replaces an index's settings.
    ///
    /// # Errors
    /// As [`MeiliWriter::wait`].
    pub async fn set_settings(&self, uid: &str, settings: &Settings) -> Result<(), MeiliError> {
        let index = self.client.index(uid);
        let t = self.call("settings", index.set_settings(settings)).await?;
        self.wait(t.task_uid, "settings").await
    }

    /// Sends one batch of NDJSON documents (added or replaced by `id`) and waits for it.
    ///
    /// # Errors
    /// As [`MeiliWriter::wait`].
    pub async fn add_ndjson(&self, uid: &str, ndjson: Vec<u8>) -> Result<(), MeiliError> {
        let index = self.client.index(uid);
        let t = self
            .call(
                "documents",
                index.add_or_replace_unchecked_payload(
                    futures_util::io::Cursor::new(ndjson),
                    "application/x-ndjson",
                    Some("id"),
                ),
            )
            .await?;
        self.wait(t.task_uid, "documents").await
    }

    /// Deletes documents by id.
    ///
    /// # Errors
    /// As [`MeiliWriter::wait`].
    pub async fn delete_documents(&self, uid: &str, ids: &[i64]) -> Result<(), MeiliError> {
        let index = self.client.index(uid);
        let t = self
            .call("delete documents", index.delete_documents(ids))
            .await?;
        self.wait(t.task_uid, "delete documents").await
    }

    /// Swaps two indexes' contents and settings, atomically for searches.
    ///
    /// # Errors
    /// As [`MeiliWriter::wait`].
    pub async fn swap(&self, a: &str, b: &str) -> Result<(), MeiliError> {
        let swap = SwapIndexes {
            indexes: (a.to_owned(), b.to_owned()),
            rename: None,
        };
        let t = self.call("swap", self.client.swap_indexes([&swap])).await?;
        self.wait(t.task_uid, "swap").await
    }

    /// Deletes an index.
    ///
    /// # Errors
    /// As [`MeiliWriter::wait`].
    pub async fn delete_index(&self, uid: &str) -> Result<(), MeiliError> {
        let t = self
            .call("delete index", self.client.delete_index(uid))
            .await?;
        self.wait(t.task_uid, "delete index").await
    }
}
