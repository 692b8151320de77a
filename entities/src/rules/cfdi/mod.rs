//! CFDI 4.0: local validation before any call to the PAC, the amounts of a CFDI built from an
//! IVA-included ticket, and the signature of Facturapi's webhooks.
//!
//! Everything here is pure: no database, no HTTP. A failed check is a [`CfdiError`] naming the
//! request field (`customer.tax_id`, `items[3].product.product_key`…) so the API can answer 422
//! pointing at it, and no job is created for a request that SAT would reject anyway.
//!
//! Sources: `reference/domain.md` §1.3–§1.12 (Facturapi fields, SAT catalogs, RFC) and
//! `reference/reliability.md` §5 (rounding per line, totals as sums of lines).

use std::fmt;

use hmac::{Hmac, Mac};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use sha2::Sha256;

use crate::rules::money::{MAX_CENTS, Money, round_cents};
use crate::rules::rfc::{GENERIC_RFCS, Rfc};

mod amounts;
mod catalogs;
mod receiver;
mod webhooks;

pub use amounts::*;
pub use catalogs::*;
pub use receiver::*;
pub use webhooks::*;

/// Why a CFDI request cannot be sent; every variant names the field at fault, in the path
/// syntax Facturapi uses (`items[2].product.product_key`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfdiError {
    /// The value of one field is malformed or not in its SAT catalog.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field, e.g. `customer.tax_id`.
        field: String,
        /// What is wrong, for a person.
        message: String,
    },
    /// The field is valid on its own but contradicts another one (a use the regime does not
    /// allow, PPD without forma de pago 99…).
    #[error("{field}: {message}")]
    Incompatible {
        /// The request field, e.g. `use`.
        field: String,
        /// What it contradicts, for a person.
        message: String,
    },
    /// An amount is zero where SAT needs it positive, or too large to be real.
    #[error("{field}: {message}")]
    Amount {
        /// The request field, e.g. `items[0].total`.
        field: String,
        /// What is wrong, for a person.
        message: String,
    },
}

impl CfdiError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    fn incompatible(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Incompatible {
            field: field.into(),
            message: message.into(),
        }
    }

    fn amount(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Amount {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The request field at fault.
    #[must_use]
    pub fn field(&self) -> &str {
        match self {
            Self::Invalid { field, .. }
            | Self::Incompatible { field, .. }
            | Self::Amount { field, .. } => field,
        }
    }
}

impl From<CfdiError> for crate::Error {
    fn from(e: CfdiError) -> Self {
        match e {
            CfdiError::Invalid { field, message }
            | CfdiError::Incompatible { field, message }
            | CfdiError::Amount { field, message } => Self::Validation { field, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::rules::money::line_amounts;

    fn receiver<'a>(
        tax_id: &'a str,
        name: &'a str,
        regime: &'a str,
        use_: &'a str,
    ) -> ReceiverInput<'a> {
        ReceiverInput {
            tax_id,
            legal_name: name,
            tax_system: regime,
            zip: "86500",
            cfdi_use: use_,
        }
    }

    #[test]
    fn a_company_with_a_business_regime_and_use_is_accepted() {
        let r = validate_receiver(
            &receiver("EKU9003173C9", "Escuela Kemper Urgate", "601", "G03"),
            "64000",
        )
        .unwrap();
        assert_eq!(r.rfc.kind, TaxpayerKind::Company);
        assert_eq!(r.legal_name, "ESCUELA KEMPER URGATE");
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn a_person_with_resico_buying_merchandise_is_accepted() {
        let r = validate_receiver(
            &receiver("CACX7605101P8", "Xochilt Casas Chavez", "626", "G01"),
            "64000",
        )
        .unwrap();
        assert_eq!(r.rfc.kind, TaxpayerKind::Person);
    }

    #[test]
    fn a_wrong_check_digit_is_a_warning_and_the_receiver_still_passes() {
        let r = validate_receiver(
            &receiver("EKU9003173C8", "Escuela Kemper Urgate", "601", "G03"),
            "64000",
        )
        .unwrap();
        assert!(r.rfc.check_digit_warning);
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn a_malformed_rfc_names_customer_tax_id() {
        let e = validate_receiver(&receiver("EKU90031", "X", "601", "G03"), "64000").unwrap_err();
        assert_eq!(e.field(), "customer.tax_id");
    }

    #[test]
    fn a_company_cannot_take_a_persons_regime_nor_a_person_a_companys() {
        let e = validate_receiver(
            &receiver("EKU9003173C9", "Escuela Kemper Urgate", "612", "G03"),
            "64000",
        )
        .unwrap_err();
        assert_eq!(e.field(), "customer.tax_system");
        let e = validate_receiver(
            &receiver("CACX7605101P8", "Xochilt Casas Chavez", "601", "G03"),
            "64000",
        )
        .unwrap_err();
        assert_eq!(e.field(), "customer.tax_system");
    }

    #[test]
    fn a_use_the_regime_does_not_allow_names_use() {
        // Personal deductions (D01) are not for a company's general regime.
        let e = validate_receiver(
            &receiver("EKU9003173C9", "Escuela Kemper Urgate", "601", "D01"),
            "64000",
        )
        .unwrap_err();
        assert_eq!(e.field(), "use");
        // A wage earner (605) cannot deduct general expenses (G03).
        let e = validate_receiver(
            &receiver("CACX7605101P8", "Xochilt Casas Chavez", "605", "G03"),
            "64000",
        )
        .unwrap_err();
        assert_eq!(e.field(), "use");
        assert!(
            validate_receiver(
                &receiver("CACX7605101P8", "Xochilt Casas Chavez", "605", "S01"),
                "64000"
            )
            .is_ok()
        );
    }

    #[test]
    fn an_unknown_regime_use_or_a_bad_zip_is_named() {
        let e = validate_receiver(&receiver("EKU9003173C9", "Escuela", "699", "G03"), "64000")
            .unwrap_err();
        assert_eq!(e.field(), "customer.tax_system");
        let e = validate_receiver(&receiver("EKU9003173C9", "Escuela", "601", "G99"), "64000")
            .unwrap_err();
        assert_eq!(e.field(), "use");
        let mut r = receiver("EKU9003173C9", "Escuela", "601", "G03");
        r.zip = "8650";
        assert_eq!(
            validate_receiver(&r, "64000").unwrap_err().field(),
            "customer.address.zip"
        );
    }

    #[test]
    fn a_name_with_the_corporate_regime_suffix_is_refused() {
        let e = validate_receiver(
            &receiver(
                "EKU9003173C9",
                "Refaccionaria del Norte, S.A. de C.V.",
                "601",
                "G03",
            ),
            "64000",
        )
        .unwrap_err();
        assert_eq!(e.field(), "customer.legal_name");
        assert!(e.to_string().contains("SA DE CV"));
    }

    #[test]
    fn the_general_public_takes_616_s01_its_name_and_the_expedition_zip() {
        let mut r = receiver(RFC_GENERAL_PUBLIC, "publico en general", "616", "S01");
        r.zip = "64000";
        let v = validate_receiver(&r, "64000").unwrap();
        assert!(v.rfc.generic);
        assert!(!v.rfc.check_digit_warning);
        r.zip = "86500";
        assert_eq!(
            validate_receiver(&r, "64000").unwrap_err().field(),
            "customer.address.zip"
        );
        r.zip = "64000";
        r.tax_system = "601";
        assert_eq!(
            validate_receiver(&r, "64000").unwrap_err().field(),
            "customer.tax_system"
        );
        r.tax_system = "616";
        r.cfdi_use = "G03";
        assert_eq!(validate_receiver(&r, "64000").unwrap_err().field(), "use");
        r.cfdi_use = "S01";
        r.legal_name = "Juan Perez";
        assert_eq!(
            validate_receiver(&r, "64000").unwrap_err().field(),
            "customer.legal_name"
        );
    }

    #[test]
    fn a_foreign_receiver_is_whitelisted_with_its_own_name() {
        let mut r = receiver(RFC_FOREIGN, "Acme Parts Inc", "616", "S01");
        r.zip = "64000";
        assert!(validate_receiver(&r, "64000").is_ok());
    }

    #[test]
    fn ppd_needs_payment_form_99_and_catalog_values_are_checked() {
        assert_eq!(validate_payment("04", "PUE").unwrap(), PaymentMethod::Pue);
        assert_eq!(validate_payment("99", "PPD").unwrap(), PaymentMethod::Ppd);
        assert_eq!(
            validate_payment("03", "PPD").unwrap_err().field(),
            "payment_form"
        );
        assert_eq!(
            validate_payment("07", "PUE").unwrap_err().field(),
            "payment_form"
        );
        assert_eq!(
            validate_payment("01", "XYZ").unwrap_err().field(),
            "payment_method"
        );
    }

    #[test]
    fn motive_01_needs_a_substitute_and_the_others_refuse_one() {
        assert!(validate_cancellation("01", None).is_err());
        assert_eq!(
            validate_cancellation("01", Some("uuid")).unwrap(),
            CancellationMotive::ErrorsWithRelation
        );
        assert_eq!(
            validate_cancellation("02", None).unwrap(),
            CancellationMotive::ErrorsWithoutRelation
        );
        assert_eq!(
            validate_cancellation("04", Some("x")).unwrap_err().field(),
            "substitution"
        );
        assert_eq!(
            validate_cancellation("05", None).unwrap_err().field(),
            "motive"
        );
    }

    #[test]
    fn product_and_unit_keys_are_checked_per_line() {
        assert!(validate_keys(0, "25171700", "H87").is_ok());
        assert_eq!(
            validate_keys(3, "2517170", "H87").unwrap_err().field(),
            "items[3].product.product_key"
        );
        assert_eq!(
            validate_keys(1, "25171700", "pieza").unwrap_err().field(),
            "items[1].product.unit_key"
        );
    }

    #[test]
    fn global_months_follow_the_periodicity() {
        assert!(validate_global(Periodicity::Day, "05", 2026).is_ok());
        assert!(validate_global(Periodicity::TwoMonths, "13", 2026).is_ok());
        assert!(validate_global(Periodicity::Month, "13", 2026).is_err());
        assert!(validate_global(Periodicity::TwoMonths, "02", 2026).is_err());
        assert!(validate_global(Periodicity::Month, "1", 2026).is_err());
    }

    #[test]
    fn a_shelf_price_line_breaks_into_unit_value_amount_and_iva() {
        // 3 × 116.00 at 16 %: base 300.00, IVA 48.00, unit value 100.000000.
        let c = concept_amounts(
            0,
            &TicketLine {
                qty: 3,
                unit_price_cents: 11_600,
                discount_cents: 0,
                tax: LineTax::IVA16,
            },
        )
        .unwrap();
        assert_eq!(c.unit_value, Decimal::new(100_000_000, 6));
        assert_eq!(c.amount, Money(30_000));
        assert_eq!(c.tax.amount, Some(Money(4_800)));
        assert_eq!(c.tax.rate, Some(Decimal::new(160_000, 6)));
        // 850.00 with 85.00 off at 16 %: total 765.00, IVA 105.52, base 659.48,
        // discount without IVA 73.28, importe 732.76.
        let c = concept_amounts(
            0,
            &TicketLine {
                qty: 1,
                unit_price_cents: 85_000,
                discount_cents: 8_500,
                tax: LineTax::IVA16,
            },
        )
        .unwrap();
        assert_eq!(c.tax.amount, Some(Money(10_552)));
        assert_eq!(c.tax.base, Money(65_948));
        assert_eq!(c.discount, Money(7_328));
        assert_eq!(c.amount, Money(73_276));
        assert_eq!(c.amount.0 - c.discount.0, c.tax.base.0);
    }

    #[test]
    fn a_pac_recomputing_iva_on_the_base_can_land_one_centavo_off_the_ticket() {
        // 1.05 at 16 %: IVA 0.14 (from the total), base 0.91; 0.91 × 0.16 = 0.1456 → 0.15.
        let c = concept_amounts(
            0,
            &TicketLine {
                qty: 1,
                unit_price_cents: 105,
                discount_cents: 0,
                tax: LineTax::IVA16,
            },
        )
        .unwrap();
        assert_eq!(c.tax.amount, Some(Money(14)));
        assert_eq!(c.tax_recomputed_on_base(), Some(Money(15)));
        let (lo, hi) = sat_tax_bounds(c.tax.base.to_decimal(), 2, Decimal::new(16, 2));
        assert!(lo <= Decimal::new(14, 2) && Decimal::new(15, 2) <= hi);
    }

    #[test]
    fn an_included_price_charges_the_line_total_to_the_centavo() {
        // 3 filters at 117.33 each, less a discount: 351.97 over 3 units.
        let p = included_price(3, 35_197);
        assert_eq!(p.quantity, 3);
        assert_eq!(p.price, Decimal::new(117_323_333, 6));
        assert_eq!(p.line_total_cents(), 35_197);
        // The 1.05 ticket that IVA-excluded amounts cannot reach (0.91 + 0.15).
        assert_eq!(included_price(1, 105).price, Decimal::new(105, 2));
        // Beyond what six decimals carry, the line goes as one unit of its total.
        let big = included_price(30_000, 1_000_001);
        assert_eq!(big.quantity, 1);
        assert_eq!(big.line_total_cents(), 1_000_001);
        for q in 1..10_000 {
            assert_eq!(
                included_price(q, 999_999).line_total_cents(),
                999_999,
                "{q}"
            );
        }
    }

    #[test]
    fn an_exempt_line_has_a_base_and_no_rate_or_amount() {
        let c = concept_amounts(
            2,
            &TicketLine {
                qty: 2,
                unit_price_cents: 5_000,
                discount_cents: 0,
                tax: LineTax::Exempt,
            },
        )
        .unwrap();
        assert_eq!(c.tax.factor, TaxFactor::Exento);
        assert_eq!(c.tax.base, Money(10_000));
        assert_eq!(c.tax.amount, None);
    }

    #[test]
    fn lines_that_charge_nothing_or_make_no_sense_are_named() {
        let l = |qty, price, disc| TicketLine {
            qty,
            unit_price_cents: price,
            discount_cents: disc,
            tax: LineTax::IVA16,
        };
        assert_eq!(
            concept_amounts(4, &l(0, 100, 0)).unwrap_err().field(),
            "items[4].quantity"
        );
        assert_eq!(
            concept_amounts(4, &l(1, 100, 100)).unwrap_err().field(),
            "items[4].total"
        );
        assert_eq!(
            concept_amounts(4, &l(1, 100, 101)).unwrap_err().field(),
            "items[4].discount"
        );
        assert!(cfdi_amounts(&[]).is_err());
    }

    #[test]
    fn sat_tax_bounds_widen_half_a_centavo_of_base_to_whole_centavos() {
        // Base 100.00 at 16 %: exact 16.00; the range is [15.99, 16.01].
        let (lo, hi) = sat_tax_bounds(Decimal::new(10_000, 2), 2, Decimal::new(16, 2));
        assert_eq!((lo, hi), (Decimal::new(1_599, 2), Decimal::new(1_601, 2)));
    }

    #[test]
    fn webhook_signatures_verify_only_over_the_exact_bytes_and_secret() {
        let body = br#"{"type":"invoice.status_updated","data":{"object":{"id":"inv_1"}}}"#;
        let sig = facturapi_signature("whsec", body);
        assert_eq!(sig.len(), 64);
        assert!(verify_facturapi_signature("whsec", body, &sig));
        assert!(verify_facturapi_signature(
            "whsec",
            body,
            &sig.to_uppercase()
        ));
        assert!(!verify_facturapi_signature("other", body, &sig));
        assert!(!verify_facturapi_signature("whsec", b"{}", &sig));
        assert!(!verify_facturapi_signature("whsec", body, "zz"));
        assert!(!verify_facturapi_signature("whsec", body, ""));
    }

    #[test]
    fn hmac_matches_the_rfc_4231_test_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            facturapi_signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// Property test over 10 000 random tickets (seeded): the CFDI total equals the ticket total
    /// to the centavo, each concept's IVA and Importe lie within SAT's bounds, and the document
    /// totals are sums of the concepts.
    #[test]
    fn ten_thousand_random_tickets_invoice_to_the_centavo_within_sat_bounds() {
        const CASES: usize = 10_000;
        let mut rng = StdRng::seed_from_u64(0x00C0_FD14);
        let mut lines_seen = 0usize;
        for case in 0..CASES {
            let n = rng.random_range(1..=8);
            let mut ticket_total = 0i64;
            let mut lines = Vec::with_capacity(n);
            for _ in 0..n {
                let qty = rng.random_range(1..=20i64);
                let price = rng.random_range(1..=5_000_000i64);
                let disc_bp = if rng.random_bool(0.5) {
                    0
                } else {
                    rng.random_range(0..=3_000)
                };
                let (tax, rate_bp) = match rng.random_range(0..3) {
                    0 => (LineTax::IVA16, 1600),
                    1 => (LineTax::IVA8, 800),
                    _ => (LineTax::Exempt, 0),
                };
                let la = line_amounts("l", price, qty, disc_bp, rate_bp, 0).unwrap();
                if la.total.0 == 0 {
                    continue;
                }
                ticket_total += la.total.0;
                lines.push((
                    TicketLine {
                        qty,
                        unit_price_cents: price,
                        discount_cents: la.discount.0,
                        tax,
                    },
                    la,
                ));
            }
            if lines.is_empty() {
                continue;
            }
            lines_seen += lines.len();
            let ticket: Vec<TicketLine> = lines.iter().map(|(t, _)| *t).collect();
            let a = cfdi_amounts(&ticket).unwrap();
            assert_eq!(a.total.0, ticket_total, "case {case}: {ticket:?}");
            let mut sub = 0;
            let mut disc = 0;
            let mut taxes = 0;
            for (c, (t, la)) in a.concepts.iter().zip(&lines) {
                // The concept agrees with how the sale itself was computed.
                assert_eq!(c.ticket_total, la.total, "case {case}");
                assert_eq!(
                    c.tax.amount.map_or(0, |m| m.0),
                    if t.tax == LineTax::Exempt {
                        0
                    } else {
                        la.tax.0
                    }
                );
                assert_eq!(c.amount.0 - c.discount.0, c.tax.base.0);
                assert!(c.tax.base.0 > 0);
                if let (Some(rate), Some(amt)) = (c.tax.rate, c.tax.amount) {
                    let (lo, hi) = sat_tax_bounds(c.tax.base.to_decimal(), 2, rate);
                    let v = amt.to_decimal();
                    assert!(
                        lo <= v && v <= hi,
                        "case {case}: tax {v} outside [{lo}, {hi}] for base {}",
                        c.tax.base
                    );
                }
                let (lo, hi) = sat_amount_bounds(Decimal::from(c.quantity), 6, c.unit_value, 6);
                let v = c.amount.to_decimal();
                assert!(
                    lo <= v && v <= hi,
                    "case {case}: importe {v} outside [{lo}, {hi}]"
                );
                // What is sent: an IVA-included price that charges the line's total exactly.
                let sent = included_price(c.quantity, c.ticket_total.0);
                assert_eq!(sent.line_total_cents(), c.ticket_total.0, "case {case}");
                assert_eq!(sent.quantity, c.quantity, "case {case}");
                sub += c.amount.0;
                disc += c.discount.0;
                taxes += c.tax.amount.map_or(0, |m| m.0);
            }
            assert_eq!(
                (a.subtotal.0, a.discount.0, a.total_taxes.0),
                (sub, disc, taxes)
            );
            assert_eq!(a.total.0, sub - disc + taxes);
            let by_rate: i64 = a.taxes.iter().map(|t| t.amount.map_or(0, |m| m.0)).sum();
            assert_eq!(by_rate, taxes);
            let bases: i64 = a.taxes.iter().map(|t| t.base.0).sum();
            assert_eq!(bases, sub - disc);
        }
        assert!(lines_seen > CASES);
    }
}
