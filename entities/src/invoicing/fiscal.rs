//! The business's fiscal settings (issuer, series, the Facturapi key, default SAT keys, the global
//! invoice's periodicity). The key and the webhook secret are write-only: they are stored for the
//! `cfdi` workers and never returned, logged or audited.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use crate::invoicing::tables::fiscal_setting;
use crate::org::audit::Entry;
use crate::rules::cfdi;
use crate::rules::cfdi::Periodicity;
use crate::{Error, Result};

/// The id of the one settings row.
const ROW: i32 = 1;

/// A secret that is set, cleared, or left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Secret {
    /// Leave the stored value.
    #[default]
    Keep,
    /// Remove it.
    Clear,
    /// Store this.
    Set(String),
}

/// Fiscal settings as written; `None` keeps a default or the stored value.
#[derive(Clone, Default)]
pub struct FiscalInput {
    /// Issuer RFC.
    pub issuer_rfc: String,
    /// Legal name as registered with the SAT.
    pub legal_name: String,
    /// c_RegimenFiscal of the issuer.
    pub tax_regime: String,
    /// Series of invoices (default `A`).
    pub invoice_series: Option<String>,
    /// Series of credit notes (default `NC`).
    pub credit_note_series: Option<String>,
    /// Series of payment complements (default `P`).
    pub payment_series: Option<String>,
    /// Facturapi secret key.
    pub facturapi_key: Secret,
    /// Webhook signing secret.
    pub webhook_secret: Secret,
    /// ClaveProdServ for items without one (default `25174800`, auto-parts accessories).
    pub default_product_key: Option<String>,
    /// ClaveUnidad for items without one (default `H87`, pieza).
    pub default_unit_key: Option<String>,
    /// Periodicity of the global invoice (`day` by default; `None` keeps the stored one).
    pub global_periodicity: Option<String>,
}

impl std::fmt::Debug for FiscalInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FiscalInput")
            .field("issuer_rfc", &self.issuer_rfc)
            .field("legal_name", &self.legal_name)
            .field("tax_regime", &self.tax_regime)
            .field("facturapi_key", &"<write-only>")
            .field("webhook_secret", &"<write-only>")
            .finish_non_exhaustive()
    }
}

/// Whether a Facturapi key is configured, and of which kind (never the key).
#[must_use]
pub fn key_mode(s: &fiscal_setting::Model) -> Option<&'static str> {
    match s.facturapi_key.as_deref() {
        Some(k) if k.starts_with("sk_live_") => Some("live"),
        Some(_) => Some("test"),
        None => None,
    }
}

fn series(field: &str, v: Option<String>, default: &str) -> Result<String> {
    let s = v.map_or_else(|| default.to_owned(), |s| s.trim().to_ascii_uppercase());
    if s.is_empty() || s.len() > 25 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::validation(
            field,
            "a series is 1 to 25 letters or digits",
        ));
    }
    Ok(s)
}

fn secret(
    field: &str,
    s: Secret,
    prefix: &[&str],
    stored: Option<String>,
) -> Result<Option<String>> {
    match s {
        Secret::Keep => Ok(stored),
        Secret::Clear => Ok(None),
        Secret::Set(v) => {
            let v = v.trim().to_owned();
            let prefixed = prefix.is_empty() || prefix.iter().any(|p| v.starts_with(p));
            if v.len() < 16 || v.len() > 200 || !prefixed {
                return Err(Error::validation(
                    field,
                    if prefix.is_empty() {
                        "the secret is 16 to 200 characters".to_owned()
                    } else {
                        format!(
                            "the key starts with {} (see your Facturapi dashboard)",
                            prefix.join(" or ")
                        )
                    },
                ));
            }
            Ok(Some(v))
        }
    }
}

/// The settings, when set.
///
/// # Errors
/// Database errors.
pub async fn fiscal(db: &impl ConnectionTrait) -> Result<Option<fiscal_setting::Model>> {
    Ok(fiscal_setting::Entity::find_by_id(ROW).one(db).await?)
}

/// The fiscal settings, when documents can be issued: they are set and hold a Facturapi key.
///
/// # Errors
/// [`Error::Conflict`] `fiscal_settings_missing`; database errors.
pub async fn issuing_settings(db: &impl ConnectionTrait) -> Result<fiscal_setting::Model> {
    fiscal(db)
        .await?
        .filter(|s| s.facturapi_key.is_some())
        .ok_or_else(|| {
            Error::conflict(
                "fiscal_settings_missing",
                "set the fiscal settings and the Facturapi key first (PUT /pos/api/settings/fiscal)",
            )
        })
}

/// Sets the fiscal settings (owner and admin; the API checks the role), audited without secrets.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub async fn set_fiscal(
    db: &sea_orm::DatabaseConnection,
    user: Option<Uuid>,
    request_id: Option<String>,
    input: FiscalInput,
) -> Result<fiscal_setting::Model> {
    let rfc = cfdi::check_rfc("issuer_rfc", &input.issuer_rfc)?;
    if rfc.generic {
        return Err(Error::validation(
            "issuer_rfc",
            "a generic RFC cannot issue invoices",
        ));
    }
    let name = input.legal_name.trim().to_uppercase();
    if name.is_empty() || name.chars().count() > 300 {
        return Err(Error::validation(
            "legal_name",
            "the legal name is 1 to 300 characters, as on the Constancia de Situación Fiscal",
        ));
    }
    let regime = cfdi::regime_fits("tax_regime", &rfc, &input.tax_regime)?;
    let product = input
        .default_product_key
        .unwrap_or_else(|| "25174800".into());
    let unit = input.default_unit_key.unwrap_or_else(|| "H87".into());
    cfdi::validate_keys(0, &product, &unit).map_err(|e| {
        let field = if e.field().ends_with("unit_key") {
            "default_unit_key"
        } else {
            "default_product_key"
        };
        Error::validation(field, e.to_string())
    })?;
    let txn = crate::db::begin_write(db).await?;
    let stored = fiscal(&txn).await?;
    let (old_key, old_secret) = stored
        .as_ref()
        .map(|s| (s.facturapi_key.clone(), s.webhook_secret.clone()))
        .unwrap_or_default();
    let key = secret(
        "facturapi_key",
        input.facturapi_key,
        &["sk_test_", "sk_live_"],
        old_key,
    )?;
    let hook = secret("webhook_secret", input.webhook_secret, &[], old_secret)?;
    let periodicity = match input.global_periodicity {
        Some(p) => crate::invoicing::fiscal::parse_periodicity(&p)?,
        None => stored
            .as_ref()
            .and_then(|s| crate::invoicing::fiscal::parse_periodicity(&s.global_periodicity).ok())
            .unwrap_or(cfdi::Periodicity::Day),
    };
    let am = fiscal_setting::ActiveModel {
        id: Set(ROW),
        issuer_rfc: Set(rfc.value),
        legal_name: Set(name),
        tax_regime: Set(regime.key.to_owned()),
        invoice_series: Set(series("invoice_series", input.invoice_series, "A")?),
        credit_note_series: Set(series(
            "credit_note_series",
            input.credit_note_series,
            "NC",
        )?),
        payment_series: Set(series("payment_series", input.payment_series, "P")?),
        facturapi_key: Set(key),
        webhook_secret: Set(hook),
        default_product_key: Set(product),
        default_unit_key: Set(unit),
        global_periodicity: Set(crate::invoicing::fiscal::periodicity_name(periodicity).to_owned()),
        updated_by: Set(user),
        updated_at: Set(crate::now()),
    };
    let saved = if stored.is_some() {
        am.update(&txn).await?
    } else {
        am.insert(&txn).await?
    };
    Entry::new("fiscal.updated")
        .actor(user)
        .target("fiscal_settings", ROW)
        .request(None, request_id)
        .details(json!({
            "issuer_rfc": saved.issuer_rfc,
            "tax_regime": saved.tax_regime,
            "series": [saved.invoice_series, saved.credit_note_series, saved.payment_series],
            "facturapi_key": key_mode(&saved).unwrap_or("none"),
            "webhook_secret": saved.webhook_secret.is_some(),
            "global_periodicity": saved.global_periodicity,
        }))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The stored name of a periodicity (the `global.periodicity` value Facturapi takes).
#[must_use]
pub const fn periodicity_name(p: Periodicity) -> &'static str {
    match p {
        Periodicity::Day => "day",
        Periodicity::Week => "week",
        Periodicity::Fortnight => "fortnight",
        Periodicity::Month => "month",
        Periodicity::TwoMonths => "two_months",
    }
}

/// Reads a periodicity.
///
/// # Errors
/// [`Error::Validation`] on `global_periodicity`.
pub fn parse_periodicity(s: &str) -> Result<Periodicity> {
    match s.trim() {
        "day" => Ok(Periodicity::Day),
        "week" => Ok(Periodicity::Week),
        "fortnight" => Ok(Periodicity::Fortnight),
        "month" => Ok(Periodicity::Month),
        "two_months" => Ok(Periodicity::TwoMonths),
        _ => Err(Error::validation(
            "global_periodicity",
            "one of day, week, fortnight, month, two_months",
        )),
    }
}
