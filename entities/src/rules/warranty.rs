//! Warranty eligibility: covered while today is on or before the start plus the policy's
//! calendar months, and (when the policy has a distance limit) while the distance driven since
//! installation is within it, whichever ends first.

use chrono::{Months, NaiveDate};

use crate::{Error, Result};

/// A limit a warranty ran past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failed {
    /// Past the last day covered.
    Expired,
    /// More kilometres driven since installation than the policy covers.
    KmExceeded,
}

impl Failed {
    /// The stored and shown text.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::KmExceeded => "km_exceeded",
        }
    }
}

/// The answer of [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    /// Covered on the day asked.
    pub eligible: bool,
    /// The limits that failed (empty when eligible), months first.
    pub failed: Vec<Failed>,
    /// The last day covered.
    pub expires_on: NaiveDate,
    /// Kilometres driven since installation, when both readings are known.
    pub km_driven: Option<i64>,
}

impl Eligibility {
    /// The failed limits as stored (`expired`, `km_exceeded`, or both joined by a comma).
    #[must_use]
    pub fn reason(&self) -> Option<String> {
        (!self.failed.is_empty()).then(|| {
            self.failed
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
    }
}

/// The last day a warranty of `months` starting on `start` covers: the same day `months`
/// calendar months later, clamped to the end of a shorter month (31 Jan + 1 = 28 or 29 Feb).
#[must_use]
pub fn last_day(start: NaiveDate, months: i32) -> NaiveDate {
    let m = u32::try_from(months).unwrap_or(0);
    start
        .checked_add_months(Months::new(m))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether a warranty covers on `today` at `odometer_now`.
///
/// The distance limit applies only when the policy has one and the odometer at installation is
/// known; then the current reading is needed and may not be below the installation's.
///
/// # Errors
/// [`Error::Validation`] on `odometer`: missing when the limit applies, negative, or below the
/// reading at installation (an odometer does not go backwards).
pub fn check(
    expires_on: NaiveDate,
    km: Option<i64>,
    odometer_at_install: Option<i64>,
    today: NaiveDate,
    odometer_now: Option<i64>,
) -> Result<Eligibility> {
    if odometer_now.is_some_and(|o| !(0..=10_000_000).contains(&o)) {
        return Err(Error::validation(
            "odometer",
            "the odometer is 0 to 10,000,000 km",
        ));
    }
    let mut failed = Vec::new();
    if today > expires_on {
        failed.push(Failed::Expired);
    }
    let mut km_driven = None;
    if let (Some(limit), Some(at)) = (km, odometer_at_install) {
        let now = odometer_now.ok_or_else(|| {
            Error::validation(
                "odometer",
                "this warranty has a distance limit: give the current odometer",
            )
        })?;
        if now < at {
            return Err(Error::validation(
                "odometer",
                format!("the odometer reads {now} km, below the {at} km at installation"),
            ));
        }
        let driven = now - at;
        km_driven = Some(driven);
        if driven > limit {
            failed.push(Failed::KmExceeded);
        }
    }
    Ok(Eligibility {
        eligible: failed.is_empty(),
        failed,
        expires_on,
        km_driven,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_month_from_the_31st_of_january_ends_on_the_last_day_of_february() {
        assert_eq!(last_day(d(2026, 1, 31), 1), d(2026, 2, 28));
        assert_eq!(last_day(d(2028, 1, 31), 1), d(2028, 2, 29));
        assert_eq!(last_day(d(2026, 3, 15), 12), d(2027, 3, 15));
    }

    #[test]
    fn the_last_day_is_covered_and_the_day_after_is_not() {
        let end = last_day(d(2026, 1, 31), 1);
        let e = check(end, None, None, end, None).unwrap();
        assert!(e.eligible);
        let e = check(end, None, None, end.succ_opt().unwrap(), None).unwrap();
        assert!(!e.eligible);
        assert_eq!(e.failed, vec![Failed::Expired]);
        assert_eq!(e.reason().as_deref(), Some("expired"));
    }

    #[test]
    fn exactly_the_km_limit_is_covered_and_one_more_is_not() {
        let end = d(2027, 1, 1);
        let today = d(2026, 6, 1);
        let e = check(end, Some(20_000), Some(50_000), today, Some(70_000)).unwrap();
        assert!(e.eligible);
        assert_eq!(e.km_driven, Some(20_000));
        let e = check(end, Some(20_000), Some(50_000), today, Some(70_001)).unwrap();
        assert_eq!(e.failed, vec![Failed::KmExceeded]);
    }

    #[test]
    fn whichever_comes_first_both_limits_are_named() {
        let e = check(d(2026, 1, 1), Some(100), Some(0), d(2026, 1, 2), Some(101)).unwrap();
        assert_eq!(e.failed, vec![Failed::Expired, Failed::KmExceeded]);
        assert_eq!(e.reason().as_deref(), Some("expired,km_exceeded"));
    }

    #[test]
    fn an_odometer_going_backwards_or_missing_is_a_validation_error() {
        let end = d(2027, 1, 1);
        let today = d(2026, 1, 1);
        let back = check(end, Some(1000), Some(5000), today, Some(4999));
        assert!(matches!(back, Err(Error::Validation { field, .. }) if field == "odometer"));
        let missing = check(end, Some(1000), Some(5000), today, None);
        assert!(matches!(missing, Err(Error::Validation { field, .. }) if field == "odometer"));
        let negative = check(end, None, None, today, Some(-1));
        assert!(negative.is_err());
    }

    #[test]
    fn without_an_odometer_at_installation_only_the_months_count() {
        let e = check(d(2027, 1, 1), Some(10), None, d(2026, 1, 1), None).unwrap();
        assert!(e.eligible);
        assert_eq!(e.km_driven, None);
    }

    #[test]
    fn property_the_last_day_is_the_month_count_later_never_past_the_start_day_and_covered() {
        use chrono::Datelike;
        let month_index = |x: NaiveDate| x.year() * 12 + i32::try_from(x.month0()).unwrap();
        let mut start = d(2027, 1, 1);
        // Four years of starts (a leap year among them) by every policy length.
        while start < d(2031, 1, 1) {
            for months in 1..=120 {
                let end = last_day(start, months);
                assert!(end > start);
                assert_eq!(
                    month_index(end) - month_index(start),
                    months,
                    "{start} + {months}"
                );
                assert!(end.day() <= start.day());
                assert!(check(end, None, None, end, None).unwrap().eligible);
                let after = end.succ_opt().unwrap();
                assert!(!check(end, None, None, after, None).unwrap().eligible);
            }
            start = start.succ_opt().unwrap();
        }
    }

    #[test]
    fn property_distance_is_covered_up_to_and_including_the_limit() {
        for at in [0, 1, 49_999, 123_456] {
            for limit in [1, 10, 5_000, 20_000] {
                for driven in [0, limit - 1, limit, limit + 1, limit * 2] {
                    let e = check(
                        d(2030, 1, 1),
                        Some(limit),
                        Some(at),
                        d(2029, 1, 1),
                        Some(at + driven),
                    )
                    .unwrap();
                    assert_eq!(e.eligible, driven <= limit, "{at} {limit} {driven}");
                }
            }
        }
    }
}
