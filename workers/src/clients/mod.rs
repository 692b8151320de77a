//! Clients of external services, one module per provider; each is tested against a local fake
//! of the provider's documented contract.

pub mod channel;
pub mod facturapi;
pub mod meili;
pub mod smtp;
pub mod vpic;
pub mod whatsapp;

/// A provider's body past the cap set for it: read no further.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body (or its announced length) is over the cap.
    #[error("the answer is larger than {cap} bytes; not read")]
    TooLarge {
        /// The cap, in bytes.
        cap: usize,
    },
    /// The connection failed while reading.
    #[error(transparent)]
    Transport(#[from] reqwest::Error),
}

/// Reads a provider's body up to `cap` bytes: a larger one (announced by `Content-Length` or
/// found while reading) is refused before it fills memory, whatever the provider sends.
///
/// # Errors
/// [`BodyError::TooLarge`] past the cap; [`BodyError::Transport`] when the connection fails.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if resp
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > cap))
    {
        return Err(BodyError::TooLarge { cap });
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if out.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge { cap });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
