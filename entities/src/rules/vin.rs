//! Vehicle identification numbers (VIN; NIV in Mexico) per 49 CFR 565 and ISO 3779/3780: format,
//! check digit, model year and the maker's identifier (WMI), decoded locally with no I/O.
//!
//! A wrong check digit is reported, not refused: Mexico-only and pre-1981 VINs, and VINs from
//! outside North America, often do not carry one, and the counter still has to sell the part.

use serde::Serialize;

/// Characters in a VIN.
pub const VIN_LEN: usize = 17;

/// Weights of each position in the check-digit sum (49 CFR 565.15, table V).
const WEIGHTS: [u32; VIN_LEN] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// Why a text is not a VIN. Positions count from 1, as printed on the tarjeta de circulación.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VinError {
    /// Not 17 characters once trimmed.
    #[error("a VIN has 17 characters; this one has {len}")]
    Length {
        /// Characters found.
        len: usize,
    },
    /// I, O or Q, which VINs never use (they read as 1 and 0).
    #[error(
        "position {position} is the letter {letter}, which VINs never use (I, O and Q look like 1 \
         and 0); check the digit there"
    )]
    ForbiddenLetter {
        /// The letter.
        letter: char,
        /// 1-based position.
        position: usize,
    },
    /// Anything but A–Z and 0–9.
    #[error("position {position} is {found:?}; a VIN has only letters A–Z and digits 0–9")]
    InvalidCharacter {
        /// The character.
        found: char,
        /// 1-based position.
        position: usize,
    },
}

impl From<VinError> for crate::Error {
    fn from(e: VinError) -> Self {
        crate::Error::validation("vin", e.to_string())
    }
}

/// A well-formed VIN: 17 upper-case letters and digits without I, O or Q.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Vin(String);

/// Warnings of a local decode (stable snake_case codes for clients).
pub mod warning {
    /// Position 9 is not the check digit the other 16 characters give.
    pub const CHECK_DIGIT_MISMATCH: &str = "check_digit_mismatch";
    /// Position 10 is not a model-year code (U, Z and 0 are never used).
    pub const MODEL_YEAR_UNKNOWN: &str = "model_year_unknown";
    /// The year the customer stated does not match position 10.
    pub const MODEL_YEAR_MISMATCH: &str = "model_year_mismatch";
    /// Two model years fit position 10 and the VIN alone cannot tell them apart (the position-7
    /// rule holds only for North-American light vehicles); ask the customer's year.
    pub const MODEL_YEAR_AMBIGUOUS: &str = "model_year_ambiguous";
    /// The maker is not in Nexus's table of world manufacturer identifiers.
    pub const UNKNOWN_MANUFACTURER: &str = "unknown_manufacturer";
}

/// What the VIN itself says, without asking anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VinDecode {
    /// The normalised VIN.
    pub vin: Vin,
    /// World manufacturer identifier (positions 1–3).
    pub wmi: String,
    /// Vehicle descriptor section (positions 4–8).
    pub vds: String,
    /// Region of manufacture from position 1.
    pub region: Option<&'static str>,
    /// Country of manufacture from positions 1–2 (or the WMI table).
    pub country: Option<&'static str>,
    /// Maker from the WMI table.
    pub manufacturer: Option<&'static str>,
    /// Position 3 is `9`: a low-volume maker, identified with positions 12–14 too.
    pub low_volume_manufacturer: bool,
    /// Position 9 as written.
    pub check_digit: char,
    /// The check digit the other characters give.
    pub expected_check_digit: char,
    /// Whether they agree.
    pub check_digit_valid: bool,
    /// Position 10.
    pub model_year_code: char,
    /// The model year chosen (stated year, position 7, or the only candidate).
    pub model_year: Option<i32>,
    /// Every year position 10 allows up to the latest model year, oldest first.
    pub model_year_candidates: Vec<i32>,
    /// Assembly plant code (position 11).
    pub plant_code: char,
    /// Serial number (positions 12–17).
    pub serial: String,
    /// Codes from [`warning`].
    pub warnings: Vec<&'static str>,
}

impl Vin {
    /// Parses a VIN: trims, upper-cases, then checks the characters and the length.
    ///
    /// # Errors
    /// [`VinError`] naming the first bad position, or the length.
    pub fn parse(input: &str) -> Result<Self, VinError> {
        let value = input.trim().to_uppercase();
        // Characters first: a VIN read off a card with an O for a 0 is the common mistake, and
        // naming that position helps more than a length that happens to be right or wrong.
        for (i, c) in value.chars().enumerate() {
            let position = i + 1;
            match c {
                'I' | 'O' | 'Q' => {
                    return Err(VinError::ForbiddenLetter {
                        letter: c,
                        position,
                    });
                }
                'A'..='Z' | '0'..='9' => {}
                found => return Err(VinError::InvalidCharacter { found, position }),
            }
        }
        let len = value.chars().count();
        if len != VIN_LEN {
            return Err(VinError::Length { len });
        }
        Ok(Self(value))
    }

    /// The normalised VIN.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The character at a 1-based position (the VIN is ASCII, so bytes are characters).
    fn at(&self, position: usize) -> char {
        char::from(self.0.as_bytes()[position - 1])
    }

    /// The world manufacturer identifier (positions 1–3).
    #[must_use]
    pub fn wmi(&self) -> &str {
        &self.0[..3]
    }

    /// The check digit the other 16 characters give: `0`–`9` or `X`.
    #[must_use]
    pub fn expected_check_digit(&self) -> char {
        let sum: u32 = self
            .0
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| transliterate(b) * w)
            .sum();
        match sum % 11 {
            10 => 'X',
            r => char::from_digit(r, 10).unwrap_or('X'),
        }
    }

    /// Whether position 9 is the expected check digit.
    #[must_use]
    pub fn check_digit_valid(&self) -> bool {
        self.at(9) == self.expected_check_digit()
    }

    /// Decodes what the VIN says by itself. `stated_year` is the customer's (or the tarjeta's)
    /// model year, used to choose between the two years of the 30-year cycle; the latest model
    /// year is next calendar year's.
    #[must_use]
    pub fn decode(&self, stated_year: Option<i32>) -> VinDecode {
        use chrono::Datelike;
        self.decode_with(stated_year, chrono::Utc::now().year() + 1)
    }

    /// [`Vin::decode`] with the latest model year given (for tests and reproducible results).
    #[must_use]
    pub fn decode_with(&self, stated_year: Option<i32>, latest_model_year: i32) -> VinDecode {
        let mut warnings = Vec::new();
        let expected = self.expected_check_digit();
        let check_digit = self.at(9);
        if check_digit != expected {
            warnings.push(warning::CHECK_DIGIT_MISMATCH);
        }
        let wmi = self.wmi();
        let known = WMIS.iter().find(|(code, _, _)| *code == wmi);
        if known.is_none() {
            warnings.push(warning::UNKNOWN_MANUFACTURER);
        }
        let year_code = self.at(10);
        let candidates = model_year_candidates(year_code, latest_model_year);
        let model_year = if candidates.is_empty() {
            warnings.push(warning::MODEL_YEAR_UNKNOWN);
            None
        } else if let Some(y) = stated_year.filter(|y| candidates.contains(y)) {
            Some(y)
        } else {
            if stated_year.is_some() {
                warnings.push(warning::MODEL_YEAR_MISMATCH);
            }
            let chosen = choose_year(&candidates, self.at(7));
            // The position-7 rule binds North-American light vehicles only; elsewhere two
            // candidates stay a guess.
            if candidates.len() > 1
                && !matches!(self.at(1), '1'..='5')
                && !warnings.contains(&warning::MODEL_YEAR_MISMATCH)
            {
                warnings.push(warning::MODEL_YEAR_AMBIGUOUS);
            }
            Some(chosen)
        };
        VinDecode {
            vin: self.clone(),
            wmi: wmi.to_owned(),
            vds: self.0[3..8].to_owned(),
            region: region(self.at(1)),
            country: known
                .map(|(_, _, c)| *c)
                .or_else(|| country(self.at(1), self.at(2))),
            manufacturer: known.map(|(_, m, _)| *m),
            low_volume_manufacturer: self.at(3) == '9',
            check_digit,
            expected_check_digit: expected,
            check_digit_valid: check_digit == expected,
            model_year_code: year_code,
            model_year,
            model_year_candidates: candidates,
            plant_code: self.at(11),
            serial: self.0[11..].to_owned(),
            warnings,
        }
    }
}

impl std::fmt::Display for Vin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Vin {
    type Err = VinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The value of a character in the check-digit sum (49 CFR 565.15, table IV).
fn transliterate(b: u8) -> u32 {
    match b {
        b'0'..=b'9' => u32::from(b - b'0'),
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => 0,
    }
}

/// The first year of the cycle a position-10 code names (1980–2009), if it is a year code.
fn cycle_year(code: char) -> Option<i32> {
    const LETTERS: &str = "ABCDEFGHJKLMNPRSTVWXY";
    if let Some(i) = LETTERS.find(code) {
        return i32::try_from(i).ok().map(|i| 1980 + i);
    }
    match code {
        '1'..='9' => code
            .to_digit(10)
            .and_then(|d| i32::try_from(d).ok())
            .map(|d| 2000 + d),
        _ => None,
    }
}

/// Every model year a position-10 code may mean, from 1980 up to `latest`.
fn model_year_candidates(code: char, latest: i32) -> Vec<i32> {
    let Some(first) = cycle_year(code) else {
        return Vec::new();
    };
    (0..)
        .map(|n| first + 30 * n)
        .take_while(|y| *y <= latest)
        .collect()
}

/// Position 7 alphabetic means the 2010–2039 cycle for light vehicles; numeric, 1980–2009.
fn choose_year(candidates: &[i32], position_7: char) -> i32 {
    let in_later_cycle = |y: &&i32| **y >= 2010;
    let pick = if position_7.is_ascii_alphabetic() {
        candidates.iter().rev().find(in_later_cycle)
    } else {
        candidates.iter().rev().find(|y| !in_later_cycle(y))
    };
    pick.or(candidates.last()).copied().unwrap_or_default()
}

/// Region of manufacture (ISO 3780).
fn region(first: char) -> Option<&'static str> {
    Some(match first {
        'A'..='H' => "Africa",
        'J'..='R' => "Asia",
        'S'..='Z' => "Europe",
        '1'..='5' => "North America",
        '6' | '7' => "Oceania",
        '8' | '9' | '0' => "South America",
        _ => return None,
    })
}

/// Country of manufacture from the first two characters, for the ranges Nexus is sure of.
fn country(first: char, second: char) -> Option<&'static str> {
    Some(match (first, second) {
        ('1' | '4' | '5', _) => "United States",
        ('2', _) => "Canada",
        ('3', 'A'..='W') => "Mexico",
        ('J', _) => "Japan",
        ('K', 'L'..='R') => "South Korea",
        ('L', _) => "China",
        ('M', 'A'..='E') => "India",
        ('M', 'L'..='R') => "Thailand",
        ('S', 'A'..='M') => "United Kingdom",
        ('V', 'F'..='R') => "France",
        ('V', 'S'..='W') => "Spain",
        ('W', _) => "Germany",
        ('Y', 'S'..='W') => "Sweden",
        ('Z', 'A'..='R') => "Italy",
        ('9', 'A'..='E') => "Brazil",
        _ => return None,
    })
}

/// World manufacturer identifiers common on Mexican roads: (WMI, maker, country).
const WMIS: &[(&str, &str, &str)] = &[
    // Mexico
    ("3VW", "Volkswagen de México", "Mexico"),
    ("3VV", "Volkswagen de México", "Mexico"),
    ("3N1", "Nissan Mexicana", "Mexico"),
    ("3N6", "Nissan Mexicana", "Mexico"),
    ("3G1", "General Motors de México", "Mexico"),
    ("3GN", "General Motors de México", "Mexico"),
    ("3GC", "General Motors de México", "Mexico"),
    ("3FA", "Ford de México", "Mexico"),
    ("3HG", "Honda de México", "Mexico"),
    ("3KP", "Kia México", "Mexico"),
    ("3KM", "Kia México", "Mexico"),
    ("3MZ", "Mazda de México", "Mexico"),
    ("3C4", "Stellantis México", "Mexico"),
    ("3C6", "Stellantis México", "Mexico"),
    ("3TM", "Toyota de México", "Mexico"),
    // United States and Canada
    ("1FA", "Ford", "United States"),
    ("1FM", "Ford", "United States"),
    ("1FT", "Ford", "United States"),
    ("1G1", "Chevrolet", "United States"),
    ("1GC", "Chevrolet", "United States"),
    ("1GN", "Chevrolet", "United States"),
    ("1G4", "Buick", "United States"),
    ("1G6", "Cadillac", "United States"),
    ("1GT", "GMC", "United States"),
    ("1HG", "Honda", "United States"),
    ("1J4", "Jeep", "United States"),
    ("1C4", "Chrysler", "United States"),
    ("1C6", "Ram", "United States"),
    ("1M8", "Motor Coach Industries", "United States"),
    ("1N4", "Nissan", "United States"),
    ("1N6", "Nissan", "United States"),
    ("4T1", "Toyota", "United States"),
    ("4S3", "Subaru", "United States"),
    ("5YJ", "Tesla", "United States"),
    ("5UX", "BMW", "United States"),
    ("5NP", "Hyundai", "United States"),
    ("5XY", "Kia", "United States"),
    ("2HG", "Honda", "Canada"),
    ("2T1", "Toyota", "Canada"),
    ("2G1", "Chevrolet", "Canada"),
    // Japan
    ("JHM", "Honda", "Japan"),
    ("JH4", "Acura", "Japan"),
    ("JN1", "Nissan", "Japan"),
    ("JN8", "Nissan", "Japan"),
    ("JT2", "Toyota", "Japan"),
    ("JTD", "Toyota", "Japan"),
    ("JTE", "Toyota", "Japan"),
    ("JM1", "Mazda", "Japan"),
    ("JF1", "Subaru", "Japan"),
    ("JS3", "Suzuki", "Japan"),
    ("JA3", "Mitsubishi", "Japan"),
    // Germany
    ("WVW", "Volkswagen", "Germany"),
    ("WV1", "Volkswagen Commercial Vehicles", "Germany"),
    ("WV2", "Volkswagen Commercial Vehicles", "Germany"),
    ("WAU", "Audi", "Germany"),
    ("WA1", "Audi", "Germany"),
    ("WBA", "BMW", "Germany"),
    ("WBS", "BMW M", "Germany"),
    ("WDB", "Mercedes-Benz", "Germany"),
    ("WDD", "Mercedes-Benz", "Germany"),
    ("WP0", "Porsche", "Germany"),
    ("W0L", "Opel", "Germany"),
    // South Korea
    ("KMH", "Hyundai", "South Korea"),
    ("KNA", "Kia", "South Korea"),
    ("KND", "Kia", "South Korea"),
    // Elsewhere
    ("MA3", "Suzuki (Maruti)", "India"),
    ("MAL", "Hyundai", "India"),
    ("VF1", "Renault", "France"),
    ("VF3", "Peugeot", "France"),
    ("VF7", "Citroën", "France"),
    ("ZFA", "Fiat", "Italy"),
    ("SAJ", "Jaguar", "United Kingdom"),
    ("SAL", "Land Rover", "United Kingdom"),
    ("YV1", "Volvo", "Sweden"),
    ("9BW", "Volkswagen do Brasil", "Brazil"),
];

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    const LATEST: i32 = 2027;

    /// The CFR's example and the three verified in domain.md §2.1.
    const WORKED: [(&str, char); 4] = [
        ("1G4AH59H45G118341", '4'),
        ("1HGCM82633A004352", '3'),
        ("1M8GDM9AXKP042788", 'X'),
        ("WA1A4AFY2J2008189", '2'),
    ];

    #[test]
    fn the_worked_examples_give_their_check_digits() {
        for (vin, digit) in WORKED {
            let v = Vin::parse(vin).unwrap();
            assert_eq!(v.expected_check_digit(), digit, "{vin}");
            assert!(v.check_digit_valid(), "{vin}");
        }
    }

    #[test]
    fn the_cfr_example_sums_to_411_and_gives_4() {
        let v = Vin::parse("1G4AH59H05G118341").unwrap();
        let sum: u32 = v
            .as_str()
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| transliterate(b) * w)
            .sum();
        assert_eq!(sum, 411);
        assert_eq!(v.expected_check_digit(), '4');
        assert!(!v.check_digit_valid());
    }

    #[test]
    fn the_worked_examples_decode_their_model_years_and_makers() {
        let d = Vin::parse("1HGCM82633A004352")
            .unwrap()
            .decode_with(None, LATEST);
        assert_eq!(d.model_year, Some(2003));
        assert_eq!(d.manufacturer, Some("Honda"));
        assert_eq!(d.country, Some("United States"));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);

        let d = Vin::parse("1M8GDM9AXKP042788")
            .unwrap()
            .decode_with(None, LATEST);
        assert_eq!(d.model_year_candidates, vec![1989, 2019]);
        assert_eq!(d.model_year, Some(1989), "position 7 is a digit");
        assert_eq!(d.check_digit, 'X');

        let d = Vin::parse("WA1A4AFY2J2008189")
            .unwrap()
            .decode_with(None, LATEST);
        assert_eq!(d.model_year, Some(2018), "position 7 is a letter");
        assert_eq!(d.region, Some("Europe"));
        assert!(d.warnings.contains(&warning::MODEL_YEAR_AMBIGUOUS));

        let d = Vin::parse("1G4AH59H45G118341")
            .unwrap()
            .decode_with(None, LATEST);
        assert_eq!(d.model_year, Some(2005));
        assert_eq!(d.model_year_candidates, vec![2005], "2035 is in the future");
    }

    #[test]
    fn a_wrong_check_digit_is_a_warning_not_an_error() {
        let d = Vin::parse("1HGCM82643A004352")
            .unwrap()
            .decode_with(None, LATEST);
        assert!(!d.check_digit_valid);
        assert_eq!(d.expected_check_digit, '3');
        assert_eq!(d.warnings, vec![warning::CHECK_DIGIT_MISMATCH]);
    }

    #[test]
    fn mexican_wmis_name_the_mexican_plant() {
        for (wmi, maker) in [
            ("3VW", "Volkswagen de México"),
            ("3N1", "Nissan Mexicana"),
            ("3G1", "General Motors de México"),
            ("3FA", "Ford de México"),
            ("3HG", "Honda de México"),
            ("3KP", "Kia México"),
            ("3MZ", "Mazda de México"),
            ("3C6", "Stellantis México"),
        ] {
            let d = Vin::parse(&format!("{wmi}AB12C0LM012345"))
                .unwrap()
                .decode_with(None, LATEST);
            assert_eq!(d.manufacturer, Some(maker), "{wmi}");
            assert_eq!(d.country, Some("Mexico"));
            assert_eq!(d.region, Some("North America"));
        }
    }

    #[test]
    fn an_unknown_wmi_still_gives_region_and_country() {
        let d = Vin::parse("3BZAB12C0L0123456")
            .unwrap()
            .decode_with(None, LATEST);
        assert_eq!(d.manufacturer, None);
        assert_eq!(d.country, Some("Mexico"));
        assert!(d.warnings.contains(&warning::UNKNOWN_MANUFACTURER));
        let d = Vin::parse("KLAAB12C0L0123456")
            .unwrap()
            .decode_with(None, LATEST);
        assert_eq!(d.country, Some("South Korea"));
    }

    #[test]
    fn position_7_chooses_the_cycle_and_a_stated_year_wins_when_it_fits() {
        // `L` is 1990 or 2020.
        let alpha = Vin::parse("3VWAB1CX0LM012345").unwrap();
        assert_eq!(alpha.decode_with(None, LATEST).model_year, Some(2020));
        let digit = Vin::parse("3VWAB11X0LM012345").unwrap();
        assert_eq!(digit.decode_with(None, LATEST).model_year, Some(1990));
        let stated = digit.decode_with(Some(2020), LATEST);
        assert_eq!(stated.model_year, Some(2020));
        assert!(!stated.warnings.contains(&warning::MODEL_YEAR_MISMATCH));
        let wrong = alpha.decode_with(Some(2015), LATEST);
        assert_eq!(wrong.model_year, Some(2020));
        assert!(wrong.warnings.contains(&warning::MODEL_YEAR_MISMATCH));
    }

    #[test]
    fn year_codes_u_z_and_0_are_not_years() {
        for code in ['U', 'Z', '0'] {
            let d = Vin::parse(&format!("3VWAB1CX0{code}M012345"))
                .unwrap()
                .decode_with(None, LATEST);
            assert_eq!(d.model_year, None);
            assert!(d.warnings.contains(&warning::MODEL_YEAR_UNKNOWN));
        }
    }

    #[test]
    fn the_year_table_follows_the_30_year_cycle() {
        for (code, first) in [
            ('A', 1980),
            ('H', 1987),
            ('J', 1988),
            ('N', 1992),
            ('P', 1993),
            ('R', 1994),
            ('T', 1996),
            ('V', 1997),
            ('Y', 2000),
            ('1', 2001),
            ('9', 2009),
        ] {
            assert_eq!(cycle_year(code), Some(first), "{code}");
        }
        assert_eq!(model_year_candidates('S', 2026), vec![1995, 2025]);
        assert_eq!(model_year_candidates('T', 2026), vec![1996, 2026]);
        assert_eq!(model_year_candidates('V', 2026), vec![1997]);
    }

    #[test]
    fn lower_case_and_surrounding_spaces_are_normalised() {
        assert_eq!(
            Vin::parse("  1hgcm82633a004352\n").unwrap().as_str(),
            "1HGCM82633A004352"
        );
    }

    #[test]
    fn a_vin_with_the_letter_o_is_refused_with_its_position() {
        let e = Vin::parse("1HGCM82633AOO4352").unwrap_err();
        assert_eq!(
            e,
            VinError::ForbiddenLetter {
                letter: 'O',
                position: 12
            }
        );
        assert!(e.to_string().contains("position 12"), "{e}");
        assert!(matches!(
            Vin::parse("IHGCM82633A004352"),
            Err(VinError::ForbiddenLetter {
                letter: 'I',
                position: 1
            })
        ));
        assert!(matches!(
            Vin::parse("1HGCM82633A00435q"),
            Err(VinError::ForbiddenLetter {
                letter: 'Q',
                position: 17
            })
        ));
    }

    #[test]
    fn wrong_lengths_and_characters_are_refused() {
        assert_eq!(
            Vin::parse("1HGCM82633A00435").unwrap_err(),
            VinError::Length { len: 16 }
        );
        assert_eq!(
            Vin::parse("1HGCM82633A0043521").unwrap_err(),
            VinError::Length { len: 18 }
        );
        assert_eq!(Vin::parse("").unwrap_err(), VinError::Length { len: 0 });
        assert_eq!(
            Vin::parse("1HGCM8-633A004352").unwrap_err(),
            VinError::InvalidCharacter {
                found: '-',
                position: 7
            }
        );
        assert!(matches!(
            Vin::parse("1HGCM82633A00435Ñ"),
            Err(VinError::InvalidCharacter {
                found: 'Ñ',
                position: 17
            })
        ));
    }

    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";

    fn random_vin(rng: &mut impl Rng) -> String {
        let mut bytes: Vec<u8> = (0..VIN_LEN)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
            .collect();
        let v = Vin(String::from_utf8(bytes.clone()).unwrap());
        bytes[8] = v.expected_check_digit() as u8;
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn property_a_vin_with_its_computed_digit_always_validates_and_normalises_idempotently() {
        let mut rng = rand::rng();
        for _ in 0..2_000 {
            let s = random_vin(&mut rng);
            let v = Vin::parse(&format!(" {} ", s.to_lowercase())).unwrap();
            assert_eq!(v.as_str(), s);
            assert!(v.check_digit_valid(), "{s}");
            assert_eq!(Vin::parse(v.as_str()).unwrap(), v);
            let d = v.decode_with(None, LATEST);
            assert!(
                d.model_year
                    .is_none_or(|y| d.model_year_candidates.contains(&y))
            );
        }
    }

    #[test]
    fn property_changing_one_weighted_character_to_another_value_breaks_the_check_digit() {
        // Weights 2–10 and value differences 1–9 are both non-zero mod 11, a prime, so a single
        // substitution that changes the transliterated value always changes the sum mod 11.
        let mut rng = rand::rng();
        for _ in 0..2_000 {
            let s = random_vin(&mut rng);
            let pos = loop {
                let p = rng.random_range(0..VIN_LEN);
                if WEIGHTS[p] != 0 {
                    break p;
                }
            };
            let mut bytes = s.clone().into_bytes();
            let old = bytes[pos];
            let new = loop {
                let c = ALPHABET[rng.random_range(0..ALPHABET.len())];
                if transliterate(c) != transliterate(old) {
                    break c;
                }
            };
            bytes[pos] = new;
            let v = Vin::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
            assert!(!v.check_digit_valid(), "{s} -> {}", v.as_str());
        }
    }
}
