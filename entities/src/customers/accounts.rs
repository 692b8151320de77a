//! A customer's account (crédito y abonos): credit sales charge it, payments on account (abonos)
//! and returns of credit sales pay it down, and the statement ages what is open.
//!
//! The balance lives on the customer row and changes only together with its entry, by a
//! conditional update: a charge adds to it only where `balance + charge <= limit`, a payment
//! takes from it only where `balance >= payment`. On PostgreSQL the update takes the customer's
//! row lock and re-checks the condition against the committed balance, and SQLite's write
//! transaction is exclusive: two credit sales at once cannot pass the limit together, and two
//! payments cannot take the balance below zero.
//!
//! Payments apply to the oldest open charges first; a return of a credit sale credits that
//! sale's own charge first (what is still owed on the units that came back), and only what
//! remains is refunded in cash.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::customers::tables::account_entry::{self, Kind, PayMethod};
use crate::customers::tables::{account_allocation, customer};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::rules::money::Money;
use crate::{Error, Page, PageRequest, Result};

/// How much of an entry went to which charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The charge.
    pub charge_id: Uuid,
    /// The credit sale the charge is for.
    pub sale_id: Option<Uuid>,
    /// MXN centavos.
    pub amount_cents: i64,
}

/// A payment on account, as recorded.
#[derive(Debug, Clone)]
pub struct Payment {
    /// The entry.
    pub entry: account_entry::Model,
    /// The charges it paid, oldest first.
    pub applied: Vec<Applied>,
    /// The balance after it.
    pub balance_cents: i64,
}

/// A payment to record.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// Above zero, at most the balance.
    pub amount: Money,
    /// How it was paid.
    pub method: PayMethod,
    /// Transfer or card reference.
    pub reference: Option<String>,
    /// Free text.
    pub note: Option<String>,
}

/// What is open, by age of the charge: under 30 days, 30–59, 60–89, 90 and more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Aging {
    /// Charged less than 30 days ago.
    pub current: i64,
    /// 30 to 59 days.
    pub days_30: i64,
    /// 60 to 89 days.
    pub days_60: i64,
    /// 90 days or more.
    pub days_90_plus: i64,
}

impl Aging {
    /// Adds an open amount charged `age_days` ago to its bucket.
    pub fn add(&mut self, age_days: i64, open: i64) {
        match age_days {
            ..30 => self.current += open,
            30..60 => self.days_30 += open,
            60..90 => self.days_60 += open,
            _ => self.days_90_plus += open,
        }
    }
}

/// An open charge of the statement.
#[derive(Debug, Clone)]
pub struct OpenCharge {
    /// The charge.
    pub entry: account_entry::Model,
    /// Whole days since it was charged.
    pub age_days: i64,
}

/// A customer's statement at an instant.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The customer.
    pub customer: customer::Model,
    /// Open charges, oldest first (at most [`Statement::MAX_OPEN`]).
    pub open: Vec<OpenCharge>,
    /// What is open, by age (every open charge, not only those listed).
    pub aging: Aging,
}

impl Statement {
    /// Most open charges listed in a statement; the aging covers them all.
    pub const MAX_OPEN: u64 = 200;
}

/// The customer, or [`Error::NotFound`].
async fn find_customer(db: &impl ConnectionTrait, id: Uuid) -> Result<customer::Model> {
    customer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "customer" })
}

/// Takes `amount` from a customer's column only where it holds that much, in one conditional
/// update (the row lock on PostgreSQL): answers whether it did.
async fn take(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    col: customer::Column,
    amount: i64,
) -> Result<bool> {
    let taken = customer::Entity::update_many()
        .col_expr(col, Expr::col(col).sub(amount))
        .filter(customer::Column::Id.eq(customer_id))
        .filter(col.gte(amount))
        .exec(txn)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Adds a credit sale to the customer's account, refusing it when the balance plus this charge
/// would pass the credit limit. Runs in the sale's transaction.
///
/// # Errors
/// [`Error::Conflict`] `credit_limit_exceeded` naming the balance and what is available;
/// [`Error::NotFound`] `customer`.
pub async fn charge(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    sale_id: Uuid,
    amount_cents: i64,
    by: Uuid,
) -> Result<account_entry::Model> {
    let added = customer::Entity::update_many()
        .col_expr(
            customer::Column::BalanceCents,
            Expr::col(customer::Column::BalanceCents).add(amount_cents),
        )
        .filter(customer::Column::Id.eq(customer_id))
        .filter(
            Expr::col(customer::Column::BalanceCents)
                .add(amount_cents)
                .lte(Expr::col(customer::Column::CreditLimitCents)),
        )
        .exec(txn)
        .await?;
    if added.rows_affected != 1 {
        let c = find_customer(txn, customer_id).await?;
        let available = std::cmp::max(c.credit_limit_cents - c.balance_cents, 0);
        return Err(Error::conflict(
            "credit_limit_exceeded",
            format!(
                "{} on credit with {} owed passes the customer's limit of {}: {} is available",
                Money(amount_cents),
                Money(c.balance_cents),
                Money(c.credit_limit_cents),
                Money(available)
            ),
        ));
    }
    Ok(account_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        kind: Set(Kind::Charge),
        sale_id: Set(Some(sale_id)),
        return_id: Set(None),
        amount_cents: Set(amount_cents),
        open_cents: Set(amount_cents),
        method: Set(None),
        reference: Set(None),
        note: Set(None),
        created_by: Set(Some(by)),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?)
}

/// Takes `amount` off open charges in the order given, writing the allocations of `entry_id`;
/// answers what went where and how much found no open charge.
async fn apply(
    txn: &impl ConnectionTrait,
    entry_id: Uuid,
    charges: Vec<account_entry::Model>,
    mut amount: i64,
) -> Result<(Vec<Applied>, i64)> {
    let mut applied = Vec::new();
    for c in charges {
        if amount == 0 {
            break;
        }
        let take = std::cmp::min(amount, c.open_cents);
        if take <= 0 {
            continue;
        }
        // Conditional, so no path can take a charge below zero.
        let r = account_entry::Entity::update_many()
            .col_expr(
                account_entry::Column::OpenCents,
                Expr::col(account_entry::Column::OpenCents).sub(take),
            )
            .filter(account_entry::Column::Id.eq(c.id))
            .filter(account_entry::Column::OpenCents.gte(take))
            .exec(txn)
            .await?;
        if r.rows_affected != 1 {
            return Err(Error::conflict(
                "account_changed",
                "the account changed meanwhile; try again",
            ));
        }
        account_allocation::ActiveModel {
            id: sea_orm::NotSet,
            entry_id: Set(entry_id),
            charge_id: Set(c.id),
            amount_cents: Set(take),
        }
        .insert(txn)
        .await?;
        applied.push(Applied {
            charge_id: c.id,
            sale_id: c.sale_id,
            amount_cents: take,
        });
        amount -= take;
    }
    Ok((applied, amount))
}

/// Open charges of a customer, oldest first.
fn open_charges(customer_id: Uuid) -> sea_orm::Select<account_entry::Entity> {
    account_entry::Entity::find()
        .filter(account_entry::Column::CustomerId.eq(customer_id))
        .filter(account_entry::Column::Kind.eq(Kind::Charge))
        .filter(account_entry::Column::OpenCents.gt(0))
        .order_by_asc(account_entry::Column::CreatedAt)
        .order_by_asc(account_entry::Column::Id)
}

/// Records a payment on account: the balance falls by it and the oldest open charges are paid
/// first. Audited.
///
/// # Errors
/// [`Error::Validation`] `amount` (zero, or more than is owed), `reference`, `note`;
/// [`Error::NotFound`] `customer`.
pub async fn pay(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    customer_id: Uuid,
    new: NewPayment,
) -> Result<Payment> {
    let amount = new.amount.0;
    if amount <= 0 {
        return Err(Error::validation("amount", "a payment is above zero"));
    }
    let reference = crate::rules::text::optional("reference", new.reference, 100)?;
    let note = crate::rules::text::optional("note", new.note, 500)?;
    if !take(txn, customer_id, customer::Column::BalanceCents, amount).await? {
        let c = find_customer(txn, customer_id).await?;
        // The amount is well formed; it is the balance now that it exceeds.
        return Err(Error::conflict(
            "payment_exceeds_balance",
            format!(
                "amount: the customer owes {}; a payment on account is at most that",
                Money(c.balance_cents)
            ),
        ));
    }
    let id = Uuid::now_v7();
    let entry = account_entry::ActiveModel {
        id: Set(id),
        customer_id: Set(customer_id),
        kind: Set(Kind::Payment),
        sale_id: Set(None),
        return_id: Set(None),
        amount_cents: Set(amount),
        open_cents: Set(0),
        method: Set(Some(new.method)),
        reference: Set(reference),
        note: Set(note),
        created_by: Set(actor.user_id),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    let charges = open_charges(customer_id).all(txn).await?;
    let (applied, left) = apply(txn, id, charges, amount).await?;
    if left != 0 {
        // The balance is the sum of open charges; a payment the balance allowed always finds
        // them. A difference means the books disagree: write nothing.
        return Err(Error::Internal(format!(
            "customer {customer_id}: balance and open charges disagree by {}",
            Money(left)
        )));
    }
    // Credit sales earn their points as they are paid.
    for a in &applied {
        if let Some(sale_id) = a.sale_id {
            crate::customers::loyalty::earn(
                txn,
                customer_id,
                sale_id,
                a.amount_cents,
                &format!("alloc:{id}:{}", a.charge_id),
                actor.user_id,
            )
            .await?;
        }
    }
    let balance_cents = find_customer(txn, customer_id).await?.balance_cents;
    Entry::new("customer.payment")
        .actor(actor.user_id)
        .target("customer", customer_id)
        .request(None, actor.request_id.clone())
        .details(json!({
            "entry_id": id,
            "amount": Money(amount).to_string(),
            "method": new.method.as_str(),
            "balance": Money(balance_cents).to_string(),
        }))
        .record_tenant(txn)
        .await?;
    Ok(Payment {
        entry,
        applied,
        balance_cents,
    })
}

/// Credits a return of a sale to the customer's account: up to `refund_cents` goes to what is
/// still open on that sale's charge, and the balance falls by it. Answers the amount credited
/// (zero when the sale was not on credit or its charge is paid); the rest of the refund is the
/// caller's to pay out.
///
/// # Errors
/// Database errors.
pub async fn credit_return(
    txn: &impl ConnectionTrait,
    sale_id: Uuid,
    return_id: Uuid,
    refund_cents: i64,
    by: Uuid,
) -> Result<i64> {
    let Some(charge) = account_entry::Entity::find()
        .filter(account_entry::Column::SaleId.eq(sale_id))
        .filter(account_entry::Column::Kind.eq(Kind::Charge))
        .one(txn)
        .await?
    else {
        return Ok(0);
    };
    let credit = std::cmp::min(refund_cents, charge.open_cents);
    if credit <= 0 {
        return Ok(0);
    }
    let customer_id = charge.customer_id;
    let id = Uuid::now_v7();
    account_entry::ActiveModel {
        id: Set(id),
        customer_id: Set(customer_id),
        kind: Set(Kind::ReturnCredit),
        sale_id: Set(Some(sale_id)),
        return_id: Set(Some(return_id)),
        amount_cents: Set(credit),
        open_cents: Set(0),
        method: Set(None),
        reference: Set(None),
        note: Set(None),
        created_by: Set(Some(by)),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    let (_, left) = apply(txn, id, vec![charge], credit).await?;
    debug_assert_eq!(left, 0);
    customer::Entity::update_many()
        .col_expr(
            customer::Column::BalanceCents,
            Expr::col(customer::Column::BalanceCents).sub(credit),
        )
        .filter(customer::Column::Id.eq(customer_id))
        .exec(txn)
        .await?;
    Ok(credit)
}

/// A store-credit entry (given or spent) of `amount_cents` tied to a sale and maybe a return.
fn store_credit_entry(
    customer_id: Uuid,
    kind: Kind,
    sale_id: Option<Uuid>,
    return_id: Option<Uuid>,
    amount_cents: i64,
    by: Uuid,
) -> account_entry::ActiveModel {
    account_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        kind: Set(kind),
        sale_id: Set(sale_id),
        return_id: Set(return_id),
        amount_cents: Set(amount_cents),
        open_cents: Set(0),
        method: Set(None),
        reference: Set(None),
        note: Set(None),
        created_by: Set(Some(by)),
        created_at: Set(crate::now()),
    }
}

/// Pays a refund as store credit (saldo a favor) the customer spends on later sales. Runs in the
/// return's transaction.
///
/// # Errors
/// [`Error::NotFound`] `customer`; database errors.
pub async fn give_store_credit(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    sale_id: Uuid,
    return_id: Uuid,
    amount_cents: i64,
    by: Uuid,
) -> Result<account_entry::Model> {
    add_store_credit(txn, customer_id, amount_cents).await?;
    Ok(store_credit_entry(
        customer_id,
        Kind::StoreCredit,
        Some(sale_id),
        Some(return_id),
        amount_cents,
        by,
    )
    .insert(txn)
    .await?)
}

/// Adds to a customer's store credit; its entry is the caller's.
///
/// # Errors
/// [`Error::NotFound`] `customer`.
async fn add_store_credit(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    amount_cents: i64,
) -> Result<()> {
    let r = customer::Entity::update_many()
        .col_expr(
            customer::Column::StoreCreditCents,
            Expr::col(customer::Column::StoreCreditCents).add(amount_cents),
        )
        .filter(customer::Column::Id.eq(customer_id))
        .exec(txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(Error::NotFound { entity: "customer" });
    }
    Ok(())
}

/// Gives store credit that pays back no sale (a referral reward), with its entry naming
/// `reference`, in the caller's transaction.
///
/// # Errors
/// [`Error::NotFound`] `customer`.
pub async fn grant_store_credit(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    amount_cents: i64,
    reference: String,
    note: &str,
    by: Uuid,
) -> Result<account_entry::Model> {
    add_store_credit(txn, customer_id, amount_cents).await?;
    let mut e = store_credit_entry(customer_id, Kind::StoreCredit, None, None, amount_cents, by);
    e.reference = Set(Some(reference));
    e.note = Set(Some(note.to_owned()));
    Ok(e.insert(txn).await?)
}

/// Takes an advance (a special order's deposit) as store credit, paid by `method`. Runs in the
/// caller's transaction; audited.
///
/// # Errors
/// [`Error::Validation`] `deposit` not above zero, `reference`; [`Error::NotFound`] `customer`.
pub async fn deposit(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    customer_id: Uuid,
    amount_cents: i64,
    method: PayMethod,
    reference: Option<String>,
    note: &str,
) -> Result<account_entry::Model> {
    if amount_cents <= 0 {
        return Err(Error::validation("deposit", "a deposit is above zero"));
    }
    let reference = crate::rules::text::optional("reference", reference, 100)?;
    add_store_credit(txn, customer_id, amount_cents).await?;
    let e = account_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        kind: Set(Kind::Deposit),
        sale_id: Set(None),
        return_id: Set(None),
        amount_cents: Set(amount_cents),
        open_cents: Set(0),
        method: Set(Some(method)),
        reference: Set(reference),
        note: Set(Some(note.to_owned())),
        created_by: Set(actor.user_id),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    Entry::new("customer.deposit")
        .actor(actor.user_id)
        .target("customer", customer_id)
        .request(None, actor.request_id.clone())
        .details(json!({"entry_id": e.id, "amount": Money(amount_cents).to_string(), "method": method.as_str(), "note": note}))
        .record_tenant(txn)
        .await?;
    Ok(e)
}

/// Spends store credit on a sale, refusing more than the customer has (a conditional update, so
/// two sales at once cannot spend it twice). Runs in the sale's transaction.
///
/// # Errors
/// [`Error::Conflict`] `store_credit_insufficient` naming what is available;
/// [`Error::NotFound`] `customer`.
pub async fn spend_store_credit(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    sale_id: Uuid,
    amount_cents: i64,
    by: Uuid,
) -> Result<account_entry::Model> {
    if !take(
        txn,
        customer_id,
        customer::Column::StoreCreditCents,
        amount_cents,
    )
    .await?
    {
        let c = find_customer(txn, customer_id).await?;
        return Err(Error::conflict(
            "store_credit_insufficient",
            format!(
                "the customer has {} of store credit; {} cannot be paid with it",
                Money(c.store_credit_cents),
                Money(amount_cents)
            ),
        ));
    }
    Ok(store_credit_entry(
        customer_id,
        Kind::CreditUsed,
        Some(sale_id),
        None,
        amount_cents,
        by,
    )
    .insert(txn)
    .await?)
}

/// The customer's statement at `at`: open charges oldest first, and their aging.
///
/// # Errors
/// [`Error::NotFound`] `customer`.
pub async fn statement(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Statement> {
    let customer = find_customer(db, customer_id).await?;
    let age = |created: DateTime<Utc>| std::cmp::max((at - created).num_days(), 0);
    // Every open charge is aged (only the amounts and dates are read); the oldest are listed.
    let all: Vec<(i64, DateTime<Utc>)> = open_charges(customer_id)
        .select_only()
        .column(account_entry::Column::OpenCents)
        .column(account_entry::Column::CreatedAt)
        .into_tuple()
        .all(db)
        .await?;
    let mut aging = Aging::default();
    for (open, created) in all {
        aging.add(age(created), open);
    }
    let open = open_charges(customer_id)
        .limit(Statement::MAX_OPEN)
        .all(db)
        .await?
        .into_iter()
        .map(|entry| OpenCharge {
            age_days: age(entry.created_at),
            entry,
        })
        .collect();
    Ok(Statement {
        customer,
        open,
        aging,
    })
}

/// The entries of a customer's account, newest first, optionally of one kind.
///
/// # Errors
/// [`Error::NotFound`] `customer`.
pub async fn entries(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    kind: Option<Kind>,
    page: PageRequest,
) -> Result<Page<account_entry::Model>> {
    find_customer(db, customer_id).await?;
    let mut q = account_entry::Entity::find()
        .filter(account_entry::Column::CustomerId.eq(customer_id))
        .order_by_desc(account_entry::Column::CreatedAt)
        .order_by_desc(account_entry::Column::Id);
    if let Some(k) = kind {
        q = q.filter(account_entry::Column::Kind.eq(k));
    }
    page.fetch(db, q).await
}

/// How each payment or credit of `entry_ids` was applied, for listing.
///
/// # Errors
/// Database errors.
pub async fn allocations_of(
    db: &impl ConnectionTrait,
    entry_ids: &[Uuid],
) -> Result<Vec<account_allocation::Model>> {
    if entry_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(account_allocation::Entity::find()
        .filter(account_allocation::Column::EntryId.is_in(entry_ids.iter().copied()))
        .order_by_asc(account_allocation::Column::Id)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_amounts_age_into_buckets_of_thirty_days() {
        let mut a = Aging::default();
        for (days, open) in [
            (0, 1),
            (29, 2),
            (30, 4),
            (59, 8),
            (60, 16),
            (89, 32),
            (90, 64),
        ] {
            a.add(days, open);
        }
        a.add(400, 128);
        assert_eq!(
            a,
            Aging {
                current: 3,
                days_30: 12,
                days_60: 48,
                days_90_plus: 192,
            }
        );
    }
}
