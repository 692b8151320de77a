//! Fleets: a fleet profile on a customer with its cost centres, drivers and units (the
//! customer's registered vehicles) ([`profiles`]); odometer readings that only go up unless a
//! manager records a rollover or a correction, also from receptions and counter sales
//! ([`readings`]); maintenance plans per vehicle or per make and model, whichever of km and
//! months comes first, with each vehicle's state and urgency ([`plans`]); the daily
//! `maintenance_due` and `contract_expiring` events ([`due`]); cost logs and the stats on them
//! ([`logs`]); and contracts with their end dates ([`contracts`]). The arithmetic is in
//! [`crate::rules::maintenance`].

pub mod contracts;
pub mod due;
pub mod logs;
pub mod plans;
pub mod profiles;
pub mod readings;
pub mod stats;
pub mod tables;

use crate::org::seller::Seller;
use crate::{Error, Result};

/// Refuses roles below manager for `what`.
pub(crate) fn require_manager(seller: &Seller, what: &str) -> Result<()> {
    if seller.role.is_manager() {
        Ok(())
    } else {
        Err(Error::Forbidden {
            code: "forbidden",
            message: format!("{what} is for managers; you are {}", seller.role),
        })
    }
}

/// A day no earlier than 2000 and no later than tomorrow (a reading or a cost is never in the
/// future; tomorrow allows for a clock a few hours ahead).
pub(crate) fn past_day(field: &str, d: chrono::NaiveDate) -> Result<chrono::NaiveDate> {
    let min = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(chrono::NaiveDate::MIN);
    if d < min || d > crate::today() + chrono::Duration::days(1) {
        return Err(Error::validation(
            field,
            format!("{field} is a day from 2000 to today"),
        ));
    }
    Ok(d)
}
