//! A fake of an S3-compatible object store (path-style, as MinIO, R2 or Ceph serve it): `PUT`
//! and `GET /{bucket}/{key}`, every request's AWS Signature Version 4 verified against one key
//! pair (403 `SignatureDoesNotMatch` / `InvalidAccessKeyId` otherwise, with S3's XML error body),
//! the payload's `x-amz-content-sha256` checked, 404 `NoSuchKey` / `NoSuchBucket`; objects kept
//! in memory; refusals counted.
//!
//! Signature V4 as AWS documents it ("Create a signed AWS API request"): a canonical request of
//! method, URI, query, the signed headers and the payload hash; a string to sign of the
//! algorithm, `x-amz-date`, the scope and that request's SHA-256; a key derived by HMAC-SHA256
//! from `AWS4<secret>` through date, region, `s3` and `aws4_request`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The bucket the fake serves.
pub const BUCKET: &str = "nexus-files";
/// The access key id it accepts (AWS's documentation example).
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// The secret it signs with (AWS's documentation example).
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The region of its signatures.
pub const REGION: &str = "us-east-1";

#[derive(Debug, Default)]
struct Inner {
    objects: HashMap<String, Vec<u8>>,
    refused: usize,
}

type Shared = Arc<Mutex<Inner>>;

/// The running fake; stops when dropped.
#[derive(Debug)]
pub struct S3Fake {
    /// The endpoint to configure as `FILES_S3_ENDPOINT`.
    pub url: String,
    inner: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn lock(inner: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [("content-type", "application/xml")], body).into_response()
}

/// Why a request is refused: status, S3's error code, its message.
type Refusal = (StatusCode, &'static str, &'static str);

/// Checks the request's Signature V4; why not, when it does not hold.
fn verify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
    let refuse = |code: &'static str, msg: &'static str| Err((StatusCode::FORBIDDEN, code, msg));
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(auth) = header("authorization") else {
        return refuse("AccessDenied", "Anonymous access is forbidden.");
    };
    let Some(fields) = auth.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return refuse("AccessDenied", "Only AWS4-HMAC-SHA256 is accepted.");
    };
    let part = |name: &str| {
        fields
            .split(',')
            .map(str::trim)
            .find_map(|f| f.strip_prefix(name))
            .unwrap_or_default()
    };
    let (credential, signed, signature) = (
        part("Credential="),
        part("SignedHeaders="),
        part("Signature="),
    );
    let mut scope = credential.splitn(2, '/');
    let (key_id, scope) = (
        scope.next().unwrap_or_default(),
        scope.next().unwrap_or_default(),
    );
    if key_id != ACCESS_KEY_ID {
        return refuse(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        );
    }
    let (Some(date), Some(hash)) = (header("x-amz-date"), header("x-amz-content-sha256")) else {
        return refuse(
            "AccessDenied",
            "x-amz-date and x-amz-content-sha256 are required.",
        );
    };
    if hash != "UNSIGNED-PAYLOAD" && hash != hex(&Sha256::digest(body)) {
        return Err((
            StatusCode::BAD_REQUEST,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ));
    }
    let day = date.get(..8).unwrap_or_default();
    if scope != format!("{day}/{REGION}/s3/aws4_request") || !signed.contains("host") {
        return refuse(
            "SignatureDoesNotMatch",
            "The credential scope is not valid.",
        );
    }
    let mut canonical_headers = String::new();
    for name in signed.split(';') {
        let value = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(",");
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    let mut query: Vec<&str> = uri.query().unwrap_or_default().split('&').collect();
    query.retain(|q| !q.is_empty());
    query.sort_unstable();
    let canonical = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{signed}\n{hash}",
        uri.path(),
        query.join("&")
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{SECRET_ACCESS_KEY}").as_bytes(), day);
    for step in [REGION, "s3", "aws4_request"] {
        key = hmac(&key, step);
    }
    if hex(&hmac(&key, &to_sign)) != signature {
        return refuse(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    Ok(())
}

async fn object(
    State(inner): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err((status, code, message)) = verify(&method, &uri, &headers, &body) {
        lock(&inner).refused += 1;
        return error(status, code, message);
    }
    let path = uri.path().trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    if bucket != BUCKET {
        return error(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        );
    }
    let etag = |b: &[u8]| format!("\"{}\"", &hex(&Sha256::digest(b))[..32]);
    match method {
        Method::PUT => {
            let tag = etag(&body);
            lock(&inner).objects.insert(key.to_owned(), body.to_vec());
            (StatusCode::OK, [("etag", tag)]).into_response()
        }
        Method::GET => match lock(&inner).objects.get(key).cloned() {
            Some(bytes) => {
                let modified = chrono::Utc::now()
                    .format("%a, %d %b %Y %H:%M:%S GMT")
                    .to_string();
                (
                    StatusCode::OK,
                    [
                        ("etag", etag(&bytes)),
                        ("last-modified", modified),
                        ("content-type", "application/octet-stream".to_owned()),
                    ],
                    bytes,
                )
                    .into_response()
            }
            None => error(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
            ),
        },
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        ),
    }
}

impl S3Fake {
    /// Starts the fake on a loopback port.
    pub async fn start() -> Self {
        let inner = Shared::default();
        let router = axum::Router::new()
            .route("/{*path}", axum::routing::any(object))
            .with_state(inner.clone());
        let (url, stop) = super::serve_on_loopback(router, "S3 fake").await;
        Self {
            url,
            inner,
            _stop: stop,
        }
    }

    /// The keys stored, sorted.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = lock(&self.inner).objects.keys().cloned().collect();
        k.sort();
        k
    }

    /// The bytes stored under `key`.
    #[must_use]
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        lock(&self.inner).objects.get(key).cloned()
    }

    /// Requests refused for their signature or credentials.
    #[must_use]
    pub fn refused(&self) -> usize {
        lock(&self.inner).refused
    }

    /// The settings of a client of this fake, with `secret` as its secret key.
    #[must_use]
    pub fn settings(&self, secret: &str) -> entities::files::S3Settings {
        entities::files::S3Settings {
            bucket: BUCKET.into(),
            endpoint: Some(self.url.clone()),
            region: REGION.into(),
            access_key_id: ACCESS_KEY_ID.into(),
            secret_access_key: secret.into(),
        }
    }
}
