//! `/pos/api/customers/{id}/account` and `/payments`: the customer's account (crédito y abonos).
//!
//! Credit sales charge the account, refused when the balance plus the sale would pass the
//! customer's credit limit; payments on account (abonos) pay the oldest charges first; a return
//! of a credit sale takes what is still owed on it off the account. Everyone reads the account;
//! the roles that sell take payments.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::cash::drawers;
use entities::cash::tables::drawer_movement;
use entities::customers::accounts::{self, NewPayment, Statement};
use entities::customers::tables::account_entry::{self, Kind, PayMethod};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The account routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customer_account))
        .routes(routes!(customer_account_entries))
        .routes(routes!(take_customer_payment))
}

/// What is open on the account, by age of the charge.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgingView {
    /// Charged less than 30 days ago.
    #[schema(value_type = String, example = "1200.00")]
    pub current: Money,
    /// 30 to 59 days ago.
    #[schema(value_type = String, example = "0.00")]
    pub days_30: Money,
    /// 60 to 89 days ago.
    #[schema(value_type = String, example = "0.00")]
    pub days_60: Money,
    /// 90 days ago or more.
    #[schema(value_type = String, example = "0.00")]
    pub days_90_plus: Money,
}

/// A credit sale not yet paid in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenChargeView {
    /// The charge's entry id.
    pub id: Uuid,
    /// The credit sale.
    pub sale_id: Option<Uuid>,
    /// When it was charged.
    pub charged_at: DateTime<Utc>,
    /// Whole days since.
    pub age_days: i64,
    /// What was charged, MXN.
    #[schema(value_type = String, example = "1500.00")]
    pub amount: Money,
    /// What is still owed on it, MXN.
    #[schema(value_type = String, example = "300.00")]
    pub open: Money,
}

/// A customer's account: balance, limit, aging and the open charges.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    /// The customer.
    pub customer_id: Uuid,
    /// What the customer owes, MXN.
    #[schema(value_type = String, example = "1200.00")]
    pub balance: Money,
    /// The credit limit, MXN.
    #[schema(value_type = String, example = "15000.00")]
    pub credit_limit: Money,
    /// What may still be sold on credit: the limit less the balance (never below zero).
    #[schema(value_type = String, example = "13800.00")]
    pub available: Money,
    /// The balance by age of the charges.
    pub aging: AgingView,
    /// Open charges, oldest first (at most 200; the aging counts them all).
    pub open_charges: Vec<OpenChargeView>,
}

impl From<Statement> for AccountView {
    fn from(s: Statement) -> Self {
        let c = &s.customer;
        Self {
            customer_id: c.id,
            balance: Money(c.balance_cents),
            credit_limit: Money(c.credit_limit_cents),
            available: Money((c.credit_limit_cents - c.balance_cents).max(0)),
            aging: AgingView {
                current: Money(s.aging.current),
                days_30: Money(s.aging.days_30),
                days_60: Money(s.aging.days_60),
                days_90_plus: Money(s.aging.days_90_plus),
            },
            open_charges: s
                .open
                .into_iter()
                .map(|o| OpenChargeView {
                    id: o.entry.id,
                    sale_id: o.entry.sale_id,
                    charged_at: o.entry.created_at,
                    age_days: o.age_days,
                    amount: Money(o.entry.amount_cents),
                    open: Money(o.entry.open_cents),
                })
                .collect(),
        }
    }
}

/// The kind of an account entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A credit sale: the balance grew.
    Charge,
    /// A payment on account (abono): the balance fell.
    Payment,
    /// Units of a credit sale came back: the balance fell.
    ReturnCredit,
    /// A refund paid as store credit: the store credit grew.
    StoreCredit,
    /// Store credit spent on a sale.
    CreditUsed,
    /// A special order's deposit: the store credit grew.
    Deposit,
}

impl From<EntryKind> for Kind {
    fn from(k: EntryKind) -> Self {
        match k {
            EntryKind::Charge => Kind::Charge,
            EntryKind::Payment => Kind::Payment,
            EntryKind::ReturnCredit => Kind::ReturnCredit,
            EntryKind::StoreCredit => Kind::StoreCredit,
            EntryKind::CreditUsed => Kind::CreditUsed,
            EntryKind::Deposit => Kind::Deposit,
        }
    }
}

impl From<Kind> for EntryKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Charge => EntryKind::Charge,
            Kind::Payment => EntryKind::Payment,
            Kind::ReturnCredit => EntryKind::ReturnCredit,
            Kind::StoreCredit => EntryKind::StoreCredit,
            Kind::CreditUsed => EntryKind::CreditUsed,
            Kind::Deposit => EntryKind::Deposit,
        }
    }
}

/// How a payment on account was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Cash at the counter.
    Cash,
    /// A bank transfer (SPEI).
    Transfer,
    /// A debit or credit card.
    Card,
}

impl From<PaymentMethod> for PayMethod {
    fn from(m: PaymentMethod) -> Self {
        match m {
            PaymentMethod::Cash => PayMethod::Cash,
            PaymentMethod::Transfer => PayMethod::Transfer,
            PaymentMethod::Card => PayMethod::Card,
        }
    }
}

impl From<PaymentMethod> for drawer_movement::Method {
    fn from(m: PaymentMethod) -> Self {
        match m {
            PaymentMethod::Cash => Self::Cash,
            PaymentMethod::Transfer => Self::Transfer,
            PaymentMethod::Card => Self::Card,
        }
    }
}

impl From<PayMethod> for PaymentMethod {
    fn from(m: PayMethod) -> Self {
        match m {
            PayMethod::Cash => PaymentMethod::Cash,
            PayMethod::Transfer => PaymentMethod::Transfer,
            PayMethod::Card => PaymentMethod::Card,
        }
    }
}

/// Part of a payment or return credit applied to a charge.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedView {
    /// The charge.
    pub charge_id: Uuid,
    /// MXN.
    #[schema(value_type = String, example = "300.00")]
    pub amount: Money,
}

/// An entry of a customer's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountEntryView {
    /// Entry id.
    pub id: Uuid,
    /// What it did.
    pub kind: EntryKind,
    /// The sale (charges and return credits).
    pub sale_id: Option<Uuid>,
    /// The return (return credits).
    pub return_id: Option<Uuid>,
    /// Amount, MXN, above zero; `kind` says which way it moved the balance.
    #[schema(value_type = String, example = "500.00")]
    pub amount: Money,
    /// Of a charge: what is still owed on it.
    #[schema(value_type = String, example = "0.00")]
    pub open: Money,
    /// Of a payment: how it was made.
    pub method: Option<PaymentMethod>,
    /// Transfer or card reference.
    pub reference: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Who recorded it.
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Of a payment or return credit: the charges it paid, oldest first.
    pub applied: Vec<AppliedView>,
}

fn entry_view(
    e: account_entry::Model,
    allocations: &[entities::customers::tables::account_allocation::Model],
) -> AccountEntryView {
    AccountEntryView {
        applied: allocations
            .iter()
            .filter(|a| a.entry_id == e.id)
            .map(|a| AppliedView {
                charge_id: a.charge_id,
                amount: Money(a.amount_cents),
            })
            .collect(),
        id: e.id,
        kind: e.kind.into(),
        sale_id: e.sale_id,
        return_id: e.return_id,
        amount: Money(e.amount_cents),
        open: Money(e.open_cents),
        method: e.method.map(Into::into),
        reference: e.reference,
        note: e.note,
        created_by: e.created_by,
        created_at: e.created_at,
    }
}

/// A page of account entries.
pub type AccountEntryPage = crate::page::Page<AccountEntryView>;

impl crate::page::Listed for AccountEntryView {
    const PAGE: &'static str = "AccountEntryPage";
    const PAGE_DOC: &'static str = "A page of a customer's account entries.";
    const ITEMS_DOC: &'static str = "Entries, newest first.";
}

/// Filters and page of the account's entries.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Only entries of this kind.
    #[param(inline)]
    pub kind: Option<EntryKind>,
}

/// A payment on account (abono).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPaymentRequest {
    /// Amount in MXN (`"500.00"`): above zero and at most the balance.
    #[schema(value_type = crate::formats::PositiveAmount, example = "500.00")]
    pub amount: String,
    /// How it was paid.
    pub method: PaymentMethod,
    /// Transfer or card reference (at most 100 characters).
    #[schema(max_length = 100)]
    pub reference: Option<String>,
    /// Note (at most 500 characters).
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// The drawer session the money goes into; when absent, your open one in `branch_id`, or
    /// else your latest open one. Cash needs one where the branch requires drawers.
    pub drawer_session_id: Option<Uuid>,
    /// The branch taking the payment, to find your drawer session there.
    pub branch_id: Option<Uuid>,
}

/// A payment taken, and the account after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountPaymentView {
    /// The payment's entry, with the charges it paid.
    pub entry: AccountEntryView,
    /// What the customer owes now, MXN.
    #[schema(value_type = String, example = "700.00")]
    pub balance: Money,
}

/// A customer's account: balance, limit, what is available, aging (current, 30, 60, 90+ days)
/// and the open charges, oldest first.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/account", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses(
        (status = 200, body = AccountView),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn customer_account(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<AccountView>> {
    let s = accounts::statement(&ctx.db, id, entities::now()).await?;
    Ok(Json(s.into()))
}

/// The entries of a customer's account (charges, payments, return credits), newest first, each
/// payment or credit with the charges it paid.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/account/entries", tag = "customers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"), EntryQuery),
    responses(
        (status = 200, body = AccountEntryPage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn customer_account_entries(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<EntryQuery>,
) -> ApiResult<Json<AccountEntryPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let p = accounts::entries(&ctx.db, id, q.kind.map(Into::into), page).await?;
    let ids: Vec<Uuid> = p.items.iter().map(|e| e.id).collect();
    let allocations = accounts::allocations_of(&ctx.db, &ids).await?;
    Ok(Json(crate::page::Page::from_rows(p, |e| {
        entry_view(e, &allocations)
    })))
}

/// Takes a payment on account (abono): the balance falls by it and the oldest open charges are
/// paid first. A payment above the balance is refused. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/customers/{id}/payments", tag = "customers",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    request_body = AccountPaymentRequest,
    responses(
        (status = 201, body = AccountPaymentView),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`idempotency_key_in_use`, `drawer_not_open` (cash without an open drawer session), `drawer_closed`", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the payment is above the balance; `field` names it", body = ErrorBody),
    )
)]
pub async fn take_customer_payment(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: AccountPaymentRequest = crate::extract::body_as(&raw)?;
    let new = NewPayment {
        amount: Money::parse("amount", &req.amount)?,
        method: req.method.into(),
        reference: req.reference,
        note: req.note,
    };
    let actor = ctx.actor();
    let seller = ctx.seller();
    let (method, drawer_session_id, branch_id) = (req.method, req.drawer_session_id, req.branch_id);
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        &format!("customer.payment:{id}"),
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let p = accounts::pay(txn, &actor, id, new).await?;
            let session = drawers::for_account_payment(
                txn,
                &seller,
                drawer_session_id,
                branch_id,
                method == PaymentMethod::Cash,
            )
            .await?;
            if let Some(s) = &session {
                drawers::record_account_payment(
                    txn,
                    s.id,
                    p.entry.id,
                    seller.user_id,
                    method.into(),
                    p.entry.amount_cents,
                )
                .await?;
            }
            let allocations: Vec<_> = p
                .applied
                .iter()
                .map(|a| entities::customers::tables::account_allocation::Model {
                    id: 0,
                    entry_id: p.entry.id,
                    charge_id: a.charge_id,
                    amount_cents: a.amount_cents,
                })
                .collect();
            let view = AccountPaymentView {
                entry: entry_view(p.entry, &allocations),
                balance: Money(p.balance_cents),
            };
            let body = serde_json::to_value(view).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((body, ()))
        },
    )
    .await?;
    Ok(written.response())
}
