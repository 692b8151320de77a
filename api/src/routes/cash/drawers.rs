//! `/pos/api/drawers`: cash drawer sessions (corte de caja). A cashier opens a session on a
//! register with a float; cash sales, change, refunds and payments on account move money through
//! it; cash in and out is recorded with a reason; closing counts cash by denomination and the
//! other means by total, and the report shows expected against counted (an X report while open,
//! the Z report once closed). A closed session never changes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::cash::drawers::{
    self, CashMove, Closing, Count, MXN_DENOMINATIONS, OpenDrawer, Report, SessionFilter,
    USD_DENOMINATIONS,
};
use entities::cash::tables::{drawer_movement, drawer_session};
use entities::pricing::prices;
use entities::rules::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, body_as};
use crate::state::AppState;

/// The drawer routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_drawer, list_drawers))
        .routes(routes!(get_drawer))
        .routes(routes!(list_drawer_movements))
        .routes(routes!(move_drawer_cash))
        .routes(routes!(close_drawer))
}

/// `open` or `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Taking money.
    Open,
    /// Counted and closed.
    Closed,
}

impl From<drawer_session::Status> for SessionStatus {
    fn from(s: drawer_session::Status) -> Self {
        match s {
            drawer_session::Status::Open => Self::Open,
            drawer_session::Status::Closed => Self::Closed,
        }
    }
}

impl From<SessionStatus> for drawer_session::Status {
    fn from(s: SessionStatus) -> Self {
        match s {
            SessionStatus::Open => Self::Open,
            SessionStatus::Closed => Self::Closed,
        }
    }
}

/// A drawer session.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawerView {
    /// Session id.
    pub id: Uuid,
    /// The branch.
    pub branch_id: Uuid,
    /// The register of the branch.
    pub register: String,
    /// Open or closed.
    pub status: SessionStatus,
    /// Who opened it.
    pub opened_by: Uuid,
    /// When.
    pub opened_at: DateTime<Utc>,
    /// Who closed it.
    pub closed_by: Option<Uuid>,
    /// When.
    pub closed_at: Option<DateTime<Utc>>,
    /// MXN cash counted minus expected at close (negative: short).
    #[schema(value_type = Option<String>, example = "-20.00")]
    pub cash_difference: Option<Money>,
    /// Note.
    pub note: Option<String>,
}

impl From<&drawer_session::Model> for DrawerView {
    fn from(s: &drawer_session::Model) -> Self {
        Self {
            id: s.id,
            branch_id: s.branch_id,
            register: s.register.clone(),
            status: s.status.into(),
            opened_by: s.opened_by,
            opened_at: s.opened_at,
            closed_by: s.closed_by,
            closed_at: s.closed_at,
            cash_difference: s.cash_difference_cents.map(Money),
            note: s.note.clone(),
        }
    }
}

/// A page of drawer sessions.
pub type DrawerPage = crate::page::Page<DrawerView>;

impl crate::page::Listed for DrawerView {
    const PAGE: &'static str = "DrawerPage";
    const PAGE_DOC: &'static str = "A page of drawer sessions.";
    const ITEMS_DOC: &'static str = "Sessions, newest first.";
}

/// The means money moves by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeansView {
    /// MXN notes and coins.
    Cash,
    /// US dollar notes.
    UsdCash,
    /// Card terminal.
    Card,
    /// Bank transfer.
    Transfer,
}

impl From<drawer_movement::Method> for MeansView {
    fn from(m: drawer_movement::Method) -> Self {
        match m {
            drawer_movement::Method::Cash => Self::Cash,
            drawer_movement::Method::UsdCash => Self::UsdCash,
            drawer_movement::Method::Card => Self::Card,
            drawer_movement::Method::Transfer => Self::Transfer,
        }
    }
}

/// Why money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// The opening float.
    Float,
    /// A payment tendered for a sale.
    Sale,
    /// Change given back.
    Change,
    /// A refund paid back.
    Refund,
    /// A payment on a customer's account.
    AccountPayment,
    /// Cash put in by hand.
    CashIn,
    /// Cash taken out by hand.
    CashOut,
}

impl From<drawer_movement::Kind> for MovementKind {
    fn from(k: drawer_movement::Kind) -> Self {
        use drawer_movement::Kind as K;
        match k {
            K::Float => Self::Float,
            K::Sale => Self::Sale,
            K::Change => Self::Change,
            K::Refund => Self::Refund,
            K::AccountPayment => Self::AccountPayment,
            K::CashIn => Self::CashIn,
            K::CashOut => Self::CashOut,
        }
    }
}

/// One means in a report: expected from the movements, counted at close, and the difference.
#[derive(Debug, Serialize, ToSchema)]
pub struct TallyView {
    /// The means.
    pub method: MeansView,
    /// Its currency.
    #[schema(example = "MXN")]
    pub currency: String,
    /// What the movements add up to.
    #[schema(value_type = String, example = "1500.00")]
    pub expected: Money,
    /// Counted at close; absent while open or when not counted.
    #[schema(value_type = Option<String>, example = "1480.00")]
    pub counted: Option<Money>,
    /// Counted minus expected (negative: short).
    #[schema(value_type = Option<String>, example = "-20.00")]
    pub difference: Option<Money>,
}

/// Movements of one kind and means, summed.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindTotalView {
    /// Why the money moved.
    pub kind: MovementKind,
    /// The means.
    pub method: MeansView,
    /// Its currency.
    #[schema(example = "MXN")]
    pub currency: String,
    /// How many movements.
    pub count: i64,
    /// Their sum (negative: out of the drawer).
    #[schema(value_type = String, example = "1200.00")]
    pub amount: Money,
}

/// Notes or coins of one value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountView {
    /// `MXN` or `USD`.
    #[schema(example = "MXN")]
    pub currency: String,
    /// The value of one (`"500"`, `"0.50"`).
    #[schema(example = "500")]
    pub denomination: String,
    /// How many.
    #[schema(minimum = 0, maximum = 100_000)]
    pub count: i64,
}

/// Notes or coins of one value as a close counts them: `CountView` with the denominations that
/// exist in the document, per currency, so a generated client offers only those.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountRequest {
    /// `MXN` or `USD`.
    pub currency: String,
    /// The value of one (`"500"`, `"0.50"`).
    pub denomination: String,
    /// How many.
    pub count: i64,
}

/// The ways a denomination of `cents` may be written (`500`, `500.0`, `500.00`; `0.5`, `0.50`),
/// as one alternation.
fn denomination_pattern(values: &[i64]) -> String {
    let forms: Vec<String> = values
        .iter()
        .map(|v| {
            let (whole, frac) = (v / 100, v % 100);
            match frac {
                0 => format!("{whole}(\\.0{{1,2}})?"),
                f if f % 10 == 0 => format!("{whole}\\.{}0?", f / 10),
                f => format!("{whole}\\.{f:02}"),
            }
        })
        .collect();
    format!("^({})$", forms.join("|"))
}

impl utoipa::PartialSchema for CountRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
        let variant = |currency: &str, values: &[i64]| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(
                    "currency",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([currency])),
                )
                .required("currency")
                .property(
                    "denomination",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(denomination_pattern(values)))
                        .description(Some(
                            "The value of one note or coin (`\"500\"`, `\"0.50\"`).",
                        )),
                )
                .required("denomination")
                .property(
                    "count",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0))
                        .maximum(Some(100_000))
                        .description(Some("How many.")),
                )
                .required("count")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        OneOfBuilder::new()
            .item(variant("MXN", MXN_DENOMINATIONS))
            .item(variant("USD", USD_DENOMINATIONS))
            .description(Some("Notes or coins of one value and currency, counted."))
            .into()
    }
}

impl utoipa::ToSchema for CountRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("CashCountRequest")
    }
}

/// An X report (open session) or the Z report (closed): expected against counted per means, the
/// movements by kind, and the sales that went through.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawerReportView {
    /// The session.
    pub session: DrawerView,
    /// `x` while open, `z` once closed.
    #[schema(example = "x")]
    pub report: String,
    /// Cash MXN, USD cash, card and transfer.
    pub tallies: Vec<TallyView>,
    /// Sums by kind and means.
    pub by_kind: Vec<KindTotalView>,
    /// Sales that went through the session.
    pub sales: i64,
    /// The denominations counted at close.
    pub counts: Vec<CountView>,
}

impl From<Report> for DrawerReportView {
    fn from(r: Report) -> Self {
        Self {
            report: match r.session.status {
                drawer_session::Status::Open => "x",
                drawer_session::Status::Closed => "z",
            }
            .to_owned(),
            session: (&r.session).into(),
            tallies: r
                .tallies
                .iter()
                .map(|t| TallyView {
                    method: t.method.into(),
                    currency: t.currency.code().to_owned(),
                    expected: Money(t.expected),
                    counted: t.counted.map(Money),
                    difference: t.difference().map(Money),
                })
                .collect(),
            by_kind: r
                .by_kind
                .iter()
                .map(|k| KindTotalView {
                    kind: k.kind.into(),
                    method: k.method.into(),
                    currency: k.currency.code().to_owned(),
                    count: k.count,
                    amount: Money(k.amount),
                })
                .collect(),
            sales: r.sales,
            counts: r
                .counts
                .iter()
                .map(|c| CountView {
                    currency: c.currency.code().to_owned(),
                    denomination: Money(c.denomination).to_decimal().normalize().to_string(),
                    count: c.count,
                })
                .collect(),
        }
    }
}

/// A movement of money through a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementView {
    /// Movement id.
    pub id: i64,
    /// Why.
    pub kind: MovementKind,
    /// The means.
    pub method: MeansView,
    /// Its currency.
    #[schema(example = "MXN")]
    pub currency: String,
    /// Into the drawer above zero, out of it below.
    #[schema(value_type = String, example = "500.00")]
    pub amount: Money,
    /// The same in MXN.
    #[schema(value_type = String, example = "500.00")]
    pub amount_mxn: Money,
    /// The sale.
    pub sale_id: Option<Uuid>,
    /// The return.
    pub return_id: Option<Uuid>,
    /// The customer account entry of a payment on account.
    pub entry_id: Option<Uuid>,
    /// The reason of a cash in or out.
    pub reason: Option<String>,
    /// Who.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<drawer_movement::Model> for MovementView {
    fn from(m: drawer_movement::Model) -> Self {
        Self {
            id: m.id,
            kind: m.kind.into(),
            method: m.method.into(),
            currency: m.currency,
            amount: Money(m.amount_minor),
            amount_mxn: Money(m.amount_mxn_cents),
            sale_id: m.sale_id,
            return_id: m.return_id,
            entry_id: m.entry_id,
            reason: m.reason,
            created_by: m.created_by,
            created_at: m.created_at,
        }
    }
}

/// A page of movements.
pub type MovementPage = crate::page::Page<MovementView>;

impl crate::page::Listed for MovementView {
    const PAGE: &'static str = "DrawerMovementPage";
    const PAGE_DOC: &'static str = "A page of a drawer session's movements.";
    const ITEMS_DOC: &'static str = "Movements, oldest first.";
}

/// A session to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDrawerRequest {
    /// The branch.
    pub branch_id: Uuid,
    /// The register (1–40 characters); `principal` when absent.
    #[schema(min_length = 1, max_length = 40, example = "caja-1")]
    pub register: Option<String>,
    /// MXN cash in the drawer at opening (`"1000.00"`); zero when absent.
    #[schema(value_type = Option<crate::formats::Amount>, example = "1000.00")]
    pub float_mxn: Option<String>,
    /// USD cash at opening; zero when absent.
    #[schema(value_type = Option<crate::formats::Amount>, example = "0.00")]
    pub float_usd: Option<String>,
    /// Note (at most 500 characters).
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// In or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Cash put in.
    In,
    /// Cash taken out.
    Out,
}

/// Cash put in or taken out by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CashMoveRequest {
    /// In or out.
    pub direction: Direction,
    /// Amount above zero (`"200.00"`).
    #[schema(value_type = crate::formats::PositiveAmount, example = "200.00")]
    pub amount: String,
    /// `MXN` (default) or `USD`.
    #[schema(pattern = "^(MXN|USD)$", example = "MXN")]
    pub currency: Option<String>,
    /// Why (1–200 characters): a pickup to the safe, change brought in, a small expense.
    #[schema(min_length = 1, max_length = 200, example = "Retiro a caja fuerte")]
    pub reason: String,
}

/// What was counted at close.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseDrawerRequest {
    /// Cash by denomination and currency; a denomination not listed counted none.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub counts: Vec<CountRequest>,
    /// The card terminal's total; absent when not counted.
    #[schema(value_type = Option<crate::formats::Amount>, example = "2300.00")]
    pub card: Option<String>,
    /// Transfers received; absent when not counted.
    #[schema(value_type = Option<crate::formats::Amount>, example = "0.00")]
    pub transfer: Option<String>,
    /// Note (at most 500 characters).
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Filters and page of the sessions list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DrawerQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// One branch.
    pub branch_id: Option<Uuid>,
    /// Open or closed.
    #[param(inline)]
    pub status: Option<SessionStatus>,
    /// Opened by one user.
    pub opened_by: Option<Uuid>,
}

/// A page of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MovementQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

fn money_or_zero(field: &str, v: Option<&str>) -> ApiResult<Money> {
    Ok(v.map(|s| Money::parse(field, s))
        .transpose()?
        .unwrap_or(Money::ZERO))
}

fn to_body(v: &impl Serialize) -> ApiResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Opens a drawer session on a register of a branch with its float (any role that sells). One
/// open session a register, and one a user in a branch. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/drawers", tag = "drawers", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = OpenDrawerRequest,
    responses(
        (status = 201, body = DrawerReportView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Branch not found", body = ErrorBody),
        (status = 409, description = "`drawer_already_open`, `branch_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn open_drawer(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: OpenDrawerRequest = body_as(&raw)?;
    let new = OpenDrawer {
        branch_id: req.branch_id,
        register: req.register,
        float_mxn: money_or_zero("float_mxn", req.float_mxn.as_deref())?,
        float_usd: money_or_zero("float_usd", req.float_usd.as_deref())?,
        note: req.note,
    };
    let seller = ctx.seller();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "drawers.open",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let rate = prices::current_rate(txn, state.config.usd_rate).await?;
            let s = drawers::open(txn, &seller, new, rate).await?;
            let r = drawers::report(txn, &seller, s.id).await?;
            Ok((to_body(&DrawerReportView::from(r))?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// Lists drawer sessions in the caller's branches, newest first.
#[utoipa::path(
    get, path = "/pos/api/drawers", tag = "drawers", security(("bearer" = [])),
    params(DrawerQuery),
    responses(
        (status = 200, body = DrawerPage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list_drawers(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<DrawerQuery>,
) -> ApiResult<Json<DrawerPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let f = SessionFilter {
        branch_id: q.branch_id,
        status: q.status.map(Into::into),
        opened_by: q.opened_by,
    };
    let p = drawers::list(&ctx.db, &ctx.seller(), &f, page).await?;
    Ok(Json(DrawerPage::from_rows(p, |s| (&s).into())))
}

/// A session's report: the X report while it is open (what it should hold now), the Z report once
/// closed (expected against counted, frozen).
#[utoipa::path(
    get, path = "/pos/api/drawers/{id}", tag = "drawers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Drawer session id")),
    responses(
        (status = 200, body = DrawerReportView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_drawer(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<DrawerReportView>> {
    Ok(Json(
        drawers::report(&ctx.db, &ctx.seller(), id).await?.into(),
    ))
}

/// A session's movements, oldest first.
#[utoipa::path(
    get, path = "/pos/api/drawers/{id}/movements", tag = "drawers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Drawer session id"), MovementQuery),
    responses(
        (status = 200, body = MovementPage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list_drawer_movements(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<MovementQuery>,
) -> ApiResult<Json<MovementPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let p = drawers::movements(&ctx.db, &ctx.seller(), id, page).await?;
    Ok(Json(MovementPage::from_rows(p, Into::into)))
}

/// Puts cash in or takes it out of an open session with a reason (whoever opened it, or a
/// manager). Taking out more than the drawer should hold is refused. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/drawers/{id}/cash", tag = "drawers", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Drawer session id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    request_body = CashMoveRequest,
    responses(
        (status = 201, body = MovementView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`not_your_drawer`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`drawer_closed`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn move_drawer_cash(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CashMoveRequest = body_as(&raw)?;
    let mv = CashMove {
        inward: req.direction == Direction::In,
        amount: Money::parse("amount", &req.amount)?,
        currency: req
            .currency
            .as_deref()
            .map(|c| Currency::parse("currency", c))
            .transpose()?
            .unwrap_or(Currency::Mxn),
        reason: req.reason,
    };
    let seller = ctx.seller();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        &format!("drawers.cash:{id}"),
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let rate = prices::current_rate(txn, state.config.usd_rate).await?;
            let m = drawers::move_cash(txn, &seller, id, mv, rate).await?;
            Ok((to_body(&MovementView::from(m))?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// Closes a session with what was counted (whoever opened it, or a manager): cash by
/// denomination and currency, card and transfer by total. Answers the Z report; the session takes
/// no money after this. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/drawers/{id}/close", tag = "drawers", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Drawer session id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    request_body = CloseDrawerRequest,
    responses(
        (status = 200, body = DrawerReportView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`not_your_drawer`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`drawer_closed`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn close_drawer(
    ctx: TenantCtx,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CloseDrawerRequest = body_as(&raw)?;
    let counts = req
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(Count {
                currency: Currency::parse(&format!("counts[{i}].currency"), &c.currency)?,
                denomination: Money::parse(&format!("counts[{i}].denomination"), &c.denomination)?
                    .0,
                count: c.count,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let closing = Closing {
        counts,
        card: req
            .card
            .as_deref()
            .map(|s| Money::parse("card", s))
            .transpose()?,
        transfer: req
            .transfer
            .as_deref()
            .map(|s| Money::parse("transfer", s))
            .transpose()?,
        note: req.note,
    };
    let seller = ctx.seller();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        &format!("drawers.close:{id}"),
        &raw,
        StatusCode::OK,
        async |txn| {
            let r = drawers::close(txn, &seller, id, closing).await?;
            Ok((to_body(&DrawerReportView::from(r))?, ()))
        },
    )
    .await?;
    Ok(written.response())
}
