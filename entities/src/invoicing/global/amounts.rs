//! The amounts of a global invoice, pure: each ticket net of its returns as concepts per IVA treatment, split into invoices of at most 5,000 concepts.

use super::*;

/// A ticket's share of a global invoice: its net amount (IVA included, after returns) per IVA
/// treatment present in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetSale {
    /// The sale.
    pub sale_id: Uuid,
    /// Its folio: the concepts' identification (NoIdentificacion).
    pub folio: String,
    /// Net centavos per IVA treatment, each above zero, 16 % before 8 % before exempt.
    pub parts: Vec<(LineTax, i64)>,
}

impl NetSale {
    /// The ticket's net total.
    #[must_use]
    pub fn total(&self) -> i64 {
        self.parts.iter().map(|(_, c)| c).sum()
    }
}

pub(super) fn tax_order(t: LineTax) -> i64 {
    match t {
        LineTax::Iva { rate_bp } => -i64::from(rate_bp),
        LineTax::Exempt => i64::MAX,
    }
}

/// The net parts of a ticket from `(treatment, net centavos)` of its lines: summed per
/// treatment, zero parts dropped (a fully returned rate is no concept).
#[must_use]
pub fn net_parts(lines: impl IntoIterator<Item = (LineTax, i64)>) -> Vec<(LineTax, i64)> {
    let mut parts: Vec<(LineTax, i64)> = Vec::new();
    for (t, c) in lines {
        match parts.iter_mut().find(|(pt, _)| *pt == t) {
            Some((_, sum)) => *sum += c,
            None => parts.push((t, c)),
        }
    }
    parts.retain(|(_, c)| *c > 0);
    parts.sort_by_key(|(t, _)| tax_order(*t));
    parts
}

/// Splits tickets into invoices of at most `max_concepts` concepts, a ticket's concepts never
/// parted.
#[must_use]
pub fn split(sales: Vec<NetSale>, max_concepts: usize) -> Vec<Vec<NetSale>> {
    let mut out: Vec<Vec<NetSale>> = Vec::new();
    let mut n = 0;
    for s in sales {
        if out.is_empty() || n + s.parts.len() > max_concepts {
            out.push(Vec::new());
            n = 0;
        }
        n += s.parts.len();
        if let Some(last) = out.last_mut() {
            last.push(s);
        }
    }
    out
}

/// The CFDI amounts of a global invoice: one concept per ticket and treatment, computed like a
/// ticket line of one unit at the net amount (so its IVA is within SAT's bounds), and totals
/// that are sums of the concepts. The total is the tickets' net total to the centavo.
///
/// # Errors
/// [`Error::Validation`] from [`cfdi::cfdi_amounts`] (no concept, more than 5 000), or
/// [`Error::Internal`] if the total strayed from the tickets' (a bug).
pub fn amounts(sales: &[NetSale]) -> Result<CfdiAmounts> {
    let lines: Vec<TicketLine> = sales
        .iter()
        .flat_map(|s| {
            s.parts.iter().map(|(tax, cents)| TicketLine {
                qty: 1,
                unit_price_cents: *cents,
                discount_cents: 0,
                tax: *tax,
            })
        })
        .collect();
    let a = cfdi::cfdi_amounts(&lines)?;
    let expected: i64 = sales.iter().map(NetSale::total).sum();
    if a.total.0 != expected {
        return Err(Error::Internal(format!(
            "global invoice total {} differs from the tickets' {}",
            a.total,
            Money(expected)
        )));
    }
    Ok(a)
}

pub(super) fn taxes_json(t: LineTax) -> serde_json::Value {
    match t {
        LineTax::Iva { .. } => {
            // TasaOCuota is written with 6 decimals.
            let mut rate = t.rate();
            rate.rescale(6);
            json!([{"type": "IVA", "rate": rate}])
        }
        LineTax::Exempt => json!([{"type": "IVA", "rate": 0, "factor": "Exento"}]),
    }
}

/// The Facturapi items of a global invoice. Each price is the ticket's IVA-included net amount
/// with `tax_included`, so the stamped total is the tickets' total to the centavo whichever way
/// the PAC breaks the IVA out (reliability.md §5: the ticket is authoritative).
#[must_use]
pub fn items_json(sales: &[NetSale]) -> Vec<serde_json::Value> {
    sales
        .iter()
        .flat_map(|s| {
            s.parts.iter().map(|(tax, cents)| {
                json!({
                    "quantity": 1,
                    "product": {
                        "description": DESCRIPTION,
                        "product_key": PRODUCT_KEY,
                        "unit_key": UNIT_KEY,
                        "unit_name": "Actividad",
                        "price": Money(*cents).to_decimal(),
                        "tax_included": true,
                        "taxes": taxes_json(*tax),
                        "sku": s.folio,
                    }
                })
            })
        })
        .collect()
}

/// c_FormaPago of a set of payments: the form of the largest amount (by form), `01` when none
/// counts. A credit sale's "payment" is no form of payment.
#[must_use]
pub fn payment_form(payments: &[payment::Model]) -> &'static str {
    let mut by_form: Vec<(&'static str, i64)> = Vec::new();
    for p in payments {
        let form = match p.method.as_str() {
            "card" => "04",
            "transfer" => "03",
            "cash" | "usd_cash" => "01",
            _ => continue,
        };
        match by_form.iter_mut().find(|(f, _)| *f == form) {
            Some((_, a)) => *a += p.amount_mxn_cents,
            None => by_form.push((form, p.amount_mxn_cents)),
        }
    }
    by_form
        .iter()
        // Ties go to the lower key, so the answer does not depend on the order of payments.
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map_or("01", |(f, _)| f)
}
