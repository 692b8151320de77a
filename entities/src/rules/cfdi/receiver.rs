//! The receiver of a CFDI 4.0: RFC, name, regime, fiscal zip and use, checked together; the global block of an invoice to the public.

use super::*;

/// RFC SAT defines for sales to the general public (global invoice, tickets without RFC).
pub const RFC_GENERAL_PUBLIC: &str = "XAXX010101000";
/// RFC SAT defines for foreign receivers without a Mexican RFC.
pub const RFC_FOREIGN: &str = "XEXX010101000";
/// The receiver name SAT expects with [`RFC_GENERAL_PUBLIC`].
pub const GENERAL_PUBLIC_NAME: &str = "PUBLICO EN GENERAL";
/// The regime of a generic receiver: Sin obligaciones fiscales.
pub const REGIME_NO_OBLIGATIONS: &str = "616";
/// The use of a generic receiver and of a global invoice: Sin efectos fiscales.
pub const USE_NO_TAX_EFFECTS: &str = "S01";

/// An RFC that passed the format check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckedRfc {
    /// Upper-cased and trimmed.
    pub value: String,
    /// Person (13) or company (12).
    pub kind: TaxpayerKind,
    /// One of SAT's generic RFCs.
    pub generic: bool,
    /// The mod-11 check digit did not match: sent anyway (about 1.5 % of real RFCs carry a wrong
    /// one, domain.md §1.12), the operator is warned, SAT is the judge.
    pub check_digit_warning: bool,
}

/// Checks an RFC's format (12 or 13 characters, valid date); a wrong check digit is a warning;
/// the generic RFCs are whitelisted.
///
/// # Errors
/// [`CfdiError::Invalid`] on `field`.
pub fn check_rfc(field: &str, input: &str) -> Result<CheckedRfc, CfdiError> {
    let rfc = Rfc::parse(input).map_err(|e| {
        let message = match e {
            crate::Error::Validation { message, .. } => message,
            other => other.to_string(),
        };
        CfdiError::invalid(field, message)
    })?;
    let value = rfc.as_str().to_owned();
    let kind = if value.chars().count() == 13 {
        TaxpayerKind::Person
    } else {
        TaxpayerKind::Company
    };
    Ok(CheckedRfc {
        generic: GENERIC_RFCS.contains(&value.as_str()),
        check_digit_warning: !rfc.check_digit_ok(),
        value,
        kind,
    })
}

/// Checks that a c_RegimenFiscal key exists and applies to the RFC's kind of taxpayer (a
/// company RFC with regime 612, for personas físicas, is refused), as SAT checks when stamping.
/// The one rule for the business's fiscal settings and for customers.
///
/// # Errors
/// [`CfdiError::Invalid`] on `field`.
pub fn regime_fits(
    field: &str,
    rfc: &CheckedRfc,
    regime_key: &str,
) -> Result<&'static TaxRegime, CfdiError> {
    let regime = tax_regime(regime_key.trim())
        .ok_or_else(|| CfdiError::invalid(field, "not a key of SAT's c_RegimenFiscal"))?;
    let fits = match rfc.kind {
        TaxpayerKind::Person => regime.person,
        TaxpayerKind::Company => regime.company,
    };
    if fits {
        Ok(regime)
    } else {
        Err(CfdiError::invalid(
            field,
            format!(
                "regime {} does not apply to a {} RFC",
                regime.key,
                match rfc.kind {
                    TaxpayerKind::Person => "person's (13-character)",
                    TaxpayerKind::Company => "company's (12-character)",
                }
            ),
        ))
    }
}

/// A receiver as the request states it.
#[derive(Debug, Clone, Copy)]
pub struct ReceiverInput<'a> {
    /// RFC (`customer.tax_id`).
    pub tax_id: &'a str,
    /// Name exactly as in the Constancia de Situación Fiscal, without the corporate-regime
    /// suffix (`customer.legal_name`).
    pub legal_name: &'a str,
    /// c_RegimenFiscal key (`customer.tax_system`).
    pub tax_system: &'a str,
    /// Fiscal postal code (`customer.address.zip`).
    pub zip: &'a str,
    /// c_UsoCFDI key (`use`).
    pub cfdi_use: &'a str,
}

/// A receiver that passed every local check, normalised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ValidReceiver {
    /// The RFC and what is known of it.
    pub rfc: CheckedRfc,
    /// Name, upper-cased and with inner spaces collapsed.
    pub legal_name: String,
    /// Regime key.
    pub tax_system: String,
    /// Five-digit zip.
    pub zip: String,
    /// Use key.
    pub cfdi_use: String,
    /// Non-blocking notes for the operator (a check-digit mismatch).
    pub warnings: Vec<String>,
}

/// Corporate-regime suffixes CFDI 4.0 wants left out of the receiver name (domain.md §1.3:
/// `legal_name` "without corporate regime suffix"), compared after removing dots and commas.
pub(super) const CORPORATE_SUFFIXES: [&str; 9] = [
    " SA DE CV",
    " S DE RL DE CV",
    " SAPI DE CV",
    " SAB DE CV",
    " SAS DE CV",
    " S DE RL",
    " SC",
    " AC",
    " SAS",
];

pub(super) fn is_zip(z: &str) -> bool {
    z.len() == 5 && z.bytes().all(|b| b.is_ascii_digit())
}

/// Validates a receiver against SAT's CFDI 4.0 rules before anything is sent: RFC format,
/// name, regime in c_RegimenFiscal and valid for a person or a company as the RFC says, zip
/// of 5 digits, use in c_UsoCFDI and allowed for the regime. A generic RFC takes the rules of
/// the general public: name `PUBLICO EN GENERAL` (for `XAXX010101000`), regime 616, use S01 and
/// the issuer's expedition zip as its zip.
///
/// # Errors
/// [`CfdiError`] naming `customer.tax_id`, `customer.legal_name`, `customer.tax_system`,
/// `customer.address.zip` or `use`.
pub fn validate_receiver(
    r: &ReceiverInput<'_>,
    expedition_zip: &str,
) -> Result<ValidReceiver, CfdiError> {
    let rfc = check_rfc("customer.tax_id", r.tax_id)?;
    let legal_name = r
        .legal_name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    if legal_name.is_empty() {
        return Err(CfdiError::invalid(
            "customer.legal_name",
            "the receiver's name is required, as written in its Constancia de Situación Fiscal",
        ));
    }
    let bare: String = legal_name
        .chars()
        .filter(|c| !matches!(c, '.' | ','))
        .collect();
    if let Some(suffix) = CORPORATE_SUFFIXES.iter().find(|s| bare.ends_with(*s)) {
        return Err(CfdiError::invalid(
            "customer.legal_name",
            format!(
                "CFDI 4.0 takes the name without the corporate regime: remove \"{}\"",
                suffix.trim()
            ),
        ));
    }
    let tax_system = r.tax_system.trim().to_owned();
    let regime = tax_regime(&tax_system).ok_or_else(|| {
        CfdiError::invalid(
            "customer.tax_system",
            format!(
                "{tax_system:?} is not a SAT tax regime key (c_RegimenFiscal), e.g. 601, 612, 626"
            ),
        )
    })?;
    let zip = r.zip.trim().to_owned();
    if !is_zip(&zip) {
        return Err(CfdiError::invalid(
            "customer.address.zip",
            "the fiscal postal code has 5 digits",
        ));
    }
    let cfdi_use = r.cfdi_use.trim().to_uppercase();
    let u = cfdi_use_of(&cfdi_use).ok_or_else(|| {
        CfdiError::invalid(
            "use",
            format!("{cfdi_use:?} is not a SAT CFDI use (c_UsoCFDI), e.g. G01, G03, S01"),
        )
    })?;

    if rfc.generic {
        // SAT's filling guide for generic receivers: regime 616, use S01, and the issuer's
        // own expedition zip as the receiver's (the public has no fiscal address).
        if rfc.value == RFC_GENERAL_PUBLIC && legal_name != GENERAL_PUBLIC_NAME {
            return Err(CfdiError::incompatible(
                "customer.legal_name",
                format!("with RFC {RFC_GENERAL_PUBLIC} the name is {GENERAL_PUBLIC_NAME}"),
            ));
        }
        if tax_system != REGIME_NO_OBLIGATIONS {
            return Err(CfdiError::incompatible(
                "customer.tax_system",
                format!(
                    "a generic RFC ({}) takes regime 616 (sin obligaciones fiscales)",
                    rfc.value
                ),
            ));
        }
        if cfdi_use != USE_NO_TAX_EFFECTS {
            return Err(CfdiError::incompatible(
                "use",
                format!(
                    "a generic RFC ({}) takes use S01 (sin efectos fiscales)",
                    rfc.value
                ),
            ));
        }
        if zip != expedition_zip.trim() {
            return Err(CfdiError::incompatible(
                "customer.address.zip",
                format!(
                    "a generic RFC takes the branch's expedition zip ({}) as its zip",
                    expedition_zip.trim()
                ),
            ));
        }
    } else {
        let fits = match rfc.kind {
            TaxpayerKind::Person => regime.person,
            TaxpayerKind::Company => regime.company,
        };
        if !fits {
            let who = match rfc.kind {
                TaxpayerKind::Person => "a person (13-character RFC)",
                TaxpayerKind::Company => "a company (12-character RFC)",
            };
            return Err(CfdiError::incompatible(
                "customer.tax_system",
                format!(
                    "regime {} ({}) does not apply to {who}",
                    regime.key, regime.name
                ),
            ));
        }
        if tax_system == REGIME_NO_OBLIGATIONS
            && cfdi_use != USE_NO_TAX_EFFECTS
            && cfdi_use != "CP01"
        {
            // Covered by the table below too; said explicitly because it is the usual mistake.
            return Err(CfdiError::incompatible(
                "use",
                "a receiver without tax obligations (616) can only take use S01",
            ));
        }
    }
    if !u.regimes.contains(&tax_system.as_str()) {
        return Err(CfdiError::incompatible(
            "use",
            format!(
                "use {} ({}) is not allowed for regime {}: allowed regimes are {}",
                u.key,
                u.name,
                tax_system,
                u.regimes.join(", ")
            ),
        ));
    }
    let mut warnings = Vec::new();
    if rfc.check_digit_warning {
        warnings.push(format!(
            "customer.tax_id: the check digit of {} does not match; SAT will confirm whether it exists",
            rfc.value
        ));
    }
    Ok(ValidReceiver {
        rfc,
        legal_name,
        tax_system,
        zip,
        cfdi_use,
        warnings,
    })
}

/// Periodicity of a global invoice (InformacionGlobal, domain.md §1.3 `global`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Periodicity {
    /// Daily.
    Day,
    /// Weekly.
    Week,
    /// Every fortnight.
    Fortnight,
    /// Monthly.
    Month,
    /// Every two months (months `13`–`18`).
    TwoMonths,
}

/// Checks the `global` block: months `01`–`12` for a period within a month, `13`–`18` (the
/// bimesters of c_Meses) for `two_months`; a plausible year.
///
/// # Errors
/// [`CfdiError`] on `global.months` or `global.year`.
pub fn validate_global(periodicity: Periodicity, months: &str, year: i32) -> Result<(), CfdiError> {
    let m: u32 = months
        .parse()
        .ok()
        .filter(|_| months.len() == 2)
        .ok_or_else(|| CfdiError::invalid("global.months", "two digits, 01 to 18"))?;
    let ok = match periodicity {
        Periodicity::TwoMonths => (13..=18).contains(&m),
        _ => (1..=12).contains(&m),
    };
    if !ok {
        return Err(CfdiError::incompatible(
            "global.months",
            "months are 01–12, or 13–18 (bimesters) for a two_months periodicity",
        ));
    }
    if !(2022..=2100).contains(&year) {
        return Err(CfdiError::invalid(
            "global.year",
            "a year from 2022 (CFDI 4.0) on",
        ));
    }
    Ok(())
}
