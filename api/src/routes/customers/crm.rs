//! The CRM around the customer record: tags (`/customers/{id}/tags`, `/crm/tags`), activities
//! and tasks (`/customers/{id}/activities`, `/crm/tasks`), the timeline
//! (`/customers/{id}/timeline`) and saved segments (`/crm/segments`).
//!
//! Everyone reads; every role but viewer tags customers and records activities; segments, which
//! campaigns and exports use, are for managers and up.

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::customers::activities::{self, NewActivity, TaskFilter};
use entities::customers::segments::{self, Rules};
use entities::customers::tables::{activity, customer_stat, segment};
use entities::customers::{analytics, tags, timeline};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::customers::records::{CustomerPage, CustomerView};
use crate::state::AppState;

/// The CRM routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customer_tags, set_customer_tags))
        .routes(routes!(tag_counts))
        .routes(routes!(list_activities, create_activity))
        .routes(routes!(update_activity))
        .routes(routes!(list_tasks))
        .routes(routes!(customer_timeline))
        .routes(routes!(list_segments, create_segment))
        .routes(routes!(get_segment, update_segment, delete_segment))
        .routes(routes!(segment_customers))
        .routes(routes!(preview_segment))
        .routes(routes!(customer_analytics))
        .routes(routes!(business_analytics))
}

/// A customer's tags.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagsBody {
    /// Tags as first written, by their folded form.
    pub tags: Vec<String>,
}

/// One tag as written: 1 to 40 characters, not blank (matched without case or accents). Only
/// its schema is used: the request reads plain strings.
pub struct TagText;

impl utoipa::PartialSchema for TagText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(40))
            .pattern(Some("\\S"))
            .description(Some("A tag as written, matched without case or accents."))
            .into()
    }
}

impl ToSchema for TagText {}

/// The tags a customer should carry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTagsRequest {
    /// At most 30; the same tag twice (folded) counts once.
    #[schema(max_items = 30, value_type = Vec<TagText>)]
    pub tags: Vec<String>,
}

/// A customer's tags.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/tags", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = TagsBody), (status = 404, body = ErrorBody))
)]
pub async fn customer_tags(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<TagsBody>> {
    entities::customers::records::get_customer(&ctx.db, id).await?;
    Ok(Json(TagsBody {
        tags: tags::of_customer(&ctx.db, id).await?,
    }))
}

/// Sets a customer's tags (adds the new, removes the missing); audited.
#[utoipa::path(
    put, path = "/pos/api/customers/{id}/tags", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = SetTagsRequest,
    responses((status = 200, body = TagsBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn set_customer_tags(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<SetTagsRequest>,
) -> ApiResult<Json<TagsBody>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let tags = tags::set(&txn, &ctx.actor(), id, &req.tags).await?;
    txn.commit().await?;
    Ok(Json(TagsBody { tags }))
}

/// A tag in use.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagCountView {
    /// The tag, folded.
    pub tag: String,
    /// Customers carrying it.
    pub customers: i64,
}

/// Tags in use with how many customers carry each, most used first (up to 500).
#[utoipa::path(
    get, path = "/pos/api/crm/tags", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = Vec<TagCountView>), (status = 401, body = ErrorBody))
)]
pub async fn tag_counts(ctx: TenantCtx) -> ApiResult<Json<Vec<TagCountView>>> {
    Ok(Json(
        tags::counts(&ctx.db)
            .await?
            .into_iter()
            .map(|t| TagCountView {
                tag: t.tag,
                customers: t.customers,
            })
            .collect(),
    ))
}

/// An activity on a customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityView {
    /// Activity id.
    pub id: Uuid,
    /// Customer id.
    pub customer_id: Uuid,
    /// `call`, `visit`, `note` or `task`.
    pub kind: String,
    /// One line.
    pub subject: String,
    /// Detail.
    pub body: Option<String>,
    /// Tasks: the day due.
    pub due_on: Option<NaiveDate>,
    /// Tasks: who does it.
    pub owner_id: Option<Uuid>,
    /// Tasks: when marked done.
    pub done_at: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub created_by: Option<Uuid>,
    /// Recorded.
    pub created_at: DateTime<Utc>,
}

impl From<activity::Model> for ActivityView {
    fn from(a: activity::Model) -> Self {
        Self {
            id: a.id,
            customer_id: a.customer_id,
            kind: a.kind.as_str().to_owned(),
            subject: a.subject,
            body: a.body,
            due_on: a.due_on,
            owner_id: a.owner_id,
            done_at: a.done_at,
            created_by: a.created_by,
            created_at: a.created_at,
        }
    }
}

/// A page of activities.
pub type ActivityPage = crate::page::Page<ActivityView>;

impl crate::page::Listed for ActivityView {
    const PAGE: &'static str = "ActivityPage";
    const PAGE_DOC: &'static str = "A page of customer activities.";
    const ITEMS_DOC: &'static str = "Activities.";
}

/// A new activity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateActivityRequest {
    /// `call`, `visit`, `note` or `task`.
    #[schema(pattern = "^(call|visit|note|task)$", example = "task")]
    pub kind: String,
    /// One line.
    #[schema(min_length = 1, max_length = 200)]
    pub subject: String,
    /// Detail.
    #[schema(max_length = 5000)]
    pub body: Option<String>,
    /// Tasks (required for them): the day due.
    pub due_on: Option<NaiveDate>,
    /// Tasks: who does it (the caller when absent).
    pub owner_id: Option<Uuid>,
}

fn kind_of(kind: &str) -> ApiResult<activity::Kind> {
    Ok(match kind {
        "call" => activity::Kind::Call,
        "visit" => activity::Kind::Visit,
        "note" => activity::Kind::Note,
        "task" => activity::Kind::Task,
        _ => {
            return Err(
                entities::Error::validation("kind", "kind is call, visit, note or task").into(),
            );
        }
    })
}

/// Records a call, visit, note or task on a customer; audited. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/customers/{id}/activities", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = CreateActivityRequest,
    responses((status = 201, body = ActivityView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn create_activity(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: CreateActivityRequest = crate::extract::body_as(&raw)?;
    let new = NewActivity {
        kind: kind_of(&req.kind)?,
        subject: req.subject,
        body: req.body,
        due_on: req.due_on,
        owner_id: req.owner_id,
    };
    let actor = ctx.actor();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        &format!("customers.activity:{id}"),
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let a = activities::create(txn, &actor, id, new).await?;
            Ok((crate::extract::to_value(&ActivityView::from(a))?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// A customer's activities, newest first.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/activities", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"), PageQuery),
    responses((status = 200, body = ActivityPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_activities(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<ActivityPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = activities::of_customer(&ctx.db, id, page).await?;
    Ok(Json(ActivityPage::from_rows(rows, Into::into)))
}

/// Marks a task done or open again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateActivityRequest {
    /// Done (`true`) or open again (`false`).
    pub done: bool,
}

/// Marks a task done or open again; audited.
#[utoipa::path(
    patch, path = "/pos/api/customers/{id}/activities/{activity_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"), ("activity_id" = Uuid, Path, description = "Activity id")),
    request_body = UpdateActivityRequest,
    responses((status = 200, body = ActivityView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`not_a_task`", body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update_activity(
    ctx: TenantCtx,
    AppPath((id, activity_id)): AppPath<(Uuid, Uuid)>,
    AppJson(req): AppJson<UpdateActivityRequest>,
) -> ApiResult<Json<ActivityView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let a = activities::set_done(&txn, &ctx.actor(), id, activity_id, req.done).await?;
    txn.commit().await?;
    Ok(Json(a.into()))
}

/// Filters of the task list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// Page from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size (≤ 200).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Whose tasks: `me` (default), `all`, or a user id.
    #[param(
        pattern = "^(me|all|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    pub owner: Option<String>,
    /// Due on or before this day; `today` (the default) lists what is due today and overdue.
    pub due_by: Option<NaiveDate>,
    /// Include tasks already done (default `false`).
    pub include_done: Option<bool>,
}

/// Tasks due today and overdue for the caller (or as filtered), by due date.
#[utoipa::path(
    get, path = "/pos/api/crm/tasks", tag = "customers", security(("bearer" = [])),
    params(TaskQuery),
    responses((status = 200, body = ActivityPage), (status = 422, body = ErrorBody))
)]
pub async fn list_tasks(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<TaskQuery>,
) -> ApiResult<Json<ActivityPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let owner_id =
        match q.owner.as_deref() {
            None | Some("me") => Some(ctx.principal.user_id),
            Some("all") => None,
            Some(other) => Some(Uuid::parse_str(other).map_err(|_| {
                entities::Error::validation("owner", "owner is me, all or a user id")
            })?),
        };
    let rows = activities::tasks(
        &ctx.db,
        &TaskFilter {
            owner_id,
            due_by: Some(q.due_by.unwrap_or_else(entities::today)),
            open: !q.include_done.unwrap_or(false),
        },
        page,
    )
    .await?;
    Ok(Json(ActivityPage::from_rows(rows, Into::into)))
}

/// An event of a customer's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEventView {
    /// `sale`, `quote`, `invoice`, `service_order`, `payment`, `call`, `visit`, `note` or
    /// `task`.
    pub kind: String,
    /// The document's or activity's id.
    pub id: Uuid,
    /// Folio, invoice series and number, payment reference or subject.
    pub title: String,
    /// The document's status, the payment's method, or `open`/`done` for a task.
    pub status: String,
    /// Total or payment, MXN; absent for activities and service orders.
    #[schema(value_type = Option<String>, example = "1250.00")]
    pub amount: Option<Money>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A page of a customer's timeline.
pub type TimelinePage = crate::page::Page<TimelineEventView>;

impl crate::page::Listed for TimelineEventView {
    const PAGE: &'static str = "TimelinePage";
    const PAGE_DOC: &'static str = "A page of a customer's timeline.";
    const ITEMS_DOC: &'static str = "Events, newest first.";
}

/// Page and filters of the timeline.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    /// Page from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size (≤ 200).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Comma-separated kinds (`sale,payment`); all when absent.
    #[param(
        pattern = "^((sale|quote|invoice|service_order|payment|call|visit|note|task)(,(sale|quote|invoice|service_order|payment|call|visit|note|task))*)?$"
    )]
    pub kinds: Option<String>,
    /// At or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// A customer's sales, quotes, invoices, service orders, payments and activities in one feed,
/// newest first.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/timeline", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"), TimelineQuery),
    responses((status = 200, body = TimelinePage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn customer_timeline(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<TimelineQuery>,
) -> ApiResult<Json<TimelinePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let kinds = q
        .kinds
        .map(|k| {
            k.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let rows = timeline::feed(
        &ctx.db,
        id,
        &timeline::Filter {
            kinds,
            from: q.from,
            to: q.to,
        },
        page,
    )
    .await?;
    Ok(Json(TimelinePage::from_rows(rows, |e| TimelineEventView {
        kind: e.kind,
        id: e.id,
        title: e.title,
        status: e.status,
        amount: e.amount_cents.map(Money),
        at: e.at,
    })))
}

/// A segment's rules: a customer matches when every rule given holds.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentRulesBody {
    /// Spent at least this (sales less refunds, MXN) in the last `spent_days`.
    #[schema(value_type = Option<crate::formats::Amount>, example = "5000.00")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_min: Option<String>,
    /// The window of `spent_min`, 1 to 3650 days (365 by default).
    #[schema(minimum = 1, maximum = 3650)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_days: Option<i64>,
    /// On this price list.
    #[schema(pattern = "^(mostrador|taller|flotilla|mayoreo)$")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_list: Option<String>,
    /// Carries this tag.
    #[schema(min_length = 1, max_length = 40)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Bought at this branch at least once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<Uuid>,
    /// Owns a registered vehicle of this make.
    #[schema(min_length = 1, max_length = 60)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_make: Option<String>,
    /// Bought before, and not since, this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_purchase_before: Option<NaiveDate>,
}

impl SegmentRulesBody {
    fn rules(&self) -> ApiResult<Rules> {
        let spent_min_cents = self
            .spent_min
            .as_deref()
            .map(|s| Money::parse("rules.spent_min", s))
            .transpose()?
            .map(|m| m.0);
        Ok(Rules {
            spent_min_cents,
            spent_days: self.spent_days,
            price_list: self.price_list.clone(),
            tag: self.tag.clone(),
            branch_id: self.branch_id,
            vehicle_make: self.vehicle_make.clone(),
            last_purchase_before: self.last_purchase_before,
        }
        .checked()?)
    }

    fn from_rules(r: Rules) -> Self {
        Self {
            spent_min: r.spent_min_cents.map(|c| Money(c).to_string()),
            spent_days: r.spent_days,
            price_list: r.price_list,
            tag: r.tag,
            branch_id: r.branch_id,
            vehicle_make: r.vehicle_make,
            last_purchase_before: r.last_purchase_before,
        }
    }
}

/// A saved segment.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentView {
    /// Segment id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// The rules, as stored (tag and make folded, the window filled in).
    pub rules: SegmentRulesBody,
    /// Active customers matching now.
    pub customers: u64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

async fn view(db: &impl sea_orm::ConnectionTrait, s: segment::Model) -> ApiResult<SegmentView> {
    let rules = segments::rules_of(&s)?;
    let customers = segments::count(db, &rules, entities::today()).await?;
    Ok(SegmentView {
        id: s.id,
        name: s.name,
        rules: SegmentRulesBody::from_rules(rules),
        customers,
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
}

/// A page of segments.
pub type SegmentPage = crate::page::Page<SegmentView>;

impl crate::page::Listed for SegmentView {
    const PAGE: &'static str = "SegmentPage";
    const PAGE_DOC: &'static str = "A page of saved customer segments.";
    const ITEMS_DOC: &'static str = "Segments by name.";
}

/// A new segment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSegmentRequest {
    /// Name (unique, without case or accents).
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// Rules.
    #[serde(deserialize_with = "crate::extract::object")]
    pub rules: SegmentRulesBody,
}

/// Changes to a segment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSegmentRequest {
    /// New name.
    #[schema(min_length = 1, max_length = 80)]
    pub name: Option<String>,
    /// New rules (replace the old ones whole).
    #[serde(default, deserialize_with = "crate::extract::optional_object")]
    pub rules: Option<SegmentRulesBody>,
}

/// Page of a listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size (≤ 200).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// Saved segments by name, each with its count of customers now.
#[utoipa::path(
    get, path = "/pos/api/crm/segments", tag = "customers", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = SegmentPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_segments(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<SegmentPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = segments::list(&ctx.db, page).await?;
    let mut items = Vec::with_capacity(rows.items.len());
    for s in rows.items {
        items.push(view(&ctx.db, s).await?);
    }
    Ok(Json(SegmentPage {
        items,
        page: rows.page,
        per_page: rows.per_page,
        total: rows.total,
    }))
}

/// Saves a segment (owner, admin, manager); audited. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/crm/segments", tag = "customers", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = CreateSegmentRequest,
    responses((status = 201, body = SegmentView), (status = 403, body = ErrorBody), (status = 409, description = "`segment_name_taken`", body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn create_segment(
    ctx: TenantCtx,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: CreateSegmentRequest = crate::extract::body_as(&raw)?;
    let rules = req.rules.rules()?;
    let actor = ctx.actor();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "customers.segment",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let s = segments::create(txn, &actor, &req.name, rules).await?;
            Ok((crate::extract::to_value(&view(txn, s).await?)?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// One segment with its count now.
#[utoipa::path(
    get, path = "/pos/api/crm/segments/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Segment id")),
    responses((status = 200, body = SegmentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get_segment(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<SegmentView>> {
    let s = segments::get(&ctx.db, id).await?;
    Ok(Json(view(&ctx.db, s).await?))
}

/// Renames a segment or replaces its rules; audited.
#[utoipa::path(
    patch, path = "/pos/api/crm/segments/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Segment id")),
    request_body = UpdateSegmentRequest,
    responses((status = 200, body = SegmentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`segment_name_taken`", body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update_segment(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateSegmentRequest>,
) -> ApiResult<Json<SegmentView>> {
    let rules = req
        .rules
        .as_ref()
        .map(SegmentRulesBody::rules)
        .transpose()?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let s = segments::update(&txn, &ctx.actor(), id, req.name.as_deref(), rules).await?;
    txn.commit().await?;
    Ok(Json(view(&ctx.db, s).await?))
}

/// Deletes a segment; audited.
#[utoipa::path(
    delete, path = "/pos/api/crm/segments/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Segment id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete_segment(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<StatusCode> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    segments::delete(&txn, &ctx.actor(), id).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The active customers a segment matches now, by name (for a campaign or an export).
#[utoipa::path(
    get, path = "/pos/api/crm/segments/{id}/customers", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Segment id"), PageQuery),
    responses((status = 200, body = CustomerPage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn segment_customers(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<CustomerPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let s = segments::get(&ctx.db, id).await?;
    let rules = segments::rules_of(&s)?;
    let rows = segments::members(&ctx.db, &rules, entities::today(), page).await?;
    Ok(Json(CustomerPage::from_rows(rows, CustomerView::from)))
}

/// How many active customers rules match, without saving them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentCountView {
    /// Active customers matching now.
    pub customers: u64,
}

/// Counts the active customers some rules match, without saving them.
#[utoipa::path(
    post, path = "/pos/api/crm/segments/preview", tag = "customers", security(("bearer" = [])),
    request_body = SegmentRulesBody,
    responses((status = 200, body = SegmentCountView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn preview_segment(
    ctx: TenantCtx,
    AppJson(req): AppJson<SegmentRulesBody>,
) -> ApiResult<Json<SegmentCountView>> {
    let rules = req.rules()?;
    Ok(Json(SegmentCountView {
        customers: segments::count(&ctx.db, &rules, entities::today()).await?,
    }))
}

/// Spent on a category or brand.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FavouriteView {
    /// Category or brand.
    pub name: String,
    /// Spent on it, MXN.
    #[schema(value_type = String, example = "2400.00")]
    pub spent: String,
}

/// A customer's analytics, as computed last night.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerAnalyticsView {
    /// Customer id.
    pub customer_id: Uuid,
    /// Sales less refunds since the first purchase, MXN.
    #[schema(value_type = String, example = "48250.00")]
    pub lifetime_value: Money,
    /// The last 12 months, MXN.
    #[schema(value_type = String, example = "12400.00")]
    pub spend_12m: Money,
    /// Sales (cancelled ones not counted).
    pub orders: i32,
    /// Average ticket, MXN.
    #[schema(value_type = String, example = "965.00")]
    pub average_ticket: Money,
    /// First purchase.
    pub first_purchase_at: Option<DateTime<Utc>>,
    /// Last purchase.
    pub last_purchase_at: Option<DateTime<Utc>>,
    /// Days since the last purchase.
    pub days_since_last: Option<i32>,
    /// Mean days between purchases (from the second purchase on).
    pub avg_interval_days: Option<i32>,
    /// `new`, `active`, `at_risk`, `churning` or `lost` (docs/customers.md says how).
    pub churn_risk: String,
    /// Top five categories by spend.
    pub favourite_categories: Vec<FavouriteView>,
    /// Top five brands by spend.
    pub favourite_brands: Vec<FavouriteView>,
    /// When computed.
    pub computed_at: DateTime<Utc>,
}

impl From<customer_stat::Model> for CustomerAnalyticsView {
    fn from(s: customer_stat::Model) -> Self {
        let favourites = |v: serde_json::Value| serde_json::from_value(v).unwrap_or_default();
        Self {
            customer_id: s.customer_id,
            lifetime_value: Money(s.lifetime_cents),
            spend_12m: Money(s.spend_12m_cents),
            orders: s.orders,
            average_ticket: Money(s.avg_ticket_cents),
            first_purchase_at: s.first_purchase_at,
            last_purchase_at: s.last_purchase_at,
            days_since_last: s.days_since_last,
            avg_interval_days: s.avg_interval_days,
            churn_risk: s.churn_risk,
            favourite_categories: favourites(s.top_categories),
            favourite_brands: favourites(s.top_brands),
            computed_at: s.computed_at,
        }
    }
}

/// A customer's lifetime value, ticket, purchase interval, churn risk and favourites, as the
/// nightly pass computed them (404 before the first nightly pass after a purchase).
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/analytics", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = CustomerAnalyticsView), (status = 404, body = ErrorBody))
)]
pub async fn customer_analytics(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<CustomerAnalyticsView>> {
    entities::customers::records::get_customer(&ctx.db, id).await?;
    Ok(Json(analytics::of_customer(&ctx.db, id).await?.into()))
}

/// Customers of a churn risk.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskCountView {
    /// `new`, `active`, `at_risk`, `churning` or `lost`.
    pub churn_risk: String,
    /// Customers.
    pub customers: i64,
}

/// The business's customer figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessAnalyticsView {
    /// Customers with at least one purchase.
    pub customers: i64,
    /// Mean lifetime value, MXN.
    #[schema(value_type = String, example = "8200.00")]
    pub average_lifetime_value: Money,
    /// Mean ticket, MXN.
    #[schema(value_type = String, example = "740.00")]
    pub average_ticket: Money,
    /// Customers per churn risk.
    pub by_churn_risk: Vec<RiskCountView>,
    /// When the figures were computed (absent before the first nightly pass).
    pub computed_at: Option<DateTime<Utc>>,
}

/// The business's customers by churn risk, mean lifetime value and ticket (managers and up).
#[utoipa::path(
    get, path = "/pos/api/crm/analytics", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = BusinessAnalyticsView), (status = 403, body = ErrorBody))
)]
pub async fn business_analytics(ctx: TenantCtx) -> ApiResult<Json<BusinessAnalyticsView>> {
    let s = analytics::summary(&ctx.db).await?;
    Ok(Json(BusinessAnalyticsView {
        customers: s.customers,
        average_lifetime_value: Money(s.avg_lifetime_cents),
        average_ticket: Money(s.avg_ticket_cents),
        by_churn_risk: s
            .by_risk
            .into_iter()
            .map(|(churn_risk, customers)| RiskCountView {
                churn_risk,
                customers,
            })
            .collect(),
        computed_at: s.computed_at,
    }))
}
