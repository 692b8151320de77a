//! SAT catalogs (a subset, domain.md §1.11): tax regimes, CFDI uses, payment forms and methods, cancellation motives, product and unit keys.

use super::*;

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

pub(super) const fn regime(
    key: &'static str,
    name: &'static str,
    person: bool,
    company: bool,
) -> TaxRegime {
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
pub(super) const BUSINESS: &[&str] = &[
    "601", "603", "606", "612", "620", "621", "622", "623", "624", "625", "626",
];
/// Regimes of the personal deductions D* (domain.md §1.11).
pub(super) const PERSONAL: &[&str] = &[
    "605", "606", "607", "608", "611", "612", "614", "615", "625",
];
/// S01 and CP01 apply to every regime, 616 included (domain.md §1.11).
pub(super) const ALL: &[&str] = &[
    "601", "603", "605", "606", "607", "608", "610", "611", "612", "614", "615", "616", "620",
    "621", "622", "623", "624", "625", "626",
];

pub(super) const fn cfdi_use(
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
