//! The global invoice (CFDI to the general public, domain.md §1.8): one per branch and closed
//! period, covering the branch's completed sales of that period that are neither invoiced to
//! their customer nor already in a standing global invoice.
//!
//! Per SAT's filling guide each ticket is a concept (ClaveProdServ `01010101`, unit `ACT`,
//! description `Venta`, identification = the ticket's folio), one per IVA treatment present in
//! the ticket, for the ticket's amount net of its returns. The receiver is `XAXX010101000` /
//! `PUBLICO EN GENERAL` / regime 616 / use S01 with the branch's postal code, and the `global`
//! block names the period. Which sales a global covers is recorded in `global_invoice_sales`,
//! whose `active_sale_id` is unique: a sale can never stand in two globals, even when two runs
//! race.
//!
//! A sale already in a global that its customer later wants invoiced (motive 04): the nominative
//! invoice is issued, the sale leaves the global, and the global is cancelled with motive `04`;
//! once that cancellation is accepted its remaining sales are free again and the next run issues
//! a replacement for the same period without that sale.
//!
//! Building only writes rows: the caller enqueues `cfdi.stamp` for each invoice in the same
//! transaction (entities never reach the queues).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::invoicing::documents::CancellationStatus;
use crate::invoicing::fiscal::{parse_periodicity, periodicity_name};
use crate::invoicing::{documents, fiscal};
use crate::notifications::messages::{self, NewNotification};
use crate::org::audit::Entry;
use crate::rules::cfdi::{self, CfdiAmounts, LineTax, Periodicity, TicketLine};
use crate::rules::money::Money;
use crate::{Error, Page, PageRequest, Result};
use crate::{
    counter::sales, counter::tables::payment, counter::tables::sale, counter::tables::sale_line,
    counter::tables::sale_return_line, invoicing::invoices, invoicing::tables::global_invoice,
    invoicing::tables::global_invoice_sale, invoicing::tables::invoice,
    notifications::tables::notification, org::tables::branch,
};

mod amounts;
mod build;
mod due;
mod leaving;
mod list;

pub use amounts::*;
pub use build::*;
pub use due::*;
pub use leaving::*;
pub use list::*;

/// The time zone periods are counted in: Mexico City, the schedules' own
/// (`schedules::TIMEZONE`; a test checks they agree).
pub const TIMEZONE: Tz = chrono_tz::America::Mexico_City;

/// Facturapi's limit of items per invoice (domain.md §1.3): a busier period gets several globals.
pub const MAX_CONCEPTS: usize = 5_000;

/// How far back a scheduled run looks for closed periods not yet invoiced, in days. A global is
/// due within 24 h of its period's close; the margin covers a scheduler or worker outage. Older
/// periods are run on demand (`POST /pos/api/invoices/global` with `from`/`to`).
pub const LOOKBACK_DAYS: i64 = 7;

/// How far back the periods of cancelled globals are checked for sales left without one (a
/// replacement not yet issued, or a nominative invoice that failed after the replacement).
pub const REPLACEMENT_DAYS: i64 = 400;

/// The longest range an on-demand run takes, in days.
pub const MAX_RANGE_DAYS: i64 = 366;

/// ClaveProdServ of a ticket in a global invoice (SAT's guide).
pub const PRODUCT_KEY: &str = "01010101";
/// ClaveUnidad of a ticket in a global invoice (`ACT`, actividad).
pub const UNIT_KEY: &str = "ACT";
/// Description of a ticket in a global invoice.
pub const DESCRIPTION: &str = "Venta";

fn last_of_month(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

fn first_of_month(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MIN)
}

/// The instant a local day starts in [`TIMEZONE`].
#[must_use]
pub fn local_midnight(d: NaiveDate) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    TIMEZONE.from_local_datetime(&naive).earliest().map_or_else(
        // Midnight never falls in a gap in Mexico City (its old DST switched at 02:00); were
        // it to, the fixed UTC−6 of today is the answer.
        || naive.and_utc() + Duration::hours(6),
        |t| t.with_timezone(&Utc),
    )
}

/// The local date of an instant in [`TIMEZONE`].
#[must_use]
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&TIMEZONE).date_naive()
}

/// A period of a global invoice: whole local days, `first..=last`. Weeks run Monday to Sunday
/// and are cut at the month's end, so that each period lies in one month (`global.months` is
/// then that month); fortnights are the 1st–15th and the 16th–end; two-month periods are the
/// bimesters of c_Meses (January–February = `13` … November–December = `18`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The periodicity.
    pub periodicity: Periodicity,
    /// First day.
    pub first: NaiveDate,
    /// Last day, inclusive.
    pub last: NaiveDate,
}

impl Period {
    /// The period of `periodicity` that contains `day`.
    #[must_use]
    pub fn containing(periodicity: Periodicity, day: NaiveDate) -> Self {
        let (y, m) = (day.year(), day.month());
        let (first, last) = match periodicity {
            Periodicity::Day => (day, day),
            Periodicity::Week => {
                let back = i64::from(day.weekday().num_days_from_monday());
                let monday = day - Duration::days(back);
                let sunday = monday + Duration::days(6);
                (
                    monday.max(first_of_month(y, m)),
                    sunday.min(last_of_month(y, m)),
                )
            }
            Periodicity::Fortnight => {
                if day.day() <= 15 {
                    (
                        first_of_month(y, m),
                        NaiveDate::from_ymd_opt(y, m, 15).unwrap_or(day),
                    )
                } else {
                    (
                        NaiveDate::from_ymd_opt(y, m, 16).unwrap_or(day),
                        last_of_month(y, m),
                    )
                }
            }
            Periodicity::Month => (first_of_month(y, m), last_of_month(y, m)),
            Periodicity::TwoMonths => {
                let m0 = (m - 1) / 2 * 2 + 1;
                (first_of_month(y, m0), last_of_month(y, m0 + 1))
            }
        };
        Self {
            periodicity,
            first,
            last,
        }
    }

    /// The period after this one.
    #[must_use]
    pub fn next(&self) -> Self {
        Self::containing(self.periodicity, self.last.succ_opt().unwrap_or(self.last))
    }

    /// When it starts.
    #[must_use]
    pub fn starts_at(&self) -> DateTime<Utc> {
        local_midnight(self.first)
    }

    /// When it ends (exclusive): the next day's local midnight.
    #[must_use]
    pub fn ends_at(&self) -> DateTime<Utc> {
        local_midnight(self.last.succ_opt().unwrap_or(self.last))
    }

    /// c_Meses: the month (`01`–`12`), or the bimester (`13`–`18`) for two-month periods.
    #[must_use]
    pub fn months(&self) -> String {
        let m = self.first.month();
        match self.periodicity {
            Periodicity::TwoMonths => format!("{}", 13 + (m - 1) / 2),
            _ => format!("{m:02}"),
        }
    }

    /// The year of the `global` block.
    #[must_use]
    pub fn year(&self) -> i32 {
        self.first.year()
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_are_whole_local_days_and_weeks_stay_in_their_month() {
        let p = Period::containing(Periodicity::Day, d("2026-11-24"));
        assert_eq!((p.first, p.last), (d("2026-11-24"), d("2026-11-24")));
        // Midnight in Mexico City is 06:00 UTC.
        assert_eq!(p.starts_at().to_rfc3339(), "2026-11-24T06:00:00+00:00");
        assert_eq!(p.ends_at().to_rfc3339(), "2026-11-25T06:00:00+00:00");
        assert_eq!((p.months().as_str(), p.year()), ("11", 2026));

        // Monday 2026-11-30 to Sunday 2026-12-06 is cut at the month's end.
        let w = Period::containing(Periodicity::Week, d("2026-12-02"));
        assert_eq!((w.first, w.last), (d("2026-12-01"), d("2026-12-06")));
        let w0 = Period::containing(Periodicity::Week, d("2026-11-30"));
        assert_eq!((w0.first, w0.last), (d("2026-11-30"), d("2026-11-30")));
        assert_eq!(w0.next(), w);
        let mid = Period::containing(Periodicity::Week, d("2026-11-19"));
        assert_eq!((mid.first, mid.last), (d("2026-11-16"), d("2026-11-22")));

        let f = Period::containing(Periodicity::Fortnight, d("2026-02-20"));
        assert_eq!((f.first, f.last), (d("2026-02-16"), d("2026-02-28")));
        assert_eq!(f.next().first, d("2026-03-01"));
        let m = Period::containing(Periodicity::Month, d("2028-02-10"));
        assert_eq!(m.last, d("2028-02-29"));
        let b = Period::containing(Periodicity::TwoMonths, d("2026-12-31"));
        assert_eq!((b.first, b.last), (d("2026-11-01"), d("2026-12-31")));
        assert_eq!(b.months(), "18");
        assert_eq!(
            Period::containing(Periodicity::TwoMonths, d("2026-01-05")).months(),
            "13"
        );
        assert_eq!(b.next().first, d("2027-01-01"));
        for p in [p, w, f, m, b] {
            cfdi::validate_global(p.periodicity, &p.months(), p.year()).unwrap();
        }
    }

    #[test]
    fn every_day_lies_in_exactly_one_period_of_each_periodicity() {
        for per in [
            Periodicity::Day,
            Periodicity::Week,
            Periodicity::Fortnight,
            Periodicity::Month,
            Periodicity::TwoMonths,
        ] {
            let mut p = Period::containing(per, d("2025-12-20"));
            let mut day = p.first;
            while day < d("2027-03-01") {
                assert!(p.first <= day && day <= p.last, "{per:?} {day}");
                assert_eq!(Period::containing(per, day), p);
                day = day.succ_opt().unwrap();
                if day > p.last {
                    let n = p.next();
                    assert_eq!(n.first, day, "periods follow each other without a gap");
                    p = n;
                }
            }
        }
    }

    #[test]
    fn the_mexico_city_zone_is_the_schedules_zone() {
        assert_eq!(TIMEZONE.name(), "America/Mexico_City");
    }

    fn sale(parts: Vec<(LineTax, i64)>) -> NetSale {
        NetSale {
            sale_id: Uuid::now_v7(),
            folio: "MTY-01-000001".into(),
            parts,
        }
    }

    #[test]
    fn a_ticket_gives_one_concept_per_iva_treatment_net_of_returns() {
        let parts = net_parts([
            (LineTax::IVA16, 10_000),
            (LineTax::IVA8, 5_000),
            (LineTax::IVA16, 2_550),
            (LineTax::Exempt, 700),
            // A line fully returned.
            (LineTax::IVA8, 0),
        ]);
        assert_eq!(
            parts,
            vec![
                (LineTax::IVA16, 12_550),
                (LineTax::IVA8, 5_000),
                (LineTax::Exempt, 700)
            ]
        );
        let s = sale(parts);
        let items = items_json(std::slice::from_ref(&s));
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["product"]["product_key"], PRODUCT_KEY);
        assert_eq!(items[0]["product"]["unit_key"], UNIT_KEY);
        assert_eq!(items[0]["product"]["description"], DESCRIPTION);
        assert_eq!(items[0]["product"]["sku"], "MTY-01-000001");
        assert_eq!(items[2]["product"]["taxes"][0]["factor"], "Exento");
        let a = amounts(&[s]).unwrap();
        assert_eq!(a.total, Money(18_250));
        assert_eq!(a.concepts.len(), 3);
        assert_eq!(a.concepts[2].tax.amount, None);
    }

    #[test]
    fn thousands_of_random_tickets_make_a_global_total_equal_to_the_tickets_to_the_cent() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x0610_0BA1);
        let mut concepts = 0usize;
        for _ in 0..200 {
            let n = rng.random_range(1..60);
            let tickets: Vec<NetSale> = (0..n)
                .map(|_| {
                    let lines = (0..rng.random_range(1..6)).map(|_| {
                        let tax = match rng.random_range(0..5) {
                            0..=2 => LineTax::IVA16,
                            3 => LineTax::IVA8,
                            _ => LineTax::Exempt,
                        };
                        (tax, rng.random_range(0..2_000_000))
                    });
                    sale(net_parts(lines))
                })
                .filter(|s| !s.parts.is_empty())
                .collect();
            if tickets.is_empty() {
                continue;
            }
            let expected: i64 = tickets.iter().map(NetSale::total).sum();
            let a = amounts(&tickets).unwrap();
            assert_eq!(a.total.0, expected);
            for c in &a.concepts {
                assert_eq!(c.quantity, 1);
                // ValorUnitario has 6 decimals and is the base exactly (one unit, no discount).
                assert_eq!(c.unit_value, c.amount.to_decimal());
                if let (Some(rate), Some(tax)) = (c.tax.rate, c.tax.amount) {
                    let (lo, hi) = cfdi::sat_tax_bounds(c.tax.base.to_decimal(), 2, rate);
                    assert!(lo <= tax.to_decimal() && tax.to_decimal() <= hi, "{c:?}");
                }
            }
            concepts += a.concepts.len();
        }
        assert!(concepts > 10_000, "{concepts} concepts checked");
    }

    #[test]
    fn more_concepts_than_the_limit_split_into_several_invoices_without_parting_a_ticket() {
        let tickets: Vec<NetSale> = (0..7)
            .map(|i| {
                sale(if i % 2 == 0 {
                    vec![(LineTax::IVA16, 100), (LineTax::IVA8, 100)]
                } else {
                    vec![(LineTax::IVA16, 100)]
                })
            })
            .collect();
        let parts = split(tickets.clone(), 4);
        assert!(
            parts
                .iter()
                .all(|p| p.iter().map(|s| s.parts.len()).sum::<usize>() <= 4)
        );
        assert_eq!(parts.concat(), tickets);
        assert_eq!(split(tickets.clone(), MAX_CONCEPTS).len(), 1);
        assert!(split(Vec::new(), 4).is_empty());
    }

    #[test]
    fn a_refused_cancellation_s_alert_names_the_global_the_sales_and_what_to_do() {
        let id = Uuid::now_v7();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut r = RefusedCancellation {
            invoice_id: id,
            folio: Some("A12".into()),
            uuid: Some("0A1B2C3D-0000-4000-8000-00000000ABCD".into()),
            sales: vec![(a, "MTY-01-000007".into())],
            why: None,
        };
        assert_eq!(
            r.reason(),
            format!(
                "the SAT refused cancelling the global invoice A12 (UUID \
                 0A1B2C3D-0000-4000-8000-00000000ABCD, invoice {id}) with motive 04; the sale \
                 MTY-01-000007 ({a}) is now in both the global and a nominative invoice: cancel \
                 the global again with motive 04 (POST /pos/api/invoices/{id}/cancel) once the \
                 cause is fixed"
            )
        );
        r.sales.push((b, "MTY-01-000009".into()));
        r.why = Some("SAT does not allow cancelling this invoice".into());
        let text = r.reason();
        assert!(
            text.contains(&format!(
                "the sales MTY-01-000007 ({a}), MTY-01-000009 ({b}) are now in both"
            )),
            "{text}"
        );
        assert!(
            text.ends_with(". Facturapi said: SAT does not allow cancelling this invoice"),
            "{text}"
        );
    }

    fn pay(method: &str, cents: i64) -> payment::Model {
        payment::Model {
            id: 0,
            sale_id: Uuid::nil(),
            method: method.into(),
            currency: "MXN".into(),
            amount_minor: cents,
            amount_mxn_cents: cents,
            exchange_rate_micros: 1_000_000,
            reference: None,
            created_at: crate::now(),
        }
    }

    #[test]
    fn the_payment_form_is_that_of_the_largest_amount_or_cash() {
        assert_eq!(payment_form(&[]), "01");
        assert_eq!(payment_form(&[pay("credit", 10_000)]), "01");
        assert_eq!(
            payment_form(&[pay("cash", 300), pay("card", 500), pay("cash", 300)]),
            "01"
        );
        assert_eq!(payment_form(&[pay("cash", 300), pay("card", 700)]), "04");
        assert_eq!(
            payment_form(&[pay("transfer", 5), pay("usd_cash", 4)]),
            "03"
        );
    }
}
