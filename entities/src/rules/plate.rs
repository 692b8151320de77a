//! Mexican license plates (placas): normalisation and format, per NOM-001-SCT-2-2016 as
//! summarised in domain.md §3.
//!
//! A plate is only a key into the business's own records: there is no public registry to ask, and
//! series are assigned per state, so the check is about shape, liberal enough for the formats in
//! use (states differ) and strict enough to refuse what cannot be a plate.

use serde::Serialize;

/// Longest normalised plate accepted.
pub const MAX_LEN: usize = 10;
/// Shortest normalised plate accepted.
pub const MIN_LEN: usize = 5;
/// Longest text looked at before normalising (separators included).
const MAX_INPUT: usize = 20;

/// Why a text is not a plate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlateError {
    /// Nothing but separators.
    #[error("the plate is empty")]
    Empty,
    /// Longer than any plate.
    #[error("a plate has at most {MAX_LEN} letters and digits; this one has {len}")]
    TooLong {
        /// Letters and digits found (or characters, when the raw text is very long).
        len: usize,
    },
    /// Shorter than any plate.
    #[error("a plate has at least {MIN_LEN} letters and digits; this one has {len}")]
    TooShort {
        /// Letters and digits found.
        len: usize,
    },
    /// A character other than letters, digits, spaces, dashes and dots.
    #[error("{found:?} cannot be on a plate: only letters, digits, spaces, '-' and '.'")]
    InvalidCharacter {
        /// The character.
        found: char,
    },
    /// A standard series with I, O or Q, which plates do not use (they read as 1 and 0).
    #[error("plates do not use the letter {letter} (it reads as 1 or 0); check the plate")]
    ForbiddenLetter {
        /// The letter.
        letter: char,
    },
    /// Letters only, digits only, or otherwise no plate format.
    #[error(
        "not a Mexican plate format: expected e.g. ABC-123-A or ABC-1234 (car), AB-1234 (truck) \
         or 12-AA-3B (federal)"
    )]
    Unrecognised,
}

impl From<PlateError> for crate::Error {
    fn from(e: PlateError) -> Self {
        crate::Error::validation("plate", e.to_string())
    }
}

/// Which kind of plate the format says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateKind {
    /// Private car: 3 letters and 3 or 4 digits, optionally a trailing letter (`ABC-123-A` in
    /// Mexico City), or the older 3 digits and 3 letters.
    PrivateCar,
    /// Private truck (carga particular): 2 letters and 4 or 5 digits.
    PrivateTruck,
    /// Federal public service (SICT): `12-AA-3B`.
    Federal,
    /// Letters and digits in another arrangement (motorcycles, trailers, demonstration and
    /// older series): accepted as written.
    Other,
}

impl PlateKind {
    /// The serialised name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PrivateCar => "private_car",
            Self::PrivateTruck => "private_truck",
            Self::Federal => "federal",
            Self::Other => "other",
        }
    }
}

/// A normalised plate: upper-case letters and digits without separators.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Plate {
    value: String,
    kind: PlateKind,
}

impl Plate {
    /// Normalises (upper-case; spaces, dashes and dots removed) and checks a plate.
    ///
    /// # Errors
    /// [`PlateError`].
    pub fn parse(input: &str) -> Result<Self, PlateError> {
        let raw = input.trim();
        if raw.chars().count() > MAX_INPUT {
            return Err(PlateError::TooLong {
                len: raw.chars().count(),
            });
        }
        let mut value = String::with_capacity(raw.len());
        for c in raw.chars() {
            match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' => value.push(c.to_ascii_uppercase()),
                '-' | '.' => {}
                c if c.is_whitespace() => {}
                found => return Err(PlateError::InvalidCharacter { found }),
            }
        }
        let len = value.len();
        if len == 0 {
            return Err(PlateError::Empty);
        }
        if len > MAX_LEN {
            return Err(PlateError::TooLong { len });
        }
        if len < MIN_LEN {
            return Err(PlateError::TooShort { len });
        }
        let shape: String = value
            .bytes()
            .map(|b| if b.is_ascii_digit() { 'D' } else { 'L' })
            .collect();
        let kind = match shape.as_str() {
            "LLLDDD" | "LLLDDDD" | "LLLDDDL" | "DDDLLL" => PlateKind::PrivateCar,
            "LLDDDD" | "LLDDDDD" => PlateKind::PrivateTruck,
            "DDLLDL" | "DDLLDD" => PlateKind::Federal,
            s if s.len() <= 8 && s.contains('L') && s.contains('D') => PlateKind::Other,
            _ => return Err(PlateError::Unrecognised),
        };
        if kind != PlateKind::Other
            && let Some(letter) = value.chars().find(|c| matches!(c, 'I' | 'O' | 'Q'))
        {
            return Err(PlateError::ForbiddenLetter { letter });
        }
        Ok(Self { value, kind })
    }

    /// The normalised plate, e.g. `ABC123A`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The format it matched.
    #[must_use]
    pub fn kind(&self) -> PlateKind {
        self.kind
    }

    /// The plate as the value it was normalised into.
    #[must_use]
    pub fn into_string(self) -> String {
        self.value
    }
}

impl std::fmt::Display for Plate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> PlateKind {
        Plate::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .kind()
    }

    #[test]
    fn separators_and_case_are_normalised_away() {
        let p = Plate::parse(" abc-123-a ").unwrap();
        assert_eq!(p.as_str(), "ABC123A");
        assert_eq!(Plate::parse("ABC 123 A").unwrap(), p);
        assert_eq!(Plate::parse("A.B.C.1.2.3.A").unwrap(), p);
    }

    #[test]
    fn private_car_formats_are_recognised() {
        for s in ["ABC-123-A", "ABC-1234", "ABC-123", "JKL 12 34", "123-ABC"] {
            assert_eq!(kind(s), PlateKind::PrivateCar, "{s}");
        }
    }

    #[test]
    fn truck_and_federal_formats_are_recognised() {
        assert_eq!(kind("AB-1234"), PlateKind::PrivateTruck);
        assert_eq!(kind("LF-123-45"), PlateKind::PrivateTruck);
        assert_eq!(kind("12-AA-3B"), PlateKind::Federal);
        assert_eq!(kind("45-AB-12"), PlateKind::Federal);
    }

    #[test]
    fn other_letter_and_digit_arrangements_are_accepted_as_other() {
        assert_eq!(kind("A1234"), PlateKind::Other);
        assert_eq!(kind("12ABC3"), PlateKind::Other);
        assert_eq!(Plate::parse("a12-bc").unwrap().as_str(), "A12BC");
    }

    #[test]
    fn standard_series_with_i_o_or_q_are_refused() {
        assert_eq!(
            Plate::parse("ABO-123").unwrap_err(),
            PlateError::ForbiddenLetter { letter: 'O' }
        );
        assert_eq!(
            Plate::parse("QA-1234").unwrap_err(),
            PlateError::ForbiddenLetter { letter: 'Q' }
        );
        assert_eq!(
            Plate::parse("12-IA-3B").unwrap_err(),
            PlateError::ForbiddenLetter { letter: 'I' }
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(Plate::parse("").unwrap_err(), PlateError::Empty);
        assert_eq!(Plate::parse(" - . ").unwrap_err(), PlateError::Empty);
        assert_eq!(
            Plate::parse("AB12").unwrap_err(),
            PlateError::TooShort { len: 4 }
        );
        assert_eq!(
            Plate::parse("ABCDEF123456").unwrap_err(),
            PlateError::TooLong { len: 12 }
        );
        assert!(matches!(
            Plate::parse("A-B-C-1-2-3-4-5-6-7-8"),
            Err(PlateError::TooLong { .. })
        ));
        assert_eq!(
            Plate::parse("HOLAMUNDO").unwrap_err(),
            PlateError::Unrecognised
        );
        assert_eq!(
            Plate::parse("1234567").unwrap_err(),
            PlateError::Unrecognised
        );
        assert_eq!(
            Plate::parse("ABC1234X9").unwrap_err(),
            PlateError::Unrecognised,
            "nine characters fit no format"
        );
        assert_eq!(
            Plate::parse("ABC/123").unwrap_err(),
            PlateError::InvalidCharacter { found: '/' }
        );
        assert_eq!(
            Plate::parse("ÑAB-123").unwrap_err(),
            PlateError::InvalidCharacter { found: 'Ñ' }
        );
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for s in ["abc-123-a", "12-aa-3b", "ab 12 345", "a1234"] {
            let once = Plate::parse(s).unwrap();
            assert_eq!(Plate::parse(once.as_str()).unwrap(), once, "{s}");
        }
    }
}
