//! Mexican taxpayer id (RFC) validation: format strictly, check digit as a warning.
//!
//! About 1.5 % of RFCs in real use carry a wrong check digit, so a mismatch is reported and not
//! rejected; SAT (through the PAC) is the final judge.

/// The generic RFCs SAT defines for the general public and for foreigners.
pub const GENERIC_RFCS: [&str; 2] = ["XAXX010101000", "XEXX010101000"];

const DICTIONARY: &str = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ";

/// An RFC whose format is valid, upper-cased and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rfc {
    value: String,
    check_digit_ok: bool,
}

impl Rfc {
    /// Parses an RFC: 12 characters for a company (persona moral), 13 for a person.
    ///
    /// # Errors
    /// [`crate::Error::Validation`] on field `rfc` when the format is wrong.
    pub fn parse(input: &str) -> crate::Result<Self> {
        let value = input.trim().to_uppercase();
        let chars: Vec<char> = value.chars().collect();
        let bad = || {
            crate::Error::validation(
                "rfc",
                "RFC must be 3 (company) or 4 (person) letters, a YYMMDD date and a 3-character \
                 homoclave, e.g. ACM010101ABC",
            )
        };
        let letters = match chars.len() {
            12 => 3,
            13 => 4,
            _ => return Err(bad()),
        };
        if !chars[..letters]
            .iter()
            .all(|c| c.is_ascii_uppercase() || *c == '&' || *c == 'Ñ')
        {
            return Err(bad());
        }
        let date = &chars[letters..letters + 6];
        if !date.iter().all(char::is_ascii_digit) {
            return Err(bad());
        }
        let two = |i: usize| (date[i] as u32 - '0' as u32) * 10 + (date[i + 1] as u32 - '0' as u32);
        let (month, day) = (two(2), two(4));
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(bad());
        }
        let homoclave = &chars[letters + 6..];
        // The last character should be a digit or `A` (the check digit), but a wrong one is a
        // warning like any check-digit mismatch, so any letter or digit is accepted here.
        if !homoclave
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(bad());
        }
        let check_digit_ok = GENERIC_RFCS.contains(&value.as_str())
            || expected_check_digit(&chars) == chars[chars.len() - 1];
        Ok(Self {
            value,
            check_digit_ok,
        })
    }

    /// The normalised RFC.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Whether the last character matches the SAT mod-11 check digit (generic RFCs always do).
    #[must_use]
    pub fn check_digit_ok(&self) -> bool {
        self.check_digit_ok
    }
}

/// The SAT mod-11 check digit of an RFC (all characters but the last are used).
fn expected_check_digit(chars: &[char]) -> char {
    let body = &chars[..chars.len() - 1];
    let padded: Vec<char> = std::iter::repeat_n(' ', 12 - body.len())
        .chain(body.iter().copied())
        .collect();
    let sum: u32 = padded
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = DICTIONARY.chars().position(|d| d == *c).unwrap_or(0) as u32;
            v * (13 - i as u32)
        })
        .sum();
    match 11 - sum % 11 {
        11 => '0',
        10 => 'A',
        r => char::from_digit(r, 10).unwrap_or('0'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sat_test_rfcs_pass_the_check_digit() {
        for rfc in [
            "EKU9003173C9",
            "CACX7605101P8",
            "IIA040805DZ4",
            "URE180429TM6",
            "XIA190128J61",
            "MAS0810247C0",
        ] {
            assert!(Rfc::parse(rfc).unwrap().check_digit_ok(), "{rfc}");
        }
    }

    #[test]
    fn generic_rfcs_are_accepted_even_when_their_digit_does_not_match() {
        assert!(Rfc::parse("XAXX010101000").unwrap().check_digit_ok());
        assert!(Rfc::parse("XEXX010101000").unwrap().check_digit_ok());
    }

    #[test]
    fn a_wrong_check_digit_is_a_warning_not_an_error() {
        let rfc = Rfc::parse("EKU9003173C8").unwrap();
        assert!(!rfc.check_digit_ok());
    }

    #[test]
    fn a_homoclave_ending_in_a_letter_parses_with_a_warning() {
        let rfc = Rfc::parse("ACM010101ABC").unwrap();
        assert_eq!(rfc.as_str(), "ACM010101ABC");
        assert!(!rfc.check_digit_ok());
    }

    #[test]
    fn lower_case_and_spaces_are_normalised() {
        assert_eq!(
            Rfc::parse("  eku9003173c9 ").unwrap().as_str(),
            "EKU9003173C9"
        );
    }

    #[test]
    fn malformed_rfcs_are_rejected() {
        for rfc in [
            "",
            "ACME",
            "AC1010101ABC",
            "ACM011301ABC",
            "ACM010132ABC",
            "ACM010101AB-",
            "ACMX0101011ABCD",
        ] {
            assert!(Rfc::parse(rfc).is_err(), "{rfc}");
        }
    }
}
