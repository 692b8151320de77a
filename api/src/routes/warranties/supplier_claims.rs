//! `/pos/api/supplier-claims`: claims to suppliers for parts that failed under the supplier's
//! warranty (`draft → sent → accepted | rejected`, `accepted → credited | replaced`) with their
//! history, and `/pos/api/supplier-claims/unrecovered`: per supplier, what has not come back.
//!
//! Reading: every role; writing: owner, admin, manager.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::rules::money::Money;
use entities::warranties::supplier_claims::{
    self, NewSupplierClaim, Status, Step, SupplierClaimFilter,
};
use entities::warranties::tables::supplier_claim;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::claims::ClaimEventView;
use super::parse_text;
use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The supplier-claim routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_supplier_claims, open_supplier_claim))
        .routes(routes!(unrecovered_supplier_claims))
        .routes(routes!(get_supplier_claim))
        .routes(routes!(send_supplier_claim))
        .routes(routes!(accept_supplier_claim))
        .routes(routes!(reject_supplier_claim))
        .routes(routes!(credit_supplier_claim))
        .routes(routes!(replace_supplier_claim))
}

/// A claim to a supplier.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimToSupplierView {
    /// Id.
    pub id: Uuid,
    /// Folio, e.g. `RP-000012`.
    pub folio: String,
    /// The customer's claim it recovers.
    pub warranty_claim_id: Uuid,
    /// The supplier.
    pub supplier_id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// Units.
    pub qty: i64,
    /// `draft`, `sent`, `accepted`, `rejected`, `credited` or `replaced`.
    pub status: String,
    /// What the supplier should credit, MXN.
    #[schema(value_type = String, example = "225.00")]
    pub expected_credit: Money,
    /// What the supplier credited, MXN.
    #[schema(value_type = String, example = "0.00")]
    pub credited: Money,
    /// Note.
    pub note: Option<String>,
    /// Opened.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<supplier_claim::Model> for ClaimToSupplierView {
    fn from(s: supplier_claim::Model) -> Self {
        Self {
            id: s.id,
            folio: s.folio,
            warranty_claim_id: s.warranty_claim_id,
            supplier_id: s.supplier_id,
            item_id: s.item_id,
            qty: s.qty,
            status: s.status.to_string(),
            expected_credit: Money(s.expected_credit_cents),
            credited: Money(s.credited_cents),
            note: s.note,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A supplier claim with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimToSupplierDetailView {
    /// The claim.
    #[serde(flatten)]
    pub claim: ClaimToSupplierView,
    /// Its history, oldest first.
    pub events: Vec<ClaimEventView>,
}

/// A page of supplier claims.
pub type ClaimToSupplierPage = crate::page::Page<ClaimToSupplierView>;

impl crate::page::Listed for ClaimToSupplierView {
    const PAGE: &'static str = "ClaimToSupplierPage";
    const PAGE_DOC: &'static str = "A page of claims to suppliers.";
    const ITEMS_DOC: &'static str = "Supplier claims, newest first.";
}

/// Filters and page of the supplier-claim list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClaimToSupplierQuery {
    /// One state.
    #[param(pattern = "^(draft|sent|accepted|rejected|credited|replaced)$")]
    pub status: Option<String>,
    /// One supplier's.
    pub supplier_id: Option<Uuid>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A supplier claim to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenClaimToSupplierRequest {
    /// The approved customer claim.
    pub warranty_claim_id: Uuid,
    /// The supplier (the one of the item's last receipt by default).
    pub supplier_id: Option<Uuid>,
    /// What the supplier should credit, MXN (the unit cost × units by default).
    #[schema(value_type = Option<crate::formats::Amount>, example = "225.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub expected_credit: Option<rust_decimal::Decimal>,
    /// Note.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// A step of a supplier claim.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimToSupplierStepRequest {
    /// A note (needed to reject).
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Credit only: what the supplier credited, MXN (the expected credit by default).
    #[schema(value_type = Option<crate::formats::Amount>, example = "225.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub credited: Option<rust_decimal::Decimal>,
}

/// One amount not recovered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimUnrecoveredView {
    /// The customer's claim.
    pub warranty_claim_id: Uuid,
    /// The supplier claim, when there is one.
    pub supplier_claim_id: Option<Uuid>,
    /// `not_claimed`, `rejected` or `awaiting_credit`.
    pub reason: String,
    /// MXN.
    #[schema(value_type = String, example = "225.00")]
    pub amount: Money,
}

/// What one supplier has not given back.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimUnrecoveredBySupplierView {
    /// The supplier; none for parts never received from one.
    pub supplier_id: Option<Uuid>,
    /// Its name.
    pub supplier_name: Option<String>,
    /// The sum, MXN.
    #[schema(value_type = String, example = "450.00")]
    pub total: Money,
    /// The claims.
    pub claims: Vec<ClaimUnrecoveredView>,
}

/// Supplier claims, newest first.
#[utoipa::path(
    get, path = "/pos/api/supplier-claims", tag = "warranties", security(("bearer" = [])),
    params(ClaimToSupplierQuery),
    responses((status = 200, body = ClaimToSupplierPage), (status = 422, body = ErrorBody))
)]
pub async fn list_supplier_claims(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<ClaimToSupplierQuery>,
) -> ApiResult<Json<ClaimToSupplierPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let status = q
        .status
        .map(|s| {
            parse_text::<Status>(
                "status",
                &s,
                "draft, sent, accepted, rejected, credited or replaced",
            )
        })
        .transpose()?;
    let rows = supplier_claims::list(
        &ctx.db,
        SupplierClaimFilter {
            status,
            supplier_id: q.supplier_id,
        },
        page,
    )
    .await?;
    Ok(Json(ClaimToSupplierPage::from_rows(rows, Into::into)))
}

async fn detail(
    db: &impl sea_orm::ConnectionTrait,
    s: supplier_claim::Model,
) -> ApiResult<ClaimToSupplierDetailView> {
    let events = entities::warranties::events_of(db, s.id).await?;
    Ok(ClaimToSupplierDetailView {
        claim: s.into(),
        events: events.into_iter().map(Into::into).collect(),
    })
}

/// Opens a claim to the supplier from an approved customer claim while the supplier's warranty
/// covered it (owner, admin, manager). Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/supplier-claims", tag = "warranties", security(("bearer" = [])),
    request_body = OpenClaimToSupplierRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, body = ClaimToSupplierDetailView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`warranty_claim_not_found`, `supplier_not_found`", body = ErrorBody),
        (status = 409, description = "`claim_not_approved`, `supplier_warranty_expired`, `supplier_claim_exists`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn open_supplier_claim(
    ctx: TenantCtx,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: OpenClaimToSupplierRequest = crate::extract::body_as(&raw)?;
    let new = NewSupplierClaim {
        warranty_claim_id: req.warranty_claim_id,
        supplier_id: req.supplier_id,
        expected_credit_cents: req
            .expected_credit
            .map(|d| Money::from_decimal("expected_credit", d).map(|m| m.0))
            .transpose()?,
        note: req.note,
    };
    let seller = ctx.seller();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "warranties.supplier_claim",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let s = supplier_claims::open(txn, &seller, new).await?;
            Ok((crate::extract::to_value(&detail(txn, s).await?)?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// Per supplier, what has not been recovered: approved customer claims never sent to the
/// supplier (at their cost), supplier claims rejected, and accepted ones not yet credited.
#[utoipa::path(
    get, path = "/pos/api/supplier-claims/unrecovered", tag = "warranties", security(("bearer" = [])),
    responses((status = 200, body = Vec<ClaimUnrecoveredBySupplierView>))
)]
pub async fn unrecovered_supplier_claims(
    ctx: TenantCtx,
) -> ApiResult<Json<Vec<ClaimUnrecoveredBySupplierView>>> {
    let rows = supplier_claims::unrecovered(&ctx.db).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ClaimUnrecoveredBySupplierView {
                supplier_id: r.supplier_id,
                supplier_name: r.supplier_name,
                total: Money(r.total_cents),
                claims: r
                    .claims
                    .into_iter()
                    .map(|c| ClaimUnrecoveredView {
                        warranty_claim_id: c.warranty_claim_id,
                        supplier_claim_id: c.supplier_claim_id,
                        reason: c.gap.as_str().to_owned(),
                        amount: Money(c.amount_cents),
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// One supplier claim with its history.
#[utoipa::path(
    get, path = "/pos/api/supplier-claims/{id}", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Supplier claim id")),
    responses((status = 200, body = ClaimToSupplierDetailView), (status = 404, body = ErrorBody))
)]
pub async fn get_supplier_claim(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ClaimToSupplierDetailView>> {
    let s = supplier_claims::get(&ctx.db, id).await?;
    Ok(Json(detail(&ctx.db, s).await?))
}

async fn take(
    ctx: &TenantCtx,
    id: Uuid,
    step: Step,
    req: ClaimToSupplierStepRequest,
) -> ApiResult<Json<ClaimToSupplierDetailView>> {
    let credited = req
        .credited
        .map(|d| Money::from_decimal("credited", d).map(|m| m.0))
        .transpose()?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let s = supplier_claims::step(&txn, &ctx.seller(), id, step, req.note, credited).await?;
    let d = detail(&txn, s).await?;
    txn.commit().await?;
    Ok(Json(d))
}

macro_rules! supplier_step {
    ($name:ident, $path:literal, $step:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
                    put, path = $path, tag = "warranties", security(("bearer" = [])),
                    params(("id" = Uuid, Path, description = "Supplier claim id")),
                    request_body = ClaimToSupplierStepRequest,
                    responses(
                        (status = 200, body = ClaimToSupplierDetailView),
                        (status = 403, body = ErrorBody),
                        (status = 404, body = ErrorBody),
                        (status = 409, description = "`invalid_transition`", body = ErrorBody),
                        (status = 422, body = ErrorBody),
                    )
                )]
        pub async fn $name(
            ctx: TenantCtx,
            AppPath(id): AppPath<Uuid>,
            AppJson(req): AppJson<ClaimToSupplierStepRequest>,
        ) -> ApiResult<Json<ClaimToSupplierDetailView>> {
            take(&ctx, id, $step, req).await
        }
    };
}

supplier_step!(
    send_supplier_claim,
    "/pos/api/supplier-claims/{id}/send",
    Step::Send,
    "Sends a draft claim to the supplier (owner, admin, manager)."
);
supplier_step!(
    accept_supplier_claim,
    "/pos/api/supplier-claims/{id}/accept",
    Step::Accept,
    "The supplier accepted a sent claim (owner, admin, manager)."
);
supplier_step!(
    reject_supplier_claim,
    "/pos/api/supplier-claims/{id}/reject",
    Step::Reject,
    "The supplier refused a sent claim; the note says why (owner, admin, manager)."
);
supplier_step!(
    credit_supplier_claim,
    "/pos/api/supplier-claims/{id}/credit",
    Step::Credit,
    "The supplier credited an accepted claim, `credited` MXN (the expected credit by default) (owner, admin, manager)."
);
supplier_step!(
    replace_supplier_claim,
    "/pos/api/supplier-claims/{id}/replace",
    Step::Replace,
    "The supplier replaced the part of an accepted claim (owner, admin, manager)."
);
