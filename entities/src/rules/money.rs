//! Money: exact amounts in minor units, the one rounding rule, exchange rates and the arithmetic
//! of a document line.
//!
//! Amounts are `i64` centavos in code and in storage (exact on both backends; see DESIGN.md §3).
//! In JSON they are decimal strings with two places (`"1234.50"`), so no client reads them as a
//! float. Every rounding goes through [`round_cents`]: half away from zero, never the bankers'
//! rounding of `Decimal::round_dp`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::{Error, Result};

/// The base currency: every accounting total is in it.
pub const MXN: &str = "MXN";
/// The one foreign currency accepted for prices and cash payments.
pub const USD: &str = "USD";
/// One unit of an exchange rate in [`Rate`] micros.
pub const RATE_ONE: i64 = 1_000_000;

/// Largest amount a single field may hold: 10 000 000 000.00 MXN (far beyond any ticket, far
/// below where `i64` arithmetic on lines could overflow).
pub const MAX_CENTS: i64 = 1_000_000_000_000;

/// A currency Nexus accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Currency {
    /// Mexican peso, the base.
    #[serde(rename = "MXN")]
    Mxn,
    /// US dollar, converted at the configured rate.
    #[serde(rename = "USD")]
    Usd,
}

impl Currency {
    /// The ISO code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Mxn => MXN,
            Self::Usd => USD,
        }
    }

    /// Parses an ISO code; anything but MXN and USD is refused.
    ///
    /// # Errors
    /// [`Error::Validation`] on `field`.
    pub fn parse(field: &str, code: &str) -> Result<Self> {
        match code.trim().to_ascii_uppercase().as_str() {
            MXN => Ok(Self::Mxn),
            USD => Ok(Self::Usd),
            other => Err(Error::validation(
                field,
                format!("unknown currency {other:?}: use MXN or USD"),
            )),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Rounds to whole centavos, half away from zero.
#[must_use]
pub fn round_cents(amount_in_cents: Decimal) -> Decimal {
    amount_in_cents.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount of money in minor units (centavos of MXN, cents of USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub i64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// The amount as a decimal of whole units (`12345` → `123.45`).
    #[must_use]
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Reads a decimal amount of whole units; more than two decimal places is refused rather than
    /// rounded, since a price a person typed must not change silently.
    ///
    /// # Errors
    /// [`Error::Validation`] on `field` for more than 2 decimals, a negative amount or one over
    /// [`MAX_CENTS`].
    pub fn from_decimal(field: &str, d: Decimal) -> Result<Self> {
        let d = d.normalize();
        if d.scale() > 2 {
            return Err(Error::validation(
                field,
                "an amount has at most 2 decimal places",
            ));
        }
        if d.is_sign_negative() && !d.is_zero() {
            return Err(Error::validation(field, "an amount cannot be negative"));
        }
        let cents = (d * Decimal::ONE_HUNDRED)
            .to_i64()
            .filter(|c| *c <= MAX_CENTS)
            .ok_or_else(|| Error::validation(field, "the amount is too large"))?;
        Ok(Self(cents))
    }

    /// Parses a decimal string of whole units (`"123.45"`).
    ///
    /// # Errors
    /// As [`Money::from_decimal`], and for text that is not a number.
    pub fn parse(field: &str, s: &str) -> Result<Self> {
        Self::from_decimal(field, decimal(field, s)?)
    }
}

/// The longest decimal a request may write, in characters.
pub const MAX_DECIMAL_LEN: usize = 24;

/// Reads a decimal number written plainly: digits, at most one point with digits on both sides,
/// at most [`MAX_DECIMAL_LEN`] characters; no sign, spaces, exponents or `_` (which
/// `Decimal::from_str` would take). Every decimal a request sends is read by this one rule, and
/// none is negative; the API document's patterns state it.
///
/// # Errors
/// [`Error::Validation`] on `field`.
pub fn decimal(field: &str, s: &str) -> Result<Decimal> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    let plain = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if s.len() > MAX_DECIMAL_LEN || !plain(whole) || !plain(frac) {
        return Err(Error::validation(
            field,
            format!("{s:?} is not a decimal number like \"12.50\""),
        ));
    }
    Decimal::from_str(s).map_err(|_| Error::validation(field, format!("{s:?} is out of range")))
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Money {
    /// The amount as people read it on a ticket or a page: thousands grouped with commas
    /// (`1,291.58`, `-12,000.00`). APIs keep the plain decimal string of `Display`.
    #[must_use]
    pub fn grouped(&self) -> String {
        let plain = self.to_string();
        let (sign, rest) = plain
            .strip_prefix('-')
            .map_or(("", plain.as_str()), |r| ("-", r));
        let (int, frac) = rest.split_once('.').unwrap_or((rest, "00"));
        let mut out = String::with_capacity(plain.len() + int.len() / 3);
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}.{frac}")
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An exchange rate: MXN per unit of a foreign currency, in millionths (`17.25` → `17_250_000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(pub i64);

impl Rate {
    /// The rate of MXN to itself.
    pub const ONE: Rate = Rate(RATE_ONE);

    /// The rate as a decimal (`17.250000`).
    #[must_use]
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 6).normalize()
    }

    /// Reads a decimal rate with at most six decimal places, between 0.000001 and 1000.
    ///
    /// # Errors
    /// [`Error::Validation`] on `field`.
    pub fn from_decimal(field: &str, d: Decimal) -> Result<Self> {
        let d = d.normalize();
        if d.scale() > 6 {
            return Err(Error::validation(
                field,
                "a rate has at most 6 decimal places",
            ));
        }
        let micros = (d * Decimal::from(RATE_ONE))
            .to_i64()
            .filter(|m| *m > 0 && *m <= 1000 * RATE_ONE)
            .ok_or_else(|| Error::validation(field, "a rate must be above 0 and at most 1000"))?;
        Ok(Self(micros))
    }

    /// Converts an amount in minor units of the foreign currency to MXN centavos, rounded.
    #[must_use]
    pub fn to_mxn(self, foreign_minor: i64) -> i64 {
        let exact = Decimal::from(foreign_minor) * Decimal::new(self.0, 6);
        round_cents(exact).to_i64().unwrap_or(i64::MAX)
    }

    /// Converts MXN centavos to minor units of the foreign currency, rounded (a refund paid in
    /// dollars at the sale's rate).
    #[must_use]
    pub fn from_mxn(self, mxn_cents: i64) -> i64 {
        let exact = Decimal::from(mxn_cents) / Decimal::new(self.0.max(1), 6);
        round_cents(exact).to_i64().unwrap_or(i64::MAX)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

impl serde::Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The rounded amounts of one document line, all in MXN centavos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct LineAmounts {
    /// Units × unit price, before the discount.
    pub gross: Money,
    /// The discount.
    pub discount: Money,
    /// Taxable base: total − IVA.
    pub base: Money,
    /// IVA: the line total's tax part, rounded once.
    pub tax: Money,
    /// What the customer pays for the line: gross − discount (IVA included).
    pub total: Money,
    /// At the reference retail price.
    pub retail: Money,
    /// retail − total, never below zero.
    pub savings: Money,
}

/// Computes a line from its IVA-included unit price (centavos), quantity, discount in basis
/// points of the gross, IVA rate in basis points and reference retail unit price.
///
/// Shelf prices in Mexico include IVA, so the total is what the shelf says and the tax is taken
/// out of it: `tax = round(total × rate / (1 + rate))`, `base = total − tax`. Each line is rounded
/// once; a document's totals are sums of its lines, never recomputed from a subtotal.
///
/// # Errors
/// [`Error::Validation`] naming `field` for a quantity below 1, a discount over 100 % or an
/// amount past [`MAX_CENTS`].
pub fn line_amounts(
    field: &str,
    unit_price_cents: i64,
    qty: i64,
    discount_bp: i32,
    iva_rate_bp: i32,
    retail_unit_cents: i64,
) -> Result<LineAmounts> {
    crate::rules::quantity::units(format!("{field}.qty"), qty)?;
    if !(0..=10_000).contains(&discount_bp) {
        return Err(Error::validation(
            format!("{field}.discount"),
            "a discount is between 0 and 100 %",
        ));
    }
    let gross = unit_price_cents
        .checked_mul(qty)
        .filter(|g| (0..=MAX_CENTS).contains(g))
        .ok_or_else(|| Error::validation(format!("{field}.qty"), "the line amount is too large"))?;
    let discount = round_cents(Decimal::from(gross) * Decimal::new(i64::from(discount_bp), 4))
        .to_i64()
        .unwrap_or(0);
    let total = gross - discount;
    let rate = Decimal::new(i64::from(iva_rate_bp), 4);
    let tax = round_cents(Decimal::from(total) * rate / (Decimal::ONE + rate))
        .to_i64()
        .unwrap_or(0);
    let retail = retail_unit_cents.saturating_mul(qty).min(MAX_CENTS);
    Ok(LineAmounts {
        gross: Money(gross),
        discount: Money(discount),
        base: Money(total - tax),
        tax: Money(tax),
        total: Money(total),
        retail: Money(retail),
        savings: Money((retail - total).max(0)),
    })
}

/// The rounded amounts of a purchase line, in the order's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PurchaseAmounts {
    /// Units × unit cost: the taxable base.
    pub subtotal: Money,
    /// IVA on the base, rounded once for the line.
    pub tax: Money,
    /// Base + IVA.
    pub total: Money,
}

/// Computes a purchase line from its unit cost before IVA (as suppliers quote and as a CFDI's
/// `ValorUnitario` states it), quantity and IVA rate in basis points: `tax = round(base × rate)`,
/// each line rounded once; a document's totals are sums of its lines, as on the sales side.
///
/// # Errors
/// [`Error::Validation`] naming `field` for a quantity below 1 or an amount past [`MAX_CENTS`].
pub fn purchase_line(
    field: &str,
    unit_cost_cents: i64,
    qty: i64,
    iva_rate_bp: i32,
) -> Result<PurchaseAmounts> {
    crate::rules::quantity::units(format!("{field}.qty"), qty)?;
    let base = unit_cost_cents
        .checked_mul(qty)
        .filter(|g| (0..=MAX_CENTS).contains(g))
        .ok_or_else(|| Error::validation(format!("{field}.qty"), "the line amount is too large"))?;
    let tax = round_cents(Decimal::from(base) * Decimal::new(i64::from(iva_rate_bp), 4))
        .to_i64()
        .unwrap_or(0);
    Ok(PurchaseAmounts {
        subtotal: Money(base),
        tax: Money(tax),
        total: Money(base + tax),
    })
}

/// Sums of a document's rounded lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Totals {
    /// Sum of bases.
    pub subtotal: Money,
    /// Sum of discounts.
    pub discount: Money,
    /// Sum of IVA.
    pub tax: Money,
    /// Sum of totals.
    pub total: Money,
    /// Sum at reference retail prices.
    pub retail: Money,
    /// Sum of savings.
    pub savings: Money,
}

impl Totals {
    /// Adds a line.
    pub fn add(&mut self, l: &LineAmounts) {
        self.subtotal.0 += l.base.0;
        self.discount.0 += l.discount.0;
        self.tax.0 += l.tax.0;
        self.total.0 += l.total.0;
        self.retail.0 += l.retail.0;
        self.savings.0 += l.savings.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_amounts_put_a_comma_every_three_digits() {
        assert_eq!(Money(129_158).grouped(), "1,291.58");
        assert_eq!(Money(5).grouped(), "0.05");
        assert_eq!(Money(99_999).grouped(), "999.99");
        assert_eq!(Money(100_000_000).grouped(), "1,000,000.00");
        assert_eq!(Money(-1_200_000).grouped(), "-12,000.00");
    }

    #[test]
    fn rounding_is_half_away_from_zero_not_bankers() {
        assert_eq!(round_cents(Decimal::new(65, 1)), Decimal::from(7));
        assert_eq!(round_cents(Decimal::new(75, 1)), Decimal::from(8));
        assert_eq!(round_cents(Decimal::new(-65, 1)), Decimal::from(-7));
    }

    #[test]
    fn money_prints_and_parses_two_decimals() {
        assert_eq!(Money(123_450).to_string(), "1234.50");
        assert_eq!(Money(5).to_string(), "0.05");
        assert_eq!(Money::parse("p", "1234.5").unwrap(), Money(123_450));
        assert!(Money::parse("p", "1.005").is_err());
        assert!(Money::parse("p", "-1").is_err());
        assert!(Money::parse("p", "abc").is_err());
    }

    #[test]
    fn a_line_takes_iva_out_of_the_shelf_price() {
        // 3 × 116.00 at 16 %: total 348.00, IVA 48.00, base 300.00.
        let l = line_amounts("l", 11_600, 3, 0, 1600, 15_000).unwrap();
        assert_eq!(l.total, Money(34_800));
        assert_eq!(l.tax, Money(4_800));
        assert_eq!(l.base, Money(30_000));
        assert_eq!(l.savings, Money(45_000 - 34_800));
        // 10 % off 99.99: discount 10.00 (9.999 rounds up), total 89.99.
        let l = line_amounts("l", 9_999, 1, 1000, 800, 0).unwrap();
        assert_eq!(l.discount, Money(1_000));
        assert_eq!(l.total, Money(8_999));
        assert_eq!(l.base.0 + l.tax.0, l.total.0);
        assert_eq!(l.savings, Money(0));
    }

    #[test]
    fn bad_lines_are_refused() {
        assert!(line_amounts("l", 100, 0, 0, 1600, 0).is_err());
        assert!(line_amounts("l", 100, -2, 0, 1600, 0).is_err());
        assert!(line_amounts("l", 100, 1, 10_001, 1600, 0).is_err());
        assert!(line_amounts("l", MAX_CENTS, 2, 0, 1600, 0).is_err());
    }

    #[test]
    fn a_purchase_line_adds_iva_to_the_cost_rounded_once() {
        // 7 × 33.33 = 233.31; 16 % = 37.3296 → 37.33.
        let l = purchase_line("l", 3_333, 7, 1600).unwrap();
        assert_eq!(
            (l.subtotal, l.tax, l.total),
            (Money(23_331), Money(3_733), Money(27_064))
        );
        // 8 % border rate: 3 × 0.05 = 0.15; 0.012 → 0.01.
        let l = purchase_line("l", 5, 3, 800).unwrap();
        assert_eq!(
            (l.subtotal, l.tax, l.total),
            (Money(15), Money(1), Money(16))
        );
        assert!(purchase_line("l", 100, 0, 1600).is_err());
        assert!(purchase_line("l", MAX_CENTS, 2, 1600).is_err());
    }

    #[test]
    fn a_usd_amount_converts_at_the_rate_rounded_once() {
        let r = Rate::from_decimal("rate", Decimal::new(172_345, 4)).unwrap();
        assert_eq!(r, Rate(17_234_500));
        // 10.01 USD × 17.2345 = 172.517345 → 172.52
        assert_eq!(r.to_mxn(1001), 17_252);
        assert!(Rate::from_decimal("rate", Decimal::ZERO).is_err());
        assert!(Rate::from_decimal("rate", Decimal::new(1, 7)).is_err());
    }
}
