//! Quantities of units, with one bound for every place a client states one (a line of a cart,
//! sale, quote or transfer; an adjustment's delta; a count; an item's reorder limits), so that no
//! sum or product of them can overflow and a refused request changes nothing. The bound is far
//! above any real auto-parts movement; OpenAPI states it on every such field.

use crate::{Error, Result};

/// The most units one line, movement or count may state.
pub const MAX_QTY: i64 = 1_000_000;

/// Units of a line: 1 to [`MAX_QTY`].
///
/// # Errors
/// [`Error::Validation`] naming `field`.
pub fn units(field: impl Into<String>, qty: i64) -> Result<i64> {
    if (1..=MAX_QTY).contains(&qty) {
        Ok(qty)
    } else {
        Err(Error::validation(
            field,
            format!("a quantity is between 1 and {MAX_QTY}"),
        ))
    }
}

/// A stock level (a count, a reorder limit): 0 to [`MAX_QTY`].
///
/// # Errors
/// [`Error::Validation`] naming `field`.
pub fn level(field: impl Into<String>, qty: i64) -> Result<i64> {
    if (0..=MAX_QTY).contains(&qty) {
        Ok(qty)
    } else {
        Err(Error::validation(
            field,
            format!("a quantity is between 0 and {MAX_QTY}"),
        ))
    }
}

/// A change of a balance: not zero, at most [`MAX_QTY`] either way.
///
/// # Errors
/// [`Error::Validation`] naming `field`.
pub fn delta(field: impl Into<String>, d: i64) -> Result<i64> {
    if d != 0 && (-MAX_QTY..=MAX_QTY).contains(&d) {
        Ok(d)
    } else {
        Err(Error::validation(
            field,
            format!("a change is between -{MAX_QTY} and {MAX_QTY}, and not zero"),
        ))
    }
}

/// Units added to a line that already has `have`: the sum, when it stays within [`MAX_QTY`].
///
/// # Errors
/// [`Error::Validation`] naming `field`.
pub fn add(field: impl Into<String>, have: i64, more: i64) -> Result<i64> {
    have.checked_add(more)
        .filter(|q| (1..=MAX_QTY).contains(q))
        .ok_or_else(|| {
            Error::validation(field, format!("a line holds between 1 and {MAX_QTY} units"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_hold_at_their_edges_and_beyond() {
        assert!(units("q", 0).is_err());
        assert_eq!(units("q", 1).ok(), Some(1));
        assert_eq!(units("q", MAX_QTY).ok(), Some(MAX_QTY));
        assert!(units("q", MAX_QTY + 1).is_err());
        assert!(units("q", i64::MAX).is_err());
        assert!(level("q", -1).is_err());
        assert_eq!(level("q", 0).ok(), Some(0));
        assert!(delta("d", 0).is_err());
        assert!(delta("d", i64::MAX).is_err());
        assert!(delta("d", i64::MIN).is_err());
        assert_eq!(delta("d", -MAX_QTY).ok(), Some(-MAX_QTY));
    }

    #[test]
    fn adding_to_a_line_never_wraps() {
        assert!(add("q", 5, i64::MAX).is_err());
        assert!(add("q", MAX_QTY, 1).is_err());
        assert_eq!(add("q", 5, 7).ok(), Some(12));
    }
}
