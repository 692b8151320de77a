//! Optional free text as every area stores it: trimmed, blank taken as absent, bounded in
//! characters (not bytes, so accents count once).

use crate::{Error, Result};

/// The text trimmed, `None` when absent or blank, refused past `max` characters.
///
/// # Errors
/// [`Error::Validation`] on `field`.
pub fn optional(field: &str, v: Option<String>, max: usize) -> Result<Option<String>> {
    match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => Err(Error::validation(
            field,
            format!("{field} must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_absent_and_the_bound_counts_characters() {
        assert_eq!(optional("n", Some("  ".into()), 3).ok(), Some(None));
        assert_eq!(
            optional("n", Some(" ñañ ".into()), 3).ok(),
            Some(Some("ñañ".into()))
        );
        assert!(optional("n", Some("abcd".into()), 3).is_err());
    }
}
