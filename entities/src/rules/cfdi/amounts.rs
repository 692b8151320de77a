//! The amounts of a CFDI built from an IVA-included ticket: concepts, taxes and totals, rounded per line.

use super::*;

/// One line of a ticket, as sold: IVA-included unit price, units, discount in centavos
/// (IVA included, as `sale_lines.discount_cents`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketLine {
    /// Units (at least 1).
    pub qty: i64,
    /// Unit price with IVA, centavos.
    pub unit_price_cents: i64,
    /// Discount on the line with IVA, centavos.
    pub discount_cents: i64,
    /// IVA treatment.
    pub tax: LineTax,
}

/// The IVA transfer of a CFDI concept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ConceptTax {
    /// Base (Importe − Descuento of the concept).
    pub base: Money,
    /// Tasa or Exento.
    pub factor: TaxFactor,
    /// TasaOCuota with 6 decimals (`0.160000`); `None` when exempt.
    pub rate: Option<Decimal>,
    /// Importe of the transfer; `None` when exempt.
    pub amount: Option<Money>,
}

/// The amounts of one CFDI concept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ConceptAmounts {
    /// Cantidad.
    pub quantity: i64,
    /// ValorUnitario: unit price without IVA and before the discount, 6 decimals.
    pub unit_value: Decimal,
    /// Importe: the concept's amount without IVA, before the discount.
    pub amount: Money,
    /// Descuento without IVA.
    pub discount: Money,
    /// The IVA transfer.
    pub tax: ConceptTax,
    /// What the ticket charged for the line (base + IVA).
    pub ticket_total: Money,
}

/// Per-rate summary of the document's transfers (Impuestos/Traslados).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TaxSummary {
    /// Tasa or Exento.
    pub factor: TaxFactor,
    /// The rate; `None` when exempt.
    pub rate: Option<Decimal>,
    /// Sum of the concepts' bases.
    pub base: Money,
    /// Sum of the concepts' amounts; `None` when exempt.
    pub amount: Option<Money>,
}

/// A CFDI's amounts: concepts, and totals that are sums of the rounded concepts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CfdiAmounts {
    /// One per ticket line, in order.
    pub concepts: Vec<ConceptAmounts>,
    /// SubTotal: Σ Importe.
    pub subtotal: Money,
    /// Descuento: Σ Descuento.
    pub discount: Money,
    /// TotalImpuestosTrasladados: Σ transfer amounts.
    pub total_taxes: Money,
    /// Traslados grouped by factor and rate.
    pub taxes: Vec<TaxSummary>,
    /// Total = SubTotal − Descuento + TotalImpuestosTrasladados; equals the ticket's total.
    pub total: Money,
}

impl ConceptAmounts {
    /// The IVA a PAC gets if it recomputes `round(Base × rate)` from the base rather than taking
    /// ours; `None` when exempt. It differs from [`ConceptTax::amount`] by one centavo on about
    /// 14 % of random 16 % lines (7 % at 8 %), both values being within SAT's bounds: when it
    /// differs, the stamped total would be one centavo off the ticket's: why lines are sent at
    /// an IVA-included price ([`included_price`]) rather than as this base.
    #[must_use]
    pub fn tax_recomputed_on_base(&self) -> Option<Money> {
        let rate = self.tax.rate?;
        round_cents(Decimal::from(self.tax.base.0) * rate)
            .to_i64()
            .map(Money)
    }
}

pub(super) fn dec_to_cents(field: &str, d: Decimal) -> Result<i64, CfdiError> {
    d.to_i64()
        .filter(|c| (0..=MAX_CENTS).contains(c))
        .ok_or_else(|| CfdiError::amount(field, "the amount is out of range"))
}

/// Computes a CFDI concept from a ticket line, the ticket being authoritative: the CFDI total
/// of the line is exactly what the customer paid.
///
/// `total = qty × price − discount` (IVA included); `tax = round(total × r/(1+r))` half away
/// from zero, the same formula as [`crate::rules::money::line_amounts`]; `base = total − tax`;
/// `Descuento = round(discount / (1+r))`; `Importe = base + Descuento`;
/// `ValorUnitario = Importe / qty` at 6 decimals. The tax so obtained lies within SAT's bounds
/// for that base ([`sat_tax_bounds`]): it differs from `base × r` by at most
/// `0.005 × (1+r)` < 1 centavo, and the bounds are that value widened to whole centavos.
///
/// # Errors
/// [`CfdiError::Amount`] on `items[i]…` for a quantity below 1, a negative price or discount,
/// a discount above the gross, a line that charges nothing (SAT needs a positive base), or an
/// amount beyond [`MAX_CENTS`].
pub fn concept_amounts(index: usize, line: &TicketLine) -> Result<ConceptAmounts, CfdiError> {
    let f = |s: &str| format!("items[{index}].{s}");
    if line.qty < 1 {
        return Err(CfdiError::amount(
            f("quantity"),
            "quantity must be at least 1",
        ));
    }
    if line.unit_price_cents < 0 {
        return Err(CfdiError::amount(
            f("product.price"),
            "a price cannot be negative",
        ));
    }
    if line.discount_cents < 0 {
        return Err(CfdiError::amount(
            f("discount"),
            "a discount cannot be negative",
        ));
    }
    let gross = line
        .unit_price_cents
        .checked_mul(line.qty)
        .filter(|g| *g <= MAX_CENTS)
        .ok_or_else(|| CfdiError::amount(f("quantity"), "the line amount is too large"))?;
    if line.discount_cents > gross {
        return Err(CfdiError::amount(
            f("discount"),
            "the discount exceeds the line amount",
        ));
    }
    let total = gross - line.discount_cents;
    if total == 0 {
        return Err(CfdiError::amount(
            f("total"),
            "a line that charges nothing cannot be invoiced: SAT needs a positive base",
        ));
    }
    let r = line.tax.rate();
    let tax = dec_to_cents(
        &f("taxes"),
        round_cents(Decimal::from(total) * r / (Decimal::ONE + r)),
    )?;
    let base = total - tax;
    let discount = dec_to_cents(
        &f("discount"),
        round_cents(Decimal::from(line.discount_cents) / (Decimal::ONE + r)),
    )?;
    let amount = base + discount;
    let unit_value = (Decimal::new(amount, 2) / Decimal::from(line.qty))
        .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero);
    let concept_tax = match line.tax {
        LineTax::Iva { .. } => ConceptTax {
            base: Money(base),
            factor: TaxFactor::Tasa,
            rate: Some(r.round_dp(6)),
            amount: Some(Money(tax)),
        },
        LineTax::Exempt => ConceptTax {
            base: Money(base),
            factor: TaxFactor::Exento,
            rate: None,
            amount: None,
        },
    };
    Ok(ConceptAmounts {
        quantity: line.qty,
        unit_value,
        amount: Money(amount),
        discount: Money(discount),
        tax: concept_tax,
        ticket_total: Money(total),
    })
}

/// Computes every concept of a ticket and the document totals as sums of the concepts
/// (reliability.md §5: never recomputed on the subtotal).
///
/// # Errors
/// As [`concept_amounts`]; [`CfdiError::Invalid`] on `items` for an empty ticket or more than
/// 5 000 lines (Facturapi's limit per invoice, domain.md §1.3).
pub fn cfdi_amounts(lines: &[TicketLine]) -> Result<CfdiAmounts, CfdiError> {
    if lines.is_empty() {
        return Err(CfdiError::invalid(
            "items",
            "an invoice has at least one line",
        ));
    }
    if lines.len() > 5_000 {
        return Err(CfdiError::invalid(
            "items",
            "an invoice has at most 5,000 lines",
        ));
    }
    let concepts = lines
        .iter()
        .enumerate()
        .map(|(i, l)| concept_amounts(i, l))
        .collect::<Result<Vec<_>, _>>()?;
    let mut subtotal = 0i64;
    let mut discount = 0i64;
    let mut total_taxes = 0i64;
    let mut taxes: Vec<TaxSummary> = Vec::new();
    for c in &concepts {
        subtotal += c.amount.0;
        discount += c.discount.0;
        total_taxes += c.tax.amount.map_or(0, |m| m.0);
        match taxes
            .iter_mut()
            .find(|t| t.factor == c.tax.factor && t.rate == c.tax.rate)
        {
            Some(t) => {
                t.base.0 += c.tax.base.0;
                if let (Some(a), Some(m)) = (t.amount.as_mut(), c.tax.amount) {
                    a.0 += m.0;
                }
            }
            None => taxes.push(TaxSummary {
                factor: c.tax.factor,
                rate: c.tax.rate,
                base: c.tax.base,
                amount: c.tax.amount,
            }),
        }
    }
    Ok(CfdiAmounts {
        concepts,
        subtotal: Money(subtotal),
        discount: Money(discount),
        total_taxes: Money(total_taxes),
        taxes,
        total: Money(subtotal - discount + total_taxes),
    })
}

pub(super) fn half_unit(decimals: u32) -> Decimal {
    Decimal::new(5, decimals + 1)
}

/// SAT's accepted range for a transfer's `Importe` given its `Base` (with `base_decimals`
/// decimals as written in the XML) and its rate, for MXN (2 decimals):
///
/// ```text
/// lower = trunc2((Base − 10^−d / 2) × TasaOCuota)
/// upper = ceil2((Base + 10^−d / 2 − 10^−12) × TasaOCuota)
/// ```
///
/// Formula of the Anexo 20 "Guía de llenado" for Traslado@Importe as reliability.md §5 describes
/// it ("half a unit of the last decimal of Base, times the rate; lower truncated, upper rounded
/// up") with the 10^−12 of the guide's upper limit. The primary SAT PDF could not be retrieved
/// here (neither the pages nor the code corpus hold it): verify against it before going live.
#[must_use]
pub fn sat_tax_bounds(base: Decimal, base_decimals: u32, rate: Decimal) -> (Decimal, Decimal) {
    let h = half_unit(base_decimals);
    let lower = ((base - h) * rate).round_dp_with_strategy(2, RoundingStrategy::ToZero);
    let upper = ((base + h - Decimal::new(1, 12)) * rate)
        .round_dp_with_strategy(2, RoundingStrategy::AwayFromZero);
    (lower, upper)
}

/// SAT's accepted range for a concept's `Importe` = Cantidad × ValorUnitario, each known to
/// the precision it is written with (same guide and caveat as [`sat_tax_bounds`]):
///
/// ```text
/// lower = trunc2((Cantidad − 10^−dq/2) × (ValorUnitario − 10^−dv/2))
/// upper = ceil2((Cantidad + 10^−dq/2 − 10^−12) × (ValorUnitario + 10^−dv/2 − 10^−12))
/// ```
#[must_use]
pub fn sat_amount_bounds(
    quantity: Decimal,
    quantity_decimals: u32,
    unit_value: Decimal,
    unit_value_decimals: u32,
) -> (Decimal, Decimal) {
    let hq = half_unit(quantity_decimals);
    let hv = half_unit(unit_value_decimals);
    let eps = Decimal::new(1, 12);
    let lower =
        ((quantity - hq) * (unit_value - hv)).round_dp_with_strategy(2, RoundingStrategy::ToZero);
    let upper = ((quantity + hq - eps) * (unit_value + hv - eps))
        .round_dp_with_strategy(2, RoundingStrategy::AwayFromZero);
    (lower, upper)
}

/// How one ticket line is sent to Facturapi: a quantity and an IVA-included unit price
/// (`tax_included: true`), with no separate discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncludedPrice {
    /// Cantidad sent.
    pub quantity: i64,
    /// The net unit price with IVA, 6 decimals.
    pub price: Decimal,
}

impl IncludedPrice {
    /// What Facturapi charges for the line: `round(quantity × price)` in centavos.
    #[must_use]
    pub fn line_total_cents(&self) -> i64 {
        round_cents(self.price * Decimal::from(self.quantity) * Decimal::ONE_HUNDRED)
            .to_i64()
            .unwrap_or(i64::MAX)
    }
}

/// The IVA-included unit price that charges exactly `line_total_cents` for `quantity` units:
/// `round6(total / quantity)`, the discount already taken off.
///
/// Why IVA-included, with the discount folded in: Facturapi computes the IVA itself from what
/// it is sent (no request field carries our IVA amount), and how it rounds a tax-excluded base
/// is not documented. Sent IVA-excluded, a line's stamped total is `base + round(base × rate)`,
/// which cannot equal about one ticket total in seven (0.91 + 0.15 for a 1.05 ticket whose IVA is
/// 0.14), so the stamped total would drift from what the customer paid. An IVA-included price is
/// the amount itself: `quantity × price` rounds back to the line's total whenever the six decimals
/// carry it (`quantity × 0.0000005 < 0.005`, i.e. below 10,000 units), and Facturapi breaks
/// the IVA out of it at six decimals. Folding the discount in avoids relying on how Facturapi
/// reads a discount next to an IVA-included price, which its documentation leaves open. A
/// quantity that the six decimals cannot carry is sent as one unit of the whole line.
#[must_use]
pub fn included_price(quantity: i64, line_total_cents: i64) -> IncludedPrice {
    let exact = |quantity: i64| IncludedPrice {
        quantity,
        price: (Decimal::new(line_total_cents, 2) / Decimal::from(quantity))
            .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero),
    };
    let p = exact(quantity.max(1));
    if p.line_total_cents() == line_total_cents {
        p
    } else {
        exact(1)
    }
}
