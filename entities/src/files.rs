//! The tenant's files (CFDI XML and PDF today; images next): a folder on disk in both shapes
//! (`NEXUS_DATA_DIR/files`), behind one small type so an S3-compatible store can take its place.
//!
//! Every key starts with the tenant's id, so one tenant's files are never read through another's
//! key; keys are built by Nexus, never taken from a request, and checked anyway.

use std::path::{Path, PathBuf};

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
}

/// A folder of files addressed by `tenant/…` keys.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    /// A store rooted at `root` (created on first write).
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder the files live in.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The key of an invoice's file: `<tenant>/cfdi/<invoice>.<format>`.
    #[must_use]
    pub fn invoice_key(tenant: Uuid, invoice: Uuid, format: &str) -> String {
        format!("{}/cfdi/{}.{format}", tenant.simple(), invoice.simple())
    }

    fn path(&self, key: &str) -> Result<PathBuf, FileError> {
        let ok = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            });
        if !ok {
            return Err(FileError::BadKey(key.to_owned()));
        }
        Ok(self.root.join(key))
    }

    /// Stores `bytes` under `key`, replacing what was there. The file appears whole or not at
    /// all: it is written beside its place, flushed to disk, then renamed.
    ///
    /// # Errors
    /// [`FileError`].
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), FileError> {
        let path = self.path(key)?;
        let dir = path
            .parent()
            .ok_or_else(|| FileError::BadKey(key.to_owned()))?
            .to_owned();
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = dir.join(format!(".{}.tmp", Uuid::now_v7().simple()));
        let written = async {
            let mut f = tokio::fs::File::create(&tmp).await?;
            tokio::io::AsyncWriteExt::write_all(&mut f, bytes).await?;
            f.sync_all().await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if written.is_err() {
            // Best effort: a stray temporary file is harmless, the error is what matters.
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        Ok(written?)
    }

    /// The bytes under `key`, or `None` when there is no such file.
    ///
    /// # Errors
    /// [`FileError`] other than "not found".
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, FileError> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
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
