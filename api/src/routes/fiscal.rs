//! `/pos/api/settings/fiscal`: the business's CFDI settings. Owners and admins write them; the
//! Facturapi key and webhook secret are write-only (the answer says only whether they are set).

use axum::Json;
use entities::tenant::fiscal_setting;
use entities::tenant::invoicing::{self, FiscalInput, Secret};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, double_option};
use crate::state::AppState;

/// The fiscal settings routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_fiscal, put_fiscal))
}

/// The fiscal settings as shown (no secrets).
#[derive(Debug, Serialize, ToSchema)]
pub struct FiscalView {
    /// Issuer RFC.
    pub issuer_rfc: String,
    /// Legal name.
    pub legal_name: String,
    /// c_RegimenFiscal.
    pub tax_regime: String,
    /// Series of invoices.
    pub invoice_series: String,
    /// Series of credit notes.
    pub credit_note_series: String,
    /// Series of payment complements.
    pub payment_series: String,
    /// `test` or `live` when a Facturapi key is set; `null` when not.
    pub facturapi_key: Option<String>,
    /// Whether a webhook secret is set.
    pub webhook_secret_set: bool,
    /// Default ClaveProdServ.
    pub default_product_key: String,
    /// Default ClaveUnidad.
    pub default_unit_key: String,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<&fiscal_setting::Model> for FiscalView {
    fn from(s: &fiscal_setting::Model) -> Self {
        Self {
            issuer_rfc: s.issuer_rfc.clone(),
            legal_name: s.legal_name.clone(),
            tax_regime: s.tax_regime.clone(),
            invoice_series: s.invoice_series.clone(),
            credit_note_series: s.credit_note_series.clone(),
            payment_series: s.payment_series.clone(),
            facturapi_key: invoicing::key_mode(s).map(str::to_owned),
            webhook_secret_set: s.webhook_secret.is_some(),
            default_product_key: s.default_product_key.clone(),
            default_unit_key: s.default_unit_key.clone(),
            updated_at: s.updated_at,
        }
    }
}

/// The fiscal settings to store.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FiscalRequest {
    /// Issuer RFC (12 characters for a company, 13 for a person).
    pub issuer_rfc: String,
    /// Legal name, as on the Constancia de Situación Fiscal.
    pub legal_name: String,
    /// c_RegimenFiscal that applies to the issuer (e.g. `601`, `626`).
    pub tax_regime: String,
    /// Series of invoices (default `A`).
    pub invoice_series: Option<String>,
    /// Series of credit notes (default `NC`).
    pub credit_note_series: Option<String>,
    /// Series of payment complements (default `P`).
    pub payment_series: Option<String>,
    /// Facturapi secret key (`sk_test_…` or `sk_live_…`); absent keeps it, `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub facturapi_key: Option<Option<String>>,
    /// Facturapi's webhook signing secret; absent keeps it, `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub webhook_secret: Option<Option<String>>,
    /// ClaveProdServ for items without one (default `25174800`).
    pub default_product_key: Option<String>,
    /// ClaveUnidad for items without one (default `H87`).
    pub default_unit_key: Option<String>,
}

fn secret(v: Option<Option<String>>) -> Secret {
    match v {
        None => Secret::Keep,
        Some(None) => Secret::Clear,
        Some(Some(s)) => Secret::Set(s),
    }
}

/// The fiscal settings (owner and admin).
#[utoipa::path(
    get,
    path = "/pos/api/settings/fiscal",
    tag = "invoicing",
    responses((status = 200, body = FiscalView), (status = 403, body = ErrorBody), (status = 404, description = "Not set yet", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_fiscal(ctx: TenantCtx) -> ApiResult<Json<FiscalView>> {
    ctx.principal.require_admin()?;
    let s = invoicing::fiscal(&ctx.db)
        .await?
        .ok_or(ApiError::NotFound("fiscal settings"))?;
    Ok(Json(FiscalView::from(&s)))
}

/// Sets the fiscal settings (owner and admin). The issuer's RFC, name and regime are checked
/// against SAT's rules; the key and the webhook secret are stored and never shown again.
#[utoipa::path(
    put,
    path = "/pos/api/settings/fiscal",
    tag = "invoicing",
    request_body = FiscalRequest,
    responses((status = 200, body = FiscalView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_fiscal(
    ctx: TenantCtx,
    AppJson(req): AppJson<FiscalRequest>,
) -> ApiResult<Json<FiscalView>> {
    ctx.principal.require_admin()?;
    let s = invoicing::set_fiscal(
        &ctx.db,
        Some(ctx.principal.user_id),
        crate::request_id::current(),
        FiscalInput {
            issuer_rfc: req.issuer_rfc,
            legal_name: req.legal_name,
            tax_regime: req.tax_regime,
            invoice_series: req.invoice_series,
            credit_note_series: req.credit_note_series,
            payment_series: req.payment_series,
            facturapi_key: secret(req.facturapi_key),
            webhook_secret: secret(req.webhook_secret),
            default_product_key: req.default_product_key,
            default_unit_key: req.default_unit_key,
        },
    )
    .await?;
    Ok(Json(FiscalView::from(&s)))
}
