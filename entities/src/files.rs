//! The tenant's files (CFDI XML and PDF today; images next): a folder on disk
//! (`NEXUS_DATA_DIR/files`, the embedded shape's and a single host's), or any S3-compatible
//! object store (`FILES_S3_BUCKET`, the distributed shape's: API and worker hosts share it),
//! behind one type.
//!
//! Every key starts with the tenant's id, so one tenant's files are never read through another's
//! key; keys are built by Nexus, never taken from a request, and checked anyway.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use uuid::Uuid;

/// Why a file could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The key is not one Nexus builds (empty, absolute, `..`, odd characters).
    #[error("file key {0:?} is not valid")]
    BadKey(String),
    /// The disk failed.
    #[error("file store: {0}")]
    Io(#[from] std::io::Error),
    /// The object store failed or refused (after its own retries).
    #[error("object store: {0}")]
    Object(#[from] object_store::Error),
}

/// Where an S3-compatible store is and how to sign for it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// The bucket.
    pub bucket: String,
    /// The service's URL (`https://s3.us-east-1.amazonaws.com`, a MinIO or R2 endpoint);
    /// `None` for AWS's own. With an endpoint, requests are path-style (`endpoint/bucket/key`),
    /// which every S3-compatible service accepts.
    pub endpoint: Option<String>,
    /// The region the signature names (`us-east-1` when the service has none).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
enum Backend {
    Folder(PathBuf),
    Object(Arc<dyn ObjectStore>),
}

/// Files addressed by `tenant/…` keys, in a folder or an object store.
#[derive(Debug, Clone)]
pub struct FileStore {
    backend: Backend,
}

impl FileStore {
    /// A store in the folder `root` (created on first write).
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            backend: Backend::Folder(root.into()),
        }
    }

    /// A store in an S3-compatible bucket. Nothing is called until the first file.
    ///
    /// # Errors
    /// [`FileError::Object`] when the settings cannot make a client (a malformed endpoint).
    pub fn s3(s: &S3Settings) -> Result<Self, FileError> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_access_key_id(&s.access_key_id)
            .with_secret_access_key(&s.secret_access_key);
        if let Some(e) = &s.endpoint {
            b = b
                .with_endpoint(e)
                .with_allow_http(e.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        Ok(Self {
            backend: Backend::Object(Arc::new(b.build()?)),
        })
    }

    /// Where the files live, for a person: the folder, or the object store.
    #[must_use]
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Folder(root) => format!("folder {}", root.display()),
            Backend::Object(store) => format!("object store {store}"),
        }
    }

    /// The key of an invoice's file: `<tenant>/cfdi/<invoice>.<format>`.
    #[must_use]
    pub fn invoice_key(tenant: Uuid, invoice: Uuid, format: &str) -> String {
        format!("{}/cfdi/{}.{format}", tenant.simple(), invoice.simple())
    }

    fn checked(key: &str) -> Result<&str, FileError> {
        let ok = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            });
        if ok {
            Ok(key)
        } else {
            Err(FileError::BadKey(key.to_owned()))
        }
    }

    /// Stores `bytes` under `key`, replacing what was there. The file appears whole or not at
    /// all: in a folder it is written beside its place, flushed to disk, then renamed; an object
    /// store's PUT is atomic by itself.
    ///
    /// # Errors
    /// [`FileError`].
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), FileError> {
        let key = Self::checked(key)?;
        match &self.backend {
            Backend::Folder(root) => put_in_folder(&root.join(key), bytes).await,
            Backend::Object(store) => {
                let payload = object_store::PutPayload::from(bytes.to_vec());
                store
                    .put(&object_store::path::Path::from(key), payload)
                    .await?;
                Ok(())
            }
        }
    }

    /// The bytes under `key`, or `None` when there is no such file.
    ///
    /// # Errors
    /// [`FileError`] other than "not found".
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, FileError> {
        let key = Self::checked(key)?;
        match &self.backend {
            Backend::Folder(root) => match tokio::fs::read(root.join(key)).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            Backend::Object(store) => match store.get(&object_store::path::Path::from(key)).await {
                Ok(got) => Ok(Some(got.bytes().await?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            },
        }
    }
}

async fn put_in_folder(path: &std::path::Path, bytes: &[u8]) -> Result<(), FileError> {
    let dir = path
        .parent()
        .ok_or_else(|| FileError::BadKey(path.display().to_string()))?
        .to_owned();
    tokio::fs::create_dir_all(&dir).await?;
    let tmp = dir.join(format!(".{}.tmp", Uuid::now_v7().simple()));
    let written = async {
        let mut f = tokio::fs::File::create(&tmp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut f, bytes).await?;
        f.sync_all().await?;
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if written.is_err() {
        // Best effort: a stray temporary file is harmless, the error is what matters.
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    Ok(written?)
}

/// The hex SHA-256 of `bytes`: kept beside a file to notice a damaged or replaced one.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stored_file_reads_back_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let key = FileStore::invoice_key(Uuid::now_v7(), Uuid::now_v7(), "xml");
        assert_eq!(store.get(&key).await.unwrap(), None);
        store.put(&key, b"<cfdi/>").await.unwrap();
        store.put(&key, b"<cfdi:Comprobante/>").await.unwrap();
        assert_eq!(
            store.get(&key).await.unwrap().as_deref(),
            Some(&b"<cfdi:Comprobante/>"[..])
        );
    }

    #[tokio::test]
    async fn keys_that_could_leave_the_folder_are_refused() {
        let store = FileStore::new("/nonexistent");
        for key in [
            "",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "a/./b",
            "a/b c",
            "a\\b",
        ] {
            assert!(
                matches!(store.get(key).await, Err(FileError::BadKey(_))),
                "{key:?}"
            );
        }
    }
}
