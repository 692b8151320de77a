//! `/pos/api/service-orders/{id}/{action}`: the moves of the state machine, and delivery,
//! which charges the order through the counter.
//!
//! Approving, declining, cancelling and delivering: the roles that sell (the customer's word
//! is taken at the counter). The workshop's moves (diagnose, submit, repair, check, rework,
//! ready): every role but viewer, a mechanic on their own orders.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use entities::workshop::delivery::{self, Delivery};
use entities::workshop::flow::Action;
use entities::workshop::orders::{self, ActInput, Channel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::routes::counter::sales::{PaymentRequest, SaleView, payments};
use crate::routes::workshop::orders::ServiceOrderView;
use crate::state::AppState;

/// The action routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(diagnose_service_order))
        .routes(routes!(submit_service_order))
        .routes(routes!(approve_service_order))
        .routes(routes!(decline_service_order))
        .routes(routes!(repair_service_order))
        .routes(routes!(check_service_order))
        .routes(routes!(rework_service_order))
        .routes(routes!(ready_service_order))
        .routes(routes!(cancel_service_order))
        .routes(routes!(deliver_service_order))
}

/// A note for the history.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceNoteRequest {
    /// Note (a reason to cancel, what the check found…).
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

async fn act(
    state: &AppState,
    ctx: &TenantCtx,
    id: Uuid,
    action: Action,
    input: ActInput,
) -> ApiResult<Json<ServiceOrderView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let d = orders::act(&txn, &ctx.seller(), id, action, input).await?;
    txn.commit().await?;
    Ok(Json(ServiceOrderView::of(
        state,
        ctx.principal.tenant.id,
        &d,
    )))
}

fn noted(req: ServiceNoteRequest) -> ActInput {
    ActInput {
        note: req.note,
        ..ActInput::default()
    }
}

macro_rules! note_action {
    ($name:ident, $path:literal, $action:expr, $doc:literal, $conflicts:literal) => {
        #[doc = $doc]
        #[utoipa::path(
                                    post, path = $path, tag = "workshop", security(("bearer" = [])),
                                    params(("id" = Uuid, Path, description = "Service order id")),
                                    request_body(content = Option<ServiceNoteRequest>),
                                    responses(
                                        (status = 200, body = ServiceOrderView),
                                        (status = 403, body = ErrorBody),
                                        (status = 404, body = ErrorBody),
                                        (status = 409, description = $conflicts, body = ErrorBody),
                                        (status = 422, body = ErrorBody),
                                    )
                                )]
        pub async fn $name(
            ctx: TenantCtx,
            State(state): State<AppState>,
            AppPath(id): AppPath<Uuid>,
            body: axum::body::Bytes,
        ) -> ApiResult<Json<ServiceOrderView>> {
            let req: ServiceNoteRequest = crate::extract::optional_body(&body)?;
            act(&state, &ctx, id, $action, noted(req)).await
        }
    };
}

note_action!(
    diagnose_service_order,
    "/pos/api/service-orders/{id}/diagnose",
    Action::Diagnose,
    "Starts the diagnosis of a received order.",
    "`invalid_transition`"
);
note_action!(
    submit_service_order,
    "/pos/api/service-orders/{id}/submit",
    Action::Submit,
    "Sends the budget, or a supplement, for the customer's approval: the order waits in `awaiting_approval` and the customer's notification (with the public link) is recorded.",
    "`invalid_transition`, `nothing_to_approve`"
);
note_action!(
    repair_service_order,
    "/pos/api/service-orders/{id}/repair",
    Action::Repair,
    "Starts the repair of an order waiting for parts, once every approved part can be held.",
    "`invalid_transition`, `parts_missing`, `supplement_pending`"
);
note_action!(
    check_service_order,
    "/pos/api/service-orders/{id}/check",
    Action::Check,
    "Repaired: the order goes to quality check.",
    "`invalid_transition`, `supplement_pending`"
);
note_action!(
    rework_service_order,
    "/pos/api/service-orders/{id}/rework",
    Action::Rework,
    "The check failed: back to the repair.",
    "`invalid_transition`, `supplement_pending`"
);
note_action!(
    decline_service_order,
    "/pos/api/service-orders/{id}/decline",
    Action::Decline,
    "The customer declined (owner, admin, manager, cashier): a declined budget leaves the order `declined`, charging the diagnosis only at delivery; a declined supplement drops its lines and the approved work goes on.",
    "`invalid_transition`"
);
note_action!(
    cancel_service_order,
    "/pos/api/service-orders/{id}/cancel",
    Action::Cancel,
    "Cancels an order before it is ready (owner, admin, manager, cashier): every unit held for it goes back to the stock.",
    "`invalid_transition`"
);

/// The customer's yes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveServiceRequest {
    /// Who approved (the customer's name).
    #[schema(min_length = 1, max_length = 200)]
    pub by: String,
    /// How it came: `in_person`, `phone`, `whatsapp` or `signature`.
    #[schema(pattern = "^(in_person|phone|whatsapp|signature)$")]
    pub channel: String,
    /// Note.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// Records the customer's approval of the budget or supplement (owner, admin, manager,
/// cashier): its parts are held in stock, and the order goes to `in_repair`, or to
/// `waiting_parts` while some part is short.
#[utoipa::path(
    post, path = "/pos/api/service-orders/{id}/approve", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service order id")),
    request_body = ApproveServiceRequest,
    responses(
        (status = 200, body = ServiceOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn approve_service_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<ApproveServiceRequest>,
) -> ApiResult<Json<ServiceOrderView>> {
    let channel = req
        .channel
        .parse::<Channel>()
        .ok()
        .filter(|c| *c != Channel::Link)
        .ok_or_else(|| {
            entities::Error::validation(
                "channel",
                "channel is in_person, phone, whatsapp or signature",
            )
        })?;
    let input = ActInput {
        note: req.note,
        channel: Some(channel),
        by: Some(req.by),
        used: Vec::new(),
    };
    act(&state, &ctx, id, Action::Approve, input).await
}

/// Units used of a part line when fewer than held.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsedPart {
    /// The part line.
    pub line_id: Uuid,
    /// Units used (0 to the units held).
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub qty: i64,
}

/// Ready for the customer.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadyServiceRequest {
    /// Part lines used in part: the rest goes back to the stock. Lines not named were used
    /// whole.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub used: Vec<UsedPart>,
    /// Note.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// Checked and ready: the parts used leave the stock through the ledger, what was held and not
/// used goes back, and the customer's notification is recorded.
#[utoipa::path(
    post, path = "/pos/api/service-orders/{id}/ready", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service order id")),
    request_body(content = Option<ReadyServiceRequest>),
    responses(
        (status = 200, body = ServiceOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`, `supplement_pending`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn ready_service_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ServiceOrderView>> {
    let req: ReadyServiceRequest = crate::extract::optional_body(&body)?;
    let input = ActInput {
        note: req.note,
        used: req.used.iter().map(|u| (u.line_id, u.qty)).collect(),
        ..ActInput::default()
    };
    act(&state, &ctx, id, Action::Ready, input).await
}

/// How the order is paid at delivery.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverServiceRequest {
    /// Payments, as at the counter (none when nothing is charged).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub payments: Vec<PaymentRequest>,
    /// The drawer session the money goes through; your own open one in the branch when absent.
    pub drawer_session_id: Option<Uuid>,
    /// Note on the sale.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// A delivered order and the sale that charged it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveredView {
    /// The order.
    pub order: ServiceOrderView,
    /// The sale (none when nothing was charged): invoice it as any sale.
    pub sale: Option<SaleView>,
}

/// Charges and hands over a `ready` order, or a `declined` one for its diagnosis (owner, admin,
/// manager, cashier): one sale through the counter's path (payments, drawer, the customer's
/// account), its lines the parts used and the labour, each its own concept on the invoice.
#[utoipa::path(
    post, path = "/pos/api/service-orders/{id}/deliver", tag = "workshop", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Service order id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second charge"),
    ),
    request_body = DeliverServiceRequest,
    responses(
        (status = 200, body = DeliveredView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`, `credit_limit_exceeded`, `store_credit_insufficient`, `points_insufficient`, `drawer_not_open`, `drawer_closed`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn deliver_service_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: DeliverServiceRequest = crate::extract::body_as(&raw)?;
    let d = Delivery {
        payments: payments(&req.payments)?,
        drawer_session_id: req.drawer_session_id,
        note: req.note,
    };
    let seller = ctx.seller();
    let tenant_id = ctx.principal.tenant.id;
    let default_rate = state.config.usd_rate;
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        &format!("workshop.deliver:{id}"),
        &raw,
        StatusCode::OK,
        async |txn| {
            let done = delivery::deliver(txn, &seller, id, d, default_rate).await?;
            if let Some(s) = &done.sale {
                jobs::outbox::enqueue(
                    txn,
                    &jobs::counter::SaleCompleted {
                        tenant_id,
                        sale_id: s.sale.id,
                    },
                )
                .await?;
            }
            let view = DeliveredView {
                order: ServiceOrderView::of(&state, tenant_id, &done.doc),
                sale: done.sale.as_ref().map(SaleView::from),
            };
            Ok((crate::extract::to_value(&view)?, ()))
        },
    )
    .await?;
    state.waker.wake(tenant_id);
    Ok(written.response())
}
