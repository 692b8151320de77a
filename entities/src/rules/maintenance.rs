//! Maintenance due points, projections and urgency: pure arithmetic on dates and kilometres.
//!
//! A plan repeats every `interval_km` and/or `interval_months`, **whichever comes first**. From
//! the last time the work was done, the next due point is `last_km + interval_km` and
//! `last_on + interval_months` (calendar months, clamped to the end of a shorter month: a
//! month after 31 Jan is 28 or 29 Feb). The vehicle's pace (km per day, from its readings of the last
//! [`PACE_WINDOW_DAYS`] days) projects the day it will reach the due kilometres; the **alert
//! date** is the earlier of the due date and that projection. Urgency follows LubeLogger's
//! reminder rule with the business's thresholds: past due, very urgent, urgent or not urgent,
//! the first metric to trigger the most severe level being the one reported.

use chrono::{Months, NaiveDate};

/// How far back readings count for the pace: a vehicle's use changes with the seasons.
pub const PACE_WINDOW_DAYS: i64 = 90;

/// Where a plan's next service falls. Either may be absent: a plan by kilometres only, by
/// months only, or a vehicle with no known odometer base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The odometer reading at which it is due.
    pub km: Option<i64>,
    /// The day it is due.
    pub on: Option<NaiveDate>,
}

impl Due {
    /// The key of the due point, `km|date` (`-` for an absent part): what a `maintenance_due`
    /// event is recorded once for. Keying on the plan alone would silence every later cycle.
    #[must_use]
    pub fn key(&self) -> String {
        format!(
            "{}|{}",
            self.km.map_or_else(|| "-".to_owned(), |k| k.to_string()),
            self.on.map_or_else(|| "-".to_owned(), |d| d.to_string())
        )
    }
}

/// The day `months` calendar months after `from`, clamped to the end of a shorter month.
#[must_use]
pub fn add_months(from: NaiveDate, months: i32) -> NaiveDate {
    let m = u32::try_from(months).unwrap_or(0);
    from.checked_add_months(Months::new(m))
        .unwrap_or(NaiveDate::MAX)
}

/// The next due point after the work was last done at `last_km` on `last_on`.
#[must_use]
pub fn next_due(
    last_km: Option<i64>,
    last_on: NaiveDate,
    interval_km: Option<i64>,
    interval_months: Option<i32>,
) -> Due {
    Due {
        km: match (last_km, interval_km) {
            (Some(k), Some(i)) => Some(k.saturating_add(i)),
            _ => None,
        },
        on: interval_months.map(|m| add_months(last_on, m)),
    }
}

/// A vehicle's pace: `km` driven over `days` days (both positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Kilometres driven.
    pub km: i64,
    /// Over this many days.
    pub days: i64,
}

/// The pace from readings `(day, km)` in any order: the first and the last reading within
/// [`PACE_WINDOW_DAYS`] days up to `today`. None with fewer than two readings there, when they
/// are on the same day, or when the vehicle did not move.
#[must_use]
pub fn pace(readings: &[(NaiveDate, i64)], today: NaiveDate) -> Option<Pace> {
    let since = today - chrono::Duration::days(PACE_WINDOW_DAYS);
    let mut window = readings.iter().filter(|(d, _)| *d >= since && *d <= today);
    let first = *window.next()?;
    let (mut lo, mut hi) = (first, first);
    for &r in window {
        // The earliest day's lowest reading and the latest day's highest.
        if (r.0, r.1) < (lo.0, lo.1) {
            lo = r;
        }
        if (r.0, r.1) > (hi.0, hi.1) {
            hi = r;
        }
    }
    let days = (hi.0 - lo.0).num_days();
    let km = hi.1 - lo.1;
    (days > 0 && km > 0).then_some(Pace { km, days })
}

/// The day the vehicle reaches `due_km` at its pace: today when it already has, otherwise
/// today plus the days the remaining kilometres take, rounded up (a service is due on the day
/// the kilometres are reached, not the day before).
#[must_use]
pub fn projected_on(today: NaiveDate, current_km: i64, due_km: i64, pace: Pace) -> NaiveDate {
    let remaining = due_km - current_km;
    if remaining <= 0 {
        return today;
    }
    // ceil(remaining × days / km) in integers: exact, no float drift across platforms.
    let num = i128::from(remaining) * i128::from(pace.days);
    let den = i128::from(pace.km);
    let days = (num + den - 1) / den;
    let days = i64::try_from(days).unwrap_or(i64::MAX / 2);
    today
        .checked_add_signed(chrono::Duration::days(days.min(365 * 200)))
        .unwrap_or(NaiveDate::MAX)
}

/// How soon a plan's work is due, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    /// Its day has passed or its kilometres were driven past.
    PastDue,
    /// Within the very-urgent window.
    VeryUrgent,
    /// Within the urgent (warning) window.
    Urgent,
    /// Further off.
    NotUrgent,
}

impl Urgency {
    /// The stored and shown text.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PastDue => "past_due",
            Self::VeryUrgent => "very_urgent",
            Self::Urgent => "urgent",
            Self::NotUrgent => "not_urgent",
        }
    }

    /// Whether a `maintenance_due` event is recorded at this level (urgent or worse).
    #[must_use]
    pub const fn warns(self) -> bool {
        !matches!(self, Self::NotUrgent)
    }
}

/// What triggered the urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// The due date.
    Date,
    /// The due kilometres against the current reading.
    Km,
    /// The day the pace reaches the due kilometres.
    Projected,
}

impl Metric {
    /// The shown text.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::Km => "km",
            Self::Projected => "projected",
        }
    }
}

/// The business's windows (LubeLogger's 7 days or 50 km, and 30 days or 100 km, by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Very urgent within this many days.
    pub very_urgent_days: i64,
    /// Very urgent within this many km.
    pub very_urgent_km: i64,
    /// Urgent within this many days.
    pub urgent_days: i64,
    /// Urgent within this many km.
    pub urgent_km: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            very_urgent_days: 7,
            very_urgent_km: 50,
            urgent_days: 30,
            urgent_km: 100,
        }
    }
}

/// A plan's standing on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// How soon.
    pub urgency: Urgency,
    /// What triggered it (none when not urgent).
    pub metric: Option<Metric>,
    /// The projected day the due kilometres are reached, when the pace is known.
    pub projected_on: Option<NaiveDate>,
    /// The earlier of the due date and the projected day.
    pub alert_on: Option<NaiveDate>,
}

/// The urgency of `due` on `today` for a vehicle at `current_km` (none when unknown) moving at
/// `pace`.
///
/// Past due when the due date is before today or the due kilometres are below the current
/// reading (the day or the kilometre itself is still on time: very urgent). Otherwise very
/// urgent, then urgent, when the alert date is within that window's days or the kilometres left
/// within its km. For each level the date is tried first, then the kilometres, then the
/// projection; the first that triggers the most severe level is reported.
#[must_use]
pub fn standing(
    due: Due,
    today: NaiveDate,
    current_km: Option<i64>,
    pace: Option<Pace>,
    t: Thresholds,
) -> Standing {
    let projected = match (due.km, current_km, pace) {
        (Some(d), Some(c), Some(p)) => Some(projected_on(today, c, d, p)),
        _ => None,
    };
    let alert_on = match (due.on, projected) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let days_left = |d: Option<NaiveDate>| d.map(|d| (d - today).num_days());
    let km_left = match (due.km, current_km) {
        (Some(d), Some(c)) => Some(d - c),
        _ => None,
    };
    let (date_left, proj_left) = (days_left(due.on), days_left(projected));
    let mut out = Standing {
        urgency: Urgency::NotUrgent,
        metric: None,
        projected_on: projected,
        alert_on,
    };
    if date_left.is_some_and(|d| d < 0) {
        out.urgency = Urgency::PastDue;
        out.metric = Some(Metric::Date);
        return out;
    }
    if km_left.is_some_and(|k| k < 0) {
        out.urgency = Urgency::PastDue;
        out.metric = Some(Metric::Km);
        return out;
    }
    for (level, days, km) in [
        (Urgency::VeryUrgent, t.very_urgent_days, t.very_urgent_km),
        (Urgency::Urgent, t.urgent_days, t.urgent_km),
    ] {
        let metric = if date_left.is_some_and(|d| d <= days) {
            Some(Metric::Date)
        } else if km_left.is_some_and(|k| k <= km) {
            Some(Metric::Km)
        } else if proj_left.is_some_and(|d| d <= days) {
            Some(Metric::Projected)
        } else {
            None
        };
        if metric.is_some() {
            out.urgency = level;
            out.metric = metric;
            return out;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn months_are_calendar_months_clamped_to_the_end_of_a_short_month() {
        assert_eq!(add_months(d(2025, 1, 31), 1), d(2025, 2, 28));
        assert_eq!(add_months(d(2024, 1, 31), 1), d(2024, 2, 29));
        assert_eq!(add_months(d(2025, 3, 31), 6), d(2025, 9, 30));
        assert_eq!(add_months(d(2025, 11, 30), 3), d(2026, 2, 28));
        assert_eq!(add_months(d(2025, 8, 15), 12), d(2026, 8, 15));
    }

    #[test]
    fn the_next_due_point_adds_each_interval_to_the_last_service() {
        let due = next_due(Some(85_000), d(2025, 1, 31), Some(10_000), Some(6));
        assert_eq!(due.km, Some(95_000));
        assert_eq!(due.on, Some(d(2025, 7, 31)));
        assert_eq!(due.key(), "95000|2025-07-31");
        let km_only = next_due(Some(85_000), d(2025, 1, 31), Some(5_000), None);
        assert_eq!(
            km_only,
            Due {
                km: Some(90_000),
                on: None
            }
        );
        assert_eq!(km_only.key(), "90000|-");
        // No odometer base: only the months count.
        let no_base = next_due(None, d(2025, 1, 31), Some(5_000), Some(1));
        assert_eq!(
            no_base,
            Due {
                km: None,
                on: Some(d(2025, 2, 28))
            }
        );
    }

    #[test]
    fn the_pace_is_the_first_and_last_reading_of_the_last_ninety_days() {
        let today = d(2025, 6, 30);
        // 1 Apr is 90 days before 30 Jun; 31 Mar is outside.
        let rs = [
            (d(2025, 3, 31), 10_000),
            (d(2025, 4, 1), 12_000),
            (d(2025, 5, 15), 13_000),
            (d(2025, 6, 30), 16_500),
        ];
        assert_eq!(
            pace(&rs, today),
            Some(Pace {
                km: 4_500,
                days: 90
            })
        );
        assert_eq!(pace(&rs[..1], today), None, "one reading is no pace");
        assert_eq!(
            pace(&[(d(2025, 6, 1), 100), (d(2025, 6, 1), 200)], today),
            None,
            "same day"
        );
        assert_eq!(
            pace(&[(d(2025, 6, 1), 100), (d(2025, 6, 20), 100)], today),
            None,
            "parked"
        );
    }

    #[test]
    fn the_projection_rounds_the_days_up_and_is_today_once_reached() {
        let today = d(2025, 6, 30);
        // 50 km a day (4 500 km over 90 days): 1 000 km left is 20 days.
        let p = Pace {
            km: 4_500,
            days: 90,
        };
        assert_eq!(projected_on(today, 94_000, 95_000, p), d(2025, 7, 20));
        // 1 001 km is 20.02 days: the 21st day.
        assert_eq!(projected_on(today, 93_999, 95_000, p), d(2025, 7, 21));
        assert_eq!(projected_on(today, 95_000, 95_000, p), today);
        assert_eq!(projected_on(today, 96_000, 95_000, p), today);
    }

    #[test]
    fn past_due_by_date_or_by_km_and_the_day_itself_is_still_on_time() {
        let t = Thresholds::default();
        let today = d(2025, 6, 30);
        let due = Due {
            km: Some(95_000),
            on: Some(d(2025, 6, 29)),
        };
        let s = standing(due, today, Some(90_000), None, t);
        assert_eq!(
            (s.urgency, s.metric),
            (Urgency::PastDue, Some(Metric::Date))
        );
        let due = Due {
            km: Some(95_000),
            on: Some(d(2025, 6, 30)),
        };
        let s = standing(due, today, Some(90_000), None, t);
        assert_eq!(
            (s.urgency, s.metric),
            (Urgency::VeryUrgent, Some(Metric::Date))
        );
        let due = Due {
            km: Some(95_000),
            on: Some(d(2026, 1, 1)),
        };
        let s = standing(due, today, Some(95_001), None, t);
        assert_eq!((s.urgency, s.metric), (Urgency::PastDue, Some(Metric::Km)));
        let s = standing(due, today, Some(95_000), None, t);
        assert_eq!(
            (s.urgency, s.metric),
            (Urgency::VeryUrgent, Some(Metric::Km))
        );
    }

    #[test]
    fn whichever_comes_first_reports_the_metric_that_triggers_the_worst_level() {
        let t = Thresholds::default();
        let today = d(2025, 6, 30);
        // Date 20 days away (urgent), km 40 away (very urgent): the km wins, very urgent.
        let due = Due {
            km: Some(95_000),
            on: Some(d(2025, 7, 20)),
        };
        let s = standing(due, today, Some(94_960), None, t);
        assert_eq!(
            (s.urgency, s.metric),
            (Urgency::VeryUrgent, Some(Metric::Km))
        );
        // Km 100 away (urgent), date 31 days away: urgent by km.
        let due = Due {
            km: Some(95_000),
            on: Some(d(2025, 7, 31)),
        };
        let s = standing(due, today, Some(94_900), None, t);
        assert_eq!((s.urgency, s.metric), (Urgency::Urgent, Some(Metric::Km)));
        // 101 km and 31 days away: not urgent.
        let s = standing(due, today, Some(94_899), None, t);
        assert_eq!((s.urgency, s.metric), (Urgency::NotUrgent, None));
        assert_eq!(s.alert_on, Some(d(2025, 7, 31)));
    }

    #[test]
    fn the_projection_brings_the_alert_date_forward_for_a_busy_vehicle() {
        let t = Thresholds::default();
        let today = d(2025, 6, 30);
        // 200 km a day, 1 000 km left: reached in 5 days, long before the date in December.
        let p = Pace {
            km: 18_000,
            days: 90,
        };
        let due = Due {
            km: Some(95_000),
            on: Some(d(2025, 12, 31)),
        };
        let s = standing(due, today, Some(94_000), Some(p), t);
        assert_eq!(s.projected_on, Some(d(2025, 7, 5)));
        assert_eq!(s.alert_on, Some(d(2025, 7, 5)));
        assert_eq!(
            (s.urgency, s.metric),
            (Urgency::VeryUrgent, Some(Metric::Projected))
        );
        // 20 km a day: 50 days, not urgent, the alert date the projection's (19 Aug).
        let slow = Pace {
            km: 1_800,
            days: 90,
        };
        let s = standing(due, today, Some(94_000), Some(slow), t);
        assert_eq!(s.alert_on, Some(d(2025, 8, 19)));
        assert_eq!(s.urgency, Urgency::NotUrgent);
    }

    #[test]
    fn a_plan_with_its_own_window_warns_earlier() {
        let today = d(2025, 6, 30);
        let due = Due {
            km: Some(100_000),
            on: None,
        };
        let wide = Thresholds {
            urgent_km: 1_000,
            ..Thresholds::default()
        };
        let s = standing(due, today, Some(99_000), None, wide);
        assert_eq!(s.urgency, Urgency::Urgent);
        let s = standing(due, today, Some(99_000), None, Thresholds::default());
        assert_eq!(s.urgency, Urgency::NotUrgent);
        // Nothing known: not urgent, no alert date.
        let s = standing(Due { km: None, on: None }, today, None, None, wide);
        assert_eq!((s.urgency, s.alert_on), (Urgency::NotUrgent, None));
    }
}
