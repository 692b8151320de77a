//! `/pos/api/service-orders`: reception, the list, one order with everything on it, and
//! changes to its promised time, technician and notes.
//!
//! Every role but viewer receives vehicles and reads orders (a mechanic only theirs).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::rules::money::{Money, Totals};
use entities::workshop::orders::{self, OrderDoc, OrderFilter, OrderPatch, Reception, Status};
use entities::workshop::tables::{
    labour_entry, service_order, service_order_event, service_order_line, service_order_photo,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The order routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_service_orders, receive_service_order))
        .routes(routes!(get_service_order, update_service_order))
}

/// Where a tenant's public service-order links point.
pub(crate) fn public_url(state: &AppState, tenant_id: Uuid, token: &str) -> String {
    let path = format!("/so/{}{token}", tenant_id.simple());
    match &state.config.public_url {
        Some(b) => format!("{b}{path}"),
        None => path,
    }
}

/// Amounts of a budget or a charge.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceTotals {
    /// Sum of bases.
    #[schema(value_type = String, example = "862.07")]
    pub subtotal: Money,
    /// Sum of IVA.
    #[schema(value_type = String, example = "137.93")]
    pub tax: Money,
    /// Total, IVA included.
    #[schema(value_type = String, example = "1000.00")]
    pub total: Money,
}

impl From<Totals> for ServiceTotals {
    fn from(t: Totals) -> Self {
        Self {
            subtotal: t.subtotal,
            tax: t.tax,
            total: t.total,
        }
    }
}

/// A line of a service order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceLineView {
    /// Id.
    pub id: Uuid,
    /// Position from 1.
    pub line_no: i32,
    /// `part` or `labour`.
    pub kind: String,
    /// The part, or the labour operation (a service item).
    pub item_id: Uuid,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Where a part is held and taken from.
    pub warehouse_id: Option<Uuid>,
    /// Units (a part at `ready`: the units used).
    pub qty: i64,
    /// Labour by the hour: hours.
    #[schema(value_type = Option<String>, example = "1.50")]
    pub hours: Option<Money>,
    /// Labour by the hour: the hourly rate, IVA included.
    #[schema(value_type = Option<String>, example = "450.00")]
    pub rate: Option<Money>,
    /// Who does the labour.
    pub technician_id: Option<Uuid>,
    /// Revision and diagnosis: charged even when the budget is declined.
    pub is_diagnosis: bool,
    /// Unit price, IVA included.
    #[schema(value_type = String)]
    pub unit_price: Money,
    /// Discount.
    #[schema(value_type = String)]
    pub discount: Money,
    /// Taxable base.
    #[schema(value_type = String)]
    pub base: Money,
    /// IVA.
    #[schema(value_type = String)]
    pub tax: Money,
    /// Total.
    #[schema(value_type = String)]
    pub total: Money,
    /// The budget version it went out with (1 the first budget, more for supplements).
    pub version: i32,
    /// `proposed`, `approved`, `declined` or `removed`.
    pub status: String,
    /// Units held in stock for the order.
    pub reserved_qty: i64,
    /// Units taken from stock at `ready`.
    pub used_qty: i64,
    /// Units held and not used, given back at `ready`.
    pub returned_qty: i64,
}

impl From<&service_order_line::Model> for ServiceLineView {
    fn from(l: &service_order_line::Model) -> Self {
        Self {
            id: l.id,
            line_no: l.line_no,
            kind: l.kind.to_string(),
            item_id: l.item_id,
            sku: l.sku.clone(),
            name: l.name.clone(),
            warehouse_id: l.warehouse_id,
            qty: l.qty,
            hours: l.hours_hundredths.map(Money),
            rate: l.rate_cents.map(Money),
            technician_id: l.technician_id,
            is_diagnosis: l.is_diagnosis,
            unit_price: Money(l.unit_price_cents),
            discount: Money(l.discount_cents),
            base: Money(l.base_cents),
            tax: Money(l.tax_cents),
            total: Money(l.total_cents),
            version: l.version,
            status: l.status.to_string(),
            reserved_qty: l.reserved_qty,
            used_qty: l.used_qty,
            returned_qty: l.returned_qty,
        }
    }
}

/// One row of an order's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceEventView {
    /// `status`, `approval`, `line`, `supplement`, `update`, `labour` or `photo`.
    pub kind: String,
    /// The state before.
    pub from: Option<String>,
    /// The state after.
    pub to: Option<String>,
    /// The user.
    pub actor_id: Option<Uuid>,
    /// Who, when not a user (the customer through the link).
    pub actor_name: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// What changed.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<&service_order_event::Model> for ServiceEventView {
    fn from(e: &service_order_event::Model) -> Self {
        Self {
            kind: e.kind.clone(),
            from: e.from_status.clone(),
            to: e.to_status.clone(),
            actor_id: e.actor_id,
            actor_name: e.actor_name.clone(),
            note: e.note.clone(),
            details: e
                .details
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
            at: e.created_at,
        }
    }
}

/// A photo of an order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServicePhotoView {
    /// Id (read it at `…/photos/{photo_id}`).
    pub id: Uuid,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// Size.
    pub bytes: i64,
    /// Caption.
    pub caption: Option<String>,
    /// Taken.
    pub created_at: DateTime<Utc>,
}

impl From<&service_order_photo::Model> for ServicePhotoView {
    fn from(p: &service_order_photo::Model) -> Self {
        Self {
            id: p.id,
            content_type: p.content_type.clone(),
            bytes: p.bytes,
            caption: p.caption.clone(),
            created_at: p.created_at,
        }
    }
}

/// Time a technician logged.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabourTimeView {
    /// Id.
    pub id: Uuid,
    /// The labour line.
    pub line_id: Uuid,
    /// The technician.
    pub technician_id: Uuid,
    /// Minutes.
    pub minutes: i64,
    /// The day worked.
    pub worked_on: chrono::NaiveDate,
    /// Note.
    pub note: Option<String>,
}

impl From<&labour_entry::Model> for LabourTimeView {
    fn from(e: &labour_entry::Model) -> Self {
        Self {
            id: e.id,
            line_id: e.line_id,
            technician_id: e.technician_id,
            minutes: e.minutes,
            worked_on: e.worked_on,
            note: e.note.clone(),
        }
    }
}

/// A service order as listed and on the kanban's cards.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOrderSummary {
    /// Id.
    pub id: Uuid,
    /// Folio, e.g. `OS-MTY-01-000012`.
    pub folio: String,
    /// Branch.
    pub branch_id: Uuid,
    /// Customer.
    pub customer_id: Uuid,
    /// Registered vehicle.
    pub vehicle_id: Option<Uuid>,
    /// Plate.
    pub plate: Option<String>,
    /// VIN.
    pub vin: Option<String>,
    /// Year, make and model.
    pub vehicle_label: Option<String>,
    /// `received`, `diagnosing`, `awaiting_approval`, `waiting_parts`, `in_repair`,
    /// `quality_check`, `ready`, `delivered`, `declined` or `cancelled`.
    pub status: String,
    /// Promised for.
    pub promised_at: Option<DateTime<Utc>>,
    /// Past its promised time and not ready.
    pub late: bool,
    /// The technician in charge.
    pub assigned_to: Option<Uuid>,
    /// Received.
    pub created_at: DateTime<Utc>,
}

impl ServiceOrderSummary {
    /// The summary of an order, late or not at `now`.
    #[must_use]
    pub fn of(o: &service_order::Model, now: DateTime<Utc>) -> Self {
        Self {
            id: o.id,
            folio: o.folio.clone(),
            branch_id: o.branch_id,
            customer_id: o.customer_id,
            vehicle_id: o.vehicle_id,
            plate: o.plate.clone(),
            vin: o.vin.clone(),
            vehicle_label: o.vehicle_label.clone(),
            status: o.status.to_string(),
            promised_at: o.promised_at,
            late: orders::is_late(o, now),
            assigned_to: o.assigned_to,
            created_at: o.created_at,
        }
    }
}

/// A service order with its reception record, lines, history, photos and time.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOrderView {
    /// The order.
    #[serde(flatten)]
    pub summary: ServiceOrderSummary,
    /// Odometer at reception, km.
    pub odometer_km: Option<i64>,
    /// Fuel at reception, eighths of a tank.
    pub fuel_eighths: Option<i32>,
    /// The accessories checklist: name → present.
    pub accessories: BTreeMap<String, bool>,
    /// What the customer says is wrong.
    pub complaint: String,
    /// The customer accepts used or rebuilt parts.
    pub accepts_used_parts: bool,
    /// The customer's price list.
    pub price_list: String,
    /// The budget version last sent for approval.
    pub budget_version: i32,
    /// The last version approved.
    pub approved_version: i32,
    /// When, by whom and how the last approval came.
    pub approved_at: Option<DateTime<Utc>>,
    /// Who approved.
    pub approved_by: Option<String>,
    /// `in_person`, `phone`, `whatsapp`, `signature` or `link`.
    pub approval_channel: Option<String>,
    /// The public link where the customer reads and answers the budget.
    pub public_url: String,
    /// Proposed and approved lines.
    pub budget: ServiceTotals,
    /// What delivery charges (or charged).
    pub charged: ServiceTotals,
    /// The sale that charged it.
    pub sale_id: Option<Uuid>,
    /// Notes.
    pub notes: Option<String>,
    /// Ready for the customer.
    pub ready_at: Option<DateTime<Utc>>,
    /// Handed over.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Lines.
    pub lines: Vec<ServiceLineView>,
    /// History, oldest first.
    pub events: Vec<ServiceEventView>,
    /// Photos.
    pub photos: Vec<ServicePhotoView>,
    /// Time logged.
    pub labour: Vec<LabourTimeView>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl ServiceOrderView {
    /// The view of an order document.
    pub(crate) fn of(state: &AppState, tenant_id: Uuid, d: &OrderDoc) -> Self {
        let o = &d.order;
        Self {
            summary: ServiceOrderSummary::of(o, entities::now()),
            odometer_km: o.odometer_km,
            fuel_eighths: o.fuel_eighths,
            accessories: serde_json::from_str(&o.accessories).unwrap_or_default(),
            complaint: o.complaint.clone(),
            accepts_used_parts: o.accepts_used_parts,
            price_list: o.price_list.clone(),
            budget_version: o.budget_version,
            approved_version: o.approved_version,
            approved_at: o.approved_at,
            approved_by: o.approved_by.clone(),
            approval_channel: o.approval_channel.map(|c| c.to_string()),
            public_url: public_url(state, tenant_id, &o.token),
            budget: d.budget().into(),
            charged: d.charged().into(),
            sale_id: o.sale_id,
            notes: o.notes.clone(),
            ready_at: o.ready_at,
            delivered_at: o.delivered_at,
            lines: d.lines.iter().map(Into::into).collect(),
            events: d.events.iter().map(Into::into).collect(),
            photos: d.photos.iter().map(Into::into).collect(),
            labour: d.labour.iter().map(Into::into).collect(),
            updated_at: o.updated_at,
        }
    }
}

/// A page of service orders.
pub type ServiceOrderPage = crate::page::Page<ServiceOrderSummary>;

impl crate::page::Listed for ServiceOrderSummary {
    const PAGE: &'static str = "ServiceOrderPage";
    const PAGE_DOC: &'static str = "A page of service orders.";
    const ITEMS_DOC: &'static str = "Service orders, newest first.";
}

/// Filters and page of the order list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ServiceOrderQuery {
    /// One state.
    #[param(
        pattern = "^(received|diagnosing|awaiting_approval|waiting_parts|in_repair|quality_check|ready|delivered|declined|cancelled)$"
    )]
    pub status: Option<String>,
    /// One branch.
    pub branch_id: Option<Uuid>,
    /// One customer.
    pub customer_id: Option<Uuid>,
    /// One registered vehicle.
    pub vehicle_id: Option<Uuid>,
    /// One technician.
    pub assigned_to: Option<Uuid>,
    /// Only those past their promised time and not ready.
    pub late: Option<bool>,
    /// Folio or plate contains.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// Parses a state name.
pub(crate) fn status(s: &str) -> Result<Status, entities::Error> {
    s.parse::<Status>()
        .map_err(|_| entities::Error::validation("status", "not a service order state"))
}

/// Service orders, newest first (a mechanic's own only).
#[utoipa::path(
    get, path = "/pos/api/service-orders", tag = "workshop", security(("bearer" = [])),
    params(ServiceOrderQuery),
    responses((status = 200, body = ServiceOrderPage), (status = 422, body = ErrorBody))
)]
pub async fn list_service_orders(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<ServiceOrderQuery>,
) -> ApiResult<Json<ServiceOrderPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = orders::list(
        &ctx.db,
        &ctx.seller(),
        OrderFilter {
            status: q.status.as_deref().map(status).transpose()?,
            branch_id: q.branch_id,
            customer_id: q.customer_id,
            vehicle_id: q.vehicle_id,
            assigned_to: q.assigned_to,
            late: q.late.unwrap_or(false),
            q: q.q,
        },
        page,
    )
    .await?;
    let now = entities::now();
    Ok(Json(ServiceOrderPage::from_rows(rows, |o| {
        ServiceOrderSummary::of(&o, now)
    })))
}

/// A vehicle checked in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveRequestBody {
    /// The branch whose workshop takes it.
    pub branch_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// A registered vehicle.
    pub vehicle_id: Option<Uuid>,
    /// Or its plate.
    #[schema(max_length = 16)]
    pub plate: Option<String>,
    /// Or its VIN.
    #[schema(max_length = 17)]
    pub vin: Option<String>,
    /// Year, make and model when not registered.
    #[schema(max_length = 200)]
    pub vehicle_label: Option<String>,
    /// Odometer, km.
    #[schema(minimum = 0, maximum = 3_000_000)]
    pub odometer_km: Option<i64>,
    /// Fuel, eighths of a tank (0–8).
    #[schema(minimum = 0, maximum = 8)]
    pub fuel_eighths: Option<i32>,
    /// Accessories checklist: name → present (spare tyre, jack, radio…).
    #[serde(default)]
    pub accessories: BTreeMap<String, bool>,
    /// What the customer says is wrong.
    #[schema(min_length = 1, max_length = 2000)]
    pub complaint: String,
    /// Promised for.
    pub promised_at: Option<DateTime<Utc>>,
    /// The customer accepts used or rebuilt parts (PROFECO's consent box).
    #[serde(default)]
    pub accepts_used_parts: bool,
    /// The technician in charge (a member of the business).
    pub assigned_to: Option<Uuid>,
    /// Notes.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// Checks that a user is a member of this business (a technician assigned to an order).
pub(crate) async fn check_member(
    state: &AppState,
    ctx: &TenantCtx,
    field: &str,
    user: Option<Uuid>,
) -> ApiResult<()> {
    if let Some(u) = user {
        use entities::org::tables::membership;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let member = membership::Entity::find()
            .filter(membership::Column::UserId.eq(u))
            .filter(membership::Column::TenantId.eq(ctx.principal.tenant.id))
            .filter(membership::Column::DisabledAt.is_null())
            .one(&state.platform)
            .await?;
        if member.is_none() {
            return Err(entities::Error::validation(field, "not a member of this business").into());
        }
    }
    Ok(())
}

/// Receives a vehicle (all but viewer): the reception record and the first history row.
#[utoipa::path(
    post, path = "/pos/api/service-orders", tag = "workshop", security(("bearer" = [])),
    request_body = ReceiveRequestBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second order")),
    responses(
        (status = 201, body = ServiceOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`branch_not_found`, `customer_not_found`, `vehicle_not_found`", body = ErrorBody),
        (status = 409, description = "`customer_inactive`, `branch_inactive`, `vehicle_of_another_customer`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn receive_service_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: ReceiveRequestBody = crate::extract::body_as(&raw)?;
    check_member(&state, &ctx, "assigned_to", req.assigned_to).await?;
    let r = Reception {
        branch_id: req.branch_id,
        customer_id: req.customer_id,
        vehicle_id: req.vehicle_id,
        plate: req.plate,
        vin: req.vin,
        vehicle_label: req.vehicle_label,
        odometer_km: req.odometer_km,
        fuel_eighths: req.fuel_eighths,
        accessories: req.accessories,
        complaint: req.complaint,
        promised_at: req.promised_at,
        accepts_used_parts: req.accepts_used_parts,
        assigned_to: req.assigned_to,
        notes: req.notes,
    };
    let seller = ctx.seller();
    let tenant = ctx.principal.tenant.id;
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "workshop.receive",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let o = orders::receive(txn, &seller, r).await?;
            let d = orders::get(txn, &seller, o.id).await?;
            Ok((
                crate::extract::to_value(&ServiceOrderView::of(&state, tenant, &d))?,
                (),
            ))
        },
    )
    .await?;
    Ok(written.response())
}

/// One service order with its lines, history, photos and time.
#[utoipa::path(
    get, path = "/pos/api/service-orders/{id}", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service order id")),
    responses((status = 200, body = ServiceOrderView), (status = 404, body = ErrorBody))
)]
pub async fn get_service_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ServiceOrderView>> {
    let d = orders::get(&ctx.db, &ctx.seller(), id).await?;
    Ok(Json(ServiceOrderView::of(
        &state,
        ctx.principal.tenant.id,
        &d,
    )))
}

/// Changes to an order; absent fields stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceOrderRequest {
    /// New promised time or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub promised_at: Option<Option<DateTime<Utc>>>,
    /// New technician or `null` (managers).
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub assigned_to: Option<Option<Uuid>>,
    /// New notes or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<Option<String>>,
}

/// Changes the promised time, the technician (managers) or the notes of an order not
/// finished.
#[utoipa::path(
    patch, path = "/pos/api/service-orders/{id}", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service order id")),
    request_body = UpdateServiceOrderRequest,
    responses(
        (status = 200, body = ServiceOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition` on a finished order", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_service_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateServiceOrderRequest>,
) -> ApiResult<Json<ServiceOrderView>> {
    if let Some(t) = req.assigned_to {
        check_member(&state, &ctx, "assigned_to", t).await?;
    }
    let seller = ctx.seller();
    let txn = entities::db::begin_write(&ctx.db).await?;
    orders::update(
        &txn,
        &seller,
        id,
        OrderPatch {
            promised_at: req.promised_at,
            assigned_to: req.assigned_to,
            notes: req.notes,
        },
    )
    .await?;
    let d = orders::get(&txn, &seller, id).await?;
    txn.commit().await?;
    Ok(Json(ServiceOrderView::of(
        &state,
        ctx.principal.tenant.id,
        &d,
    )))
}
