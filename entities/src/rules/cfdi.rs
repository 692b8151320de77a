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

// ------------------------------------------------------------------------------------------
// SAT catalogs (subset, domain.md §1.11)
// ------------------------------------------------------------------------------------------

/// Whether an RFC belongs to a person (persona física, 13 characters) or a company (persona
/// moral, 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxpayerKind {
    /// Persona física.
    Person,
    /// Persona moral.
    Company,
}

/// One entry of c_RegimenFiscal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxRegime {
    /// SAT key, e.g. `601`.
    pub key: &'static str,
    /// SAT description.
    pub name: &'static str,
    /// Applies to personas físicas.
    pub person: bool,
    /// Applies to personas morales.
    pub company: bool,
}

const fn regime(key: &'static str, name: &'static str, person: bool, company: bool) -> TaxRegime {
    TaxRegime {
        key,
        name,
        person,
        company,
    }
}

/// c_RegimenFiscal. Names from domain.md §1.11; the física/moral columns follow SAT's
/// catCFDI_V_4 catalog (not reproduced in domain.md: checked against the catalog's published
/// columns from memory, so a regime SAT later reclassifies is caught by the PAC anyway with
/// `tax_system_not_allowed_for_tax_id`).
pub const TAX_REGIMES: [TaxRegime; 23] = [
    regime("601", "General de Ley Personas Morales", false, true),
    regime(
        "603",
        "Personas Morales con Fines no Lucrativos",
        false,
        true,
    ),
    regime(
        "605",
        "Sueldos y Salarios e Ingresos Asimilados a Salarios",
        true,
        false,
    ),
    regime("606", "Arrendamiento", true, false),
    regime(
        "607",
        "Régimen de Enajenación o Adquisición de Bienes",
        true,
        false,
    ),
    regime("608", "Demás ingresos", true, false),
    regime("609", "Consolidación", false, true),
    regime(
        "610",
        "Residentes en el Extranjero sin Establecimiento Permanente en México",
        true,
        true,
    ),
    regime(
        "611",
        "Ingresos por Dividendos (socios y accionistas)",
        true,
        false,
    ),
    regime(
        "612",
        "Personas Físicas con Actividades Empresariales y Profesionales",
        true,
        false,
    ),
    regime("614", "Ingresos por intereses", true, false),
    regime(
        "615",
        "Régimen de los ingresos por obtención de premios",
        true,
        false,
    ),
    regime("616", "Sin obligaciones fiscales", true, false),
    regime(
        "620",
        "Sociedades Cooperativas de Producción que optan por diferir sus ingresos",
        false,
        true,
    ),
    regime("621", "Incorporación Fiscal", true, false),
    regime(
        "622",
        "Actividades Agrícolas, Ganaderas, Silvícolas y Pesqueras",
        false,
        true,
    ),
    regime("623", "Opcional para Grupos de Sociedades", false, true),
    regime("624", "Coordinados", false, true),
    regime(
        "625",
        "Régimen de las Actividades Empresariales con ingresos a través de Plataformas Tecnológicas",
        true,
        false,
    ),
    regime("626", "Régimen Simplificado de Confianza", true, true),
    regime("628", "Hidrocarburos", false, true),
    regime(
        "629",
        "De los Regímenes Fiscales Preferentes y de las Empresas Multinacionales",
        true,
        false,
    ),
    regime(
        "630",
        "Enajenación de acciones en bolsa de valores",
        true,
        false,
    ),
];

/// Looks up a c_RegimenFiscal key.
#[must_use]
pub fn tax_regime(key: &str) -> Option<&'static TaxRegime> {
    TAX_REGIMES.iter().find(|r| r.key == key)
}

/// One entry of c_UsoCFDI with the receiver regimes SAT allows for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfdiUse {
    /// SAT key, e.g. `G03`.
    pub key: &'static str,
    /// SAT description.
    pub name: &'static str,
    /// Receiver regimes (c_RegimenFiscal keys) allowed with this use.
    pub regimes: &'static [&'static str],
}

/// Regimes of uses G*, I* (domain.md §1.11: "G01/G03 → 601, 603, 606, 612, 620–626").
const BUSINESS: &[&str] = &[
    "601", "603", "606", "612", "620", "621", "622", "623", "624", "625", "626",
];
/// Regimes of the personal deductions D* (domain.md §1.11).
const PERSONAL: &[&str] = &[
    "605", "606", "607", "608", "611", "612", "614", "615", "625",
];
/// S01 and CP01 apply to every regime, 616 included (domain.md §1.11).
const ALL: &[&str] = &[
    "601", "603", "605", "606", "607", "608", "610", "611", "612", "614", "615", "616", "620",
    "621", "622", "623", "624", "625", "626",
];

const fn cfdi_use(
    key: &'static str,
    name: &'static str,
    regimes: &'static [&'static str],
) -> CfdiUse {
    CfdiUse { key, name, regimes }
}

/// c_UsoCFDI with the regimes each use allows.
pub const CFDI_USES: [CfdiUse; 23] = [
    cfdi_use("G01", "Adquisición de mercancías", BUSINESS),
    cfdi_use("G02", "Devoluciones, descuentos o bonificaciones", BUSINESS),
    cfdi_use("G03", "Gastos en general", BUSINESS),
    cfdi_use("I01", "Construcciones", BUSINESS),
    cfdi_use(
        "I02",
        "Mobiliario y equipo de oficina por inversiones",
        BUSINESS,
    ),
    cfdi_use("I03", "Equipo de transporte", BUSINESS),
    cfdi_use("I04", "Equipo de computo y accesorios", BUSINESS),
    cfdi_use(
        "I05",
        "Dados, troqueles, moldes, matrices y herramental",
        BUSINESS,
    ),
    cfdi_use("I06", "Comunicaciones telefónicas", BUSINESS),
    cfdi_use("I07", "Comunicaciones satelitales", BUSINESS),
    cfdi_use("I08", "Otra maquinaria y equipo", BUSINESS),
    cfdi_use(
        "D01",
        "Honorarios médicos, dentales y gastos hospitalarios",
        PERSONAL,
    ),
    cfdi_use(
        "D02",
        "Gastos médicos por incapacidad o discapacidad",
        PERSONAL,
    ),
    cfdi_use("D03", "Gastos funerales", PERSONAL),
    cfdi_use("D04", "Donativos", PERSONAL),
    cfdi_use(
        "D05",
        "Intereses reales por créditos hipotecarios",
        PERSONAL,
    ),
    cfdi_use("D06", "Aportaciones voluntarias al SAR", PERSONAL),
    cfdi_use("D07", "Primas por seguros de gastos médicos", PERSONAL),
    cfdi_use(
        "D08",
        "Gastos de transportación escolar obligatoria",
        PERSONAL,
    ),
    cfdi_use(
        "D10",
        "Pagos por servicios educativos (colegiaturas)",
        PERSONAL,
    ),
    cfdi_use("S01", "Sin efectos fiscales", ALL),
    cfdi_use("CP01", "Pagos", ALL),
    cfdi_use("CN01", "Nómina", &["605"]),
];

/// Looks up a c_UsoCFDI key.
#[must_use]
pub fn cfdi_use_of(key: &str) -> Option<&'static CfdiUse> {
    CFDI_USES.iter().find(|u| u.key == key)
}

/// c_FormaPago (domain.md §1.11).
pub const PAYMENT_FORMS: [(&str, &str); 22] = [
    ("01", "Efectivo"),
    ("02", "Cheque nominativo"),
    ("03", "Transferencia electrónica de fondos"),
    ("04", "Tarjeta de crédito"),
    ("05", "Monedero electrónico"),
    ("06", "Dinero electrónico"),
    ("08", "Vales de despensa"),
    ("12", "Dación en pago"),
    ("13", "Pago por subrogación"),
    ("14", "Pago por consignación"),
    ("15", "Condonación"),
    ("17", "Compensación"),
    ("23", "Novación"),
    ("24", "Confusión"),
    ("25", "Remisión de deuda"),
    ("26", "Prescripción o caducidad"),
    ("27", "A satisfacción del acreedor"),
    ("28", "Tarjeta de débito"),
    ("29", "Tarjeta de servicios"),
    ("30", "Aplicación de anticipos"),
    ("31", "Intermediario pagos"),
    ("99", "Por definir"),
];

/// c_FormaPago "Por definir": the only form a PPD invoice may carry.
pub const PAYMENT_FORM_TO_BE_DEFINED: &str = "99";

/// c_MetodoPago.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PaymentMethod {
    /// Pago en una sola exhibición: paid when invoiced.
    #[serde(rename = "PUE")]
    Pue,
    /// Pago en parcialidades o diferido: credit; each payment needs a complement (type P).
    #[serde(rename = "PPD")]
    Ppd,
}

impl PaymentMethod {
    /// The SAT key.
    #[must_use]
    pub const fn key(self) -> &'static str {
        match self {
            Self::Pue => "PUE",
            Self::Ppd => "PPD",
        }
    }
}

/// c_Exportacion `01`: no export; the only value a POS sale carries.
pub const EXPORT_NONE: &str = "01";
/// c_ObjetoImp `02`: the concept is subject to tax (also for exempt lines, which carry an
/// `Exento` transfer rather than no tax object).
pub const TAX_OBJECT_YES: &str = "02";

/// c_TipoFactor of an IVA transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TaxFactor {
    /// A rate on the base (16 %, 8 %, 0 %).
    Tasa,
    /// Exempt: a base, no rate and no amount.
    Exento,
}

/// The IVA treatment of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTax {
    /// IVA at a rate in basis points: 1600 general, 800 border stimulus, 0 zero-rated.
    Iva {
        /// Basis points.
        rate_bp: i32,
    },
    /// IVA-exempt (TipoFactor `Exento`).
    Exempt,
}

impl LineTax {
    /// IVA at 16 %.
    pub const IVA16: LineTax = LineTax::Iva { rate_bp: 1600 };
    /// IVA at 8 % (border-region stimulus, domain.md §1.11).
    pub const IVA8: LineTax = LineTax::Iva { rate_bp: 800 };

    /// The rate as a fraction (`0.16`); zero when exempt.
    #[must_use]
    pub fn rate(self) -> Decimal {
        match self {
            Self::Iva { rate_bp } => Decimal::new(i64::from(rate_bp), 4),
            Self::Exempt => Decimal::ZERO,
        }
    }
}

/// A cancellation motive (esquema 2022, domain.md §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CancellationMotive {
    /// `01` Comprobante emitido con errores con relación: requires the substitute.
    #[serde(rename = "01")]
    ErrorsWithRelation,
    /// `02` Comprobante emitido con errores sin relación.
    #[serde(rename = "02")]
    ErrorsWithoutRelation,
    /// `03` No se llevó a cabo la operación.
    #[serde(rename = "03")]
    NotCarriedOut,
    /// `04` Operación nominativa relacionada en una factura global.
    #[serde(rename = "04")]
    NominativeInGlobal,
}

impl CancellationMotive {
    /// The SAT key.
    #[must_use]
    pub const fn key(self) -> &'static str {
        match self {
            Self::ErrorsWithRelation => "01",
            Self::ErrorsWithoutRelation => "02",
            Self::NotCarriedOut => "03",
            Self::NominativeInGlobal => "04",
        }
    }

    /// Parses `01`–`04`.
    #[must_use]
    pub fn parse(key: &str) -> Option<Self> {
        match key.trim() {
            "01" => Some(Self::ErrorsWithRelation),
            "02" => Some(Self::ErrorsWithoutRelation),
            "03" => Some(Self::NotCarriedOut),
            "04" => Some(Self::NominativeInGlobal),
            _ => None,
        }
    }

    /// Whether SAT requires the UUID (or Facturapi id) of the substitute CFDI.
    #[must_use]
    pub const fn requires_substitution(self) -> bool {
        matches!(self, Self::ErrorsWithRelation)
    }
}

impl fmt::Display for CancellationMotive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Checks a cancellation request: a motive `01`–`04`, and the substitute when `01` needs one
/// (Facturapi answers `substitution_invoice_required` otherwise).
///
/// # Errors
/// [`CfdiError`] on `motive` or `substitution`.
pub fn validate_cancellation(
    motive: &str,
    substitution: Option<&str>,
) -> Result<CancellationMotive, CfdiError> {
    let m = CancellationMotive::parse(motive).ok_or_else(|| {
        CfdiError::invalid(
            "motive",
            format!("{motive:?} is not a cancellation motive: use 01, 02, 03 or 04"),
        )
    })?;
    let has_substitute = substitution.is_some_and(|s| !s.trim().is_empty());
    if m.requires_substitution() && !has_substitute {
        return Err(CfdiError::incompatible(
            "substitution",
            "motive 01 (errors with relation) needs the substitute invoice, issued first",
        ));
    }
    if !m.requires_substitution() && has_substitute {
        return Err(CfdiError::incompatible(
            "substitution",
            "only motive 01 takes a substitute invoice",
        ));
    }
    Ok(m)
}

/// Checks the payment form and method. SAT rule CFDI40105 (confirmed by PAC messages quoted in
/// Odoo's Mexican localisation forum, "El campo FormaPago no contiene el valor 99"): a PPD
/// invoice carries forma de pago `99`; the real form goes in each payment complement.
///
/// # Errors
/// [`CfdiError`] on `payment_form` or `payment_method`.
pub fn validate_payment(form: &str, method: &str) -> Result<PaymentMethod, CfdiError> {
    if !PAYMENT_FORMS.iter().any(|(k, _)| *k == form) {
        return Err(CfdiError::invalid(
            "payment_form",
            format!(
                "{form:?} is not a SAT payment form (c_FormaPago), e.g. 01 cash, 04 credit card, 28 debit card"
            ),
        ));
    }
    let method = match method {
        "PUE" => PaymentMethod::Pue,
        "PPD" => PaymentMethod::Ppd,
        other => {
            return Err(CfdiError::invalid(
                "payment_method",
                format!("{other:?} is not a payment method: use PUE (paid) or PPD (credit)"),
            ));
        }
    };
    if method == PaymentMethod::Ppd && form != PAYMENT_FORM_TO_BE_DEFINED {
        return Err(CfdiError::incompatible(
            "payment_form",
            "a PPD (credit) invoice carries payment form 99 (por definir); the real form goes \
             in each payment complement",
        ));
    }
    Ok(method)
}

/// Checks a SAT product key (c_ClaveProdServ: 8 digits) and unit key (c_ClaveUnidad: 1–3
/// letters or digits) of line `index`.
///
/// # Errors
/// [`CfdiError::Invalid`] on `items[i].product.product_key` or `…unit_key`.
pub fn validate_keys(index: usize, product_key: &str, unit_key: &str) -> Result<(), CfdiError> {
    if product_key.len() != 8 || !product_key.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CfdiError::invalid(
            format!("items[{index}].product.product_key"),
            format!("{product_key:?} is not a SAT product key: 8 digits, e.g. 25171700 (brakes)"),
        ));
    }
    if unit_key.is_empty()
        || unit_key.len() > 3
        || !unit_key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(CfdiError::invalid(
            format!("items[{index}].product.unit_key"),
            format!("{unit_key:?} is not a SAT unit key, e.g. H87 (piece), LTR, E48 (service)"),
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Receiver
// ------------------------------------------------------------------------------------------

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
const CORPORATE_SUFFIXES: [&str; 9] = [
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

fn is_zip(z: &str) -> bool {
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

// ------------------------------------------------------------------------------------------
// Amounts
// ------------------------------------------------------------------------------------------

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

fn dec_to_cents(field: &str, d: Decimal) -> Result<i64, CfdiError> {
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

fn half_unit(decimals: u32) -> Decimal {
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

// ------------------------------------------------------------------------------------------
// Webhooks
// ------------------------------------------------------------------------------------------

/// The header Facturapi signs its webhook deliveries with.
pub const SIGNATURE_HEADER: &str = "Facturapi-Signature";

/// Hex HMAC-SHA256 of the raw body under the webhook's secret: the value of
/// [`SIGNATURE_HEADER`]. Verified in FacturAPI/facturapi-java `Webhooks.validateSignature`
/// (HmacSHA256 over the raw payload with the secret as UTF-8 key, compared with
/// `MessageDigest.isEqual` against the hex-decoded header), matching domain.md §1.9.
#[must_use]
pub fn facturapi_signature(secret: &str, raw_body: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(raw_body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether `signature` (the header's value) is the HMAC of exactly these bytes under `secret`.
/// Verify the raw body before any JSON parse: re-serialising changes the bytes. The comparison
/// is constant-time (`Mac::verify_slice`).
#[must_use]
pub fn verify_facturapi_signature(secret: &str, raw_body: &[u8], signature: &str) -> bool {
    let Some(given) = hex_decode(signature) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(raw_body);
    mac.verify_slice(&given).is_ok()
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
