//! The SAT rules the fake checks, its own copy written from the documented contract
//! (domain.md §1.3, §1.11 and the RFC section; Facturapi's `Uso del CFDI` and `Régimen Fiscal`
//! tables), not from Nexus's validators: a fake that called `entities::rules::cfdi` would agree
//! with any mistake made there. Where Nexus and this file disagree, one of them misread the
//! contract, and a test shows it.
//!
//! Each check answers `Err((path, message))` in Facturapi's Spanish, for the error envelope.

/// The generic RFC of the public.
pub const RFC_PUBLIC: &str = "XAXX010101000";
/// The generic RFC of foreigners.
pub const RFC_FOREIGN: &str = "XEXX010101000";
/// The name that goes with [`RFC_PUBLIC`].
pub const PUBLIC_NAME: &str = "PUBLICO EN GENERAL";

/// c_RegimenFiscal keys that apply to a person (13-character RFC).
const PERSON_REGIMES: &[&str] = &[
    "605", "606", "607", "608", "610", "611", "612", "614", "615", "616", "621", "625", "626",
    "629", "630",
];
/// c_RegimenFiscal keys that apply to a company (12-character RFC).
const COMPANY_REGIMES: &[&str] = &[
    "601", "603", "609", "610", "620", "622", "623", "624", "626", "628",
];

/// c_FormaPago keys (facturapi-node `enums.ts`).
pub const PAYMENT_FORMS: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "08", "12", "13", "14", "15", "17", "23", "24", "25", "26",
    "27", "28", "29", "30", "31", "99",
];

/// The regimes a CFDI use allows, from the `Uso del CFDI` table: G and I uses are for
/// businesses, D uses for people, S01 and CP01 for anyone (616 included), CN01 for payroll.
fn regimes_of_use(cfdi_use: &str) -> Option<&'static [&'static str]> {
    const BUSINESS: &[&str] = &[
        "601", "603", "606", "612", "620", "621", "622", "623", "624", "625", "626",
    ];
    const PEOPLE: &[&str] = &[
        "605", "606", "607", "608", "611", "612", "614", "615", "625",
    ];
    const ANYONE: &[&str] = &[
        "601", "603", "605", "606", "607", "608", "610", "611", "612", "614", "615", "616", "620",
        "621", "622", "623", "624", "625", "626",
    ];
    Some(match cfdi_use {
        "G01" | "G02" | "G03" | "I01" | "I02" | "I03" | "I04" | "I05" | "I06" | "I07" | "I08" => {
            BUSINESS
        }
        "D01" | "D02" | "D03" | "D04" | "D05" | "D06" | "D07" | "D08" | "D09" | "D10" => PEOPLE,
        "S01" | "CP01" => ANYONE,
        "CN01" => &["605"],
        _ => return None,
    })
}

type Refusal = (String, String);

fn refuse(path: &str, message: &str) -> Refusal {
    (path.to_owned(), message.to_owned())
}

/// Whether `rfc` has the RFC's shape: 3 (company) or 4 (person) letters, a YYMMDD date and a
/// 3-character homoclave. The check digit is the SAT's to judge (it answers for an RFC that
/// does not exist), so the fake does not.
fn rfc_shape(rfc: &str) -> Option<bool> {
    let chars: Vec<char> = rfc.chars().collect();
    let letters = match chars.len() {
        12 => 3,
        13 => 4,
        _ => return None,
    };
    let name_ok = chars[..letters]
        .iter()
        .all(|c| c.is_ascii_uppercase() || matches!(c, '&' | 'Ñ'));
    let date: String = chars[letters..letters + 6].iter().collect();
    let date_ok = date.bytes().all(|b| b.is_ascii_digit())
        && (1..=12).contains(&date[2..4].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&date[4..6].parse::<u32>().unwrap_or(0));
    let homoclave_ok = chars[letters + 6..]
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    (name_ok && date_ok && homoclave_ok).then_some(letters == 4)
}

/// The receiver of a CFDI 4.0: the RFC's shape, the regime that fits a person or a company, a
/// 5-digit fiscal zip, a use the regime allows; the generic RFCs take 616, S01 and the
/// issuer's expedition zip, and the public's its fixed name.
///
/// # Errors
/// The first rule broken.
pub fn receiver(
    rfc: &str,
    name: &str,
    regime: &str,
    zip: &str,
    cfdi_use: &str,
    expedition_zip: &str,
) -> Result<(), Refusal> {
    let Some(person) = rfc_shape(rfc) else {
        return Err(refuse(
            "customer.tax_id",
            "El RFC no tiene un formato válido.",
        ));
    };
    if zip.len() != 5 || !zip.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(
            "customer.address.zip",
            "El código postal debe tener 5 dígitos.",
        ));
    }
    let Some(allowed) = regimes_of_use(cfdi_use) else {
        return Err(refuse("use", "El uso del CFDI no existe en el catálogo."));
    };
    if rfc == RFC_PUBLIC || rfc == RFC_FOREIGN {
        if rfc == RFC_PUBLIC && !name.trim().eq_ignore_ascii_case(PUBLIC_NAME) {
            return Err(refuse(
                "customer.legal_name",
                "Con el RFC genérico el nombre es PUBLICO EN GENERAL.",
            ));
        }
        if regime != "616" || cfdi_use != "S01" {
            return Err(refuse(
                "customer.tax_system",
                "El RFC genérico requiere régimen 616 y uso S01.",
            ));
        }
        if zip != expedition_zip {
            return Err(refuse(
                "customer.address.zip",
                "Con el RFC genérico el código postal es el del lugar de expedición.",
            ));
        }
        return Ok(());
    }
    let fits = if person {
        PERSON_REGIMES.contains(&regime)
    } else {
        COMPANY_REGIMES.contains(&regime)
    };
    if !fits {
        return Err(refuse(
            "customer.tax_system",
            "El régimen fiscal no corresponde al tipo de persona del RFC.",
        ));
    }
    if !allowed.contains(&regime) {
        return Err(refuse(
            "use",
            "El uso del CFDI no es válido para el régimen fiscal del receptor.",
        ));
    }
    Ok(())
}

/// The `global` block (InformacionGlobal): a periodicity, months 01–12 (13–18 are the
/// bimesters of `two_months`) and a year of CFDI 4.0.
///
/// # Errors
/// The first rule broken.
pub fn global(periodicity: &str, months: &str, year: i64) -> Result<(), Refusal> {
    let bimester = match periodicity {
        "day" | "week" | "fortnight" | "month" => false,
        "two_months" => true,
        _ => return Err(refuse("global.periodicity", "Periodicidad inválida.")),
    };
    let m: u32 = if months.len() == 2 {
        months.parse().unwrap_or(0)
    } else {
        0
    };
    let ok = if bimester {
        (13..=18).contains(&m)
    } else {
        (1..=12).contains(&m)
    };
    if !ok {
        return Err(refuse(
            "global.months",
            "El mes no corresponde a la periodicidad.",
        ));
    }
    if !(2022..=2100).contains(&year) {
        return Err(refuse("global.year", "El año no es válido."));
    }
    Ok(())
}

/// Payment form and method: a form of the catalog; `PUE` or `PPD`; a `PPD` invoice is paid
/// later, so its form is 99 (por definir).
///
/// # Errors
/// The first rule broken.
pub fn payment(form: &str, method: &str) -> Result<(), Refusal> {
    if !PAYMENT_FORMS.contains(&form) {
        return Err(refuse(
            "payment_form",
            "La forma de pago no existe en el catálogo c_FormaPago.",
        ));
    }
    match method {
        "PUE" => Ok(()),
        "PPD" if form == "99" => Ok(()),
        "PPD" => Err(refuse(
            "payment_form",
            "Con método de pago PPD la forma de pago debe ser 99.",
        )),
        _ => Err(refuse(
            "payment_method",
            "El método de pago debe ser PUE o PPD.",
        )),
    }
}

/// A concept's keys: ClaveProdServ is 8 digits; ClaveUnidad is 1 to 3 uppercase letters or
/// digits.
///
/// # Errors
/// The first rule broken.
pub fn keys(index: usize, product_key: &str, unit_key: &str) -> Result<(), Refusal> {
    if product_key.len() != 8 || !product_key.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(
            &format!("items[{index}].product.product_key"),
            "La clave de producto debe tener 8 dígitos.",
        ));
    }
    if !(1..=3).contains(&unit_key.len())
        || !unit_key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(refuse(
            &format!("items[{index}].product.unit_key"),
            "La clave de unidad no existe en el catálogo.",
        ));
    }
    Ok(())
}

/// Whether a cancellation motive exists: 01 (errors, with a substitute), 02 (errors without
/// relation), 03 (the operation did not happen), 04 (nominative operation of a global).
#[must_use]
pub fn motive_exists(motive: &str) -> bool {
    matches!(motive, "01" | "02" | "03" | "04")
}

/// Whether a motive needs the substitute invoice named (only 01).
#[must_use]
pub fn motive_needs_substitute(motive: &str) -> bool {
    motive == "01"
}

/// The `Facturapi-Signature` of a webhook body: hex HMAC-SHA256 of the raw body under the
/// webhook secret (domain.md §1.9).
#[must_use]
pub fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes a key of any length; this arm is never taken.
        return String::new();
    };
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fakes_rules_take_sat_test_receivers_and_refuse_mismatches() {
        assert!(
            receiver(
                "EKU9003173C9",
                "ESCUELA KEMPER URGATE",
                "601",
                "26015",
                "G01",
                "64000"
            )
            .is_ok()
        );
        assert!(
            receiver(
                "CACX7605101P8",
                "XOCHILT CASAS CHAVEZ",
                "612",
                "36257",
                "G03",
                "64000"
            )
            .is_ok()
        );
        assert!(receiver(RFC_PUBLIC, PUBLIC_NAME, "616", "64000", "S01", "64000").is_ok());
        assert!(receiver(RFC_PUBLIC, PUBLIC_NAME, "616", "06000", "S01", "64000").is_err());
        assert!(receiver("EKU9003173C9", "ESCUELA", "612", "26015", "G01", "64000").is_err());
        assert!(receiver("CACX7605101P8", "XOCHILT", "612", "36257", "D01", "64000").is_ok());
        assert!(receiver("EKU9003173C9", "ESCUELA", "601", "26015", "D01", "64000").is_err());
        assert!(receiver("EKU90031", "ESCUELA", "601", "26015", "G01", "64000").is_err());
        assert!(payment("99", "PPD").is_ok());
        assert!(payment("01", "PPD").is_err());
        assert!(payment("07", "PUE").is_err());
        assert!(global("two_months", "13", 2026).is_ok());
        assert!(global("month", "13", 2026).is_err());
        assert!(motive_exists("04") && !motive_exists("05") && motive_needs_substitute("01"));
    }

    #[test]
    fn the_signature_is_the_documented_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
