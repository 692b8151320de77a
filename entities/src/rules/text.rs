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

/// Required text: trimmed, refused blank or past `max` characters.
///
/// # Errors
/// [`Error::Validation`] on `field`.
pub fn required(field: &str, v: &str, max: usize) -> Result<String> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(t.to_owned())
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

    #[test]
    fn required_text_is_trimmed_and_refused_blank_or_too_long() {
        assert_eq!(required("n", " ñañ ", 3).ok().as_deref(), Some("ñañ"));
        assert!(required("n", " \t ", 3).is_err());
        assert!(required("n", "abcd", 3).is_err());
    }
}
