//! Password hashing with argon2id at OWASP's parameters, off the async runtime.

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::{Error, Result};

/// Shortest password accepted.
pub const MIN_LEN: usize = 10;
/// Longest password accepted (bounds hashing work per request).
pub const MAX_LEN: usize = 128;

fn argon2() -> Result<Argon2<'static>> {
    // OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A password of `len` letters and digits that cannot be misread (no 0/O, 1/l/I), for one a
/// person is given to type: a temporary one, a generated login.
#[must_use]
pub fn readable(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Checks the password policy.
///
/// # Errors
/// [`Error::Validation`] on field `password`.
pub fn check_policy(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&n) {
        return Err(Error::validation(
            "password",
            format!("password must be {MIN_LEN} to {MAX_LEN} characters long"),
        ));
    }
    Ok(())
}

/// Hashes a password into a PHC string, on a blocking thread.
///
/// # Errors
/// [`Error::Internal`] if hashing fails or its task dies.
pub async fn hash(password: String) -> Result<String> {
    let _permit = hashing_permit().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// Verifies a password against a PHC string, on a blocking thread. With no stored hash (unknown
/// user) it still spends the same work on a fixed hash so timing does not tell who exists.
///
/// # Errors
/// [`Error::Internal`] if the task dies.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    let _permit = hashing_permit().await?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return Ok(false);
        };
        let ok = argon2()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && ok)
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// One argon2 computation holds 19 MiB for a fraction of a second: a burst of logins must wait
/// its turn rather than run them all at once (40 parallel guesses once took an idle server to
/// 722 MB). Twice the cores keeps the CPUs busy without piling up memory.
async fn hashing_permit() -> Result<tokio::sync::SemaphorePermit<'static>> {
    static HASHING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
    HASHING
        .get_or_init(|| tokio::sync::Semaphore::new(permits))
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.to_string()))
}

/// A valid argon2id hash (of a random string nobody knows) at the same parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Ct4mI0vQ3r2x2b8o1Wg0cQ7m9cY9W4Z8Q2k3t5y6u7I";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify("correct horse battery".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse battery".into(), Some(h)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }

    #[test]
    fn short_passwords_break_the_policy() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("long enough!").is_ok());
    }
}
