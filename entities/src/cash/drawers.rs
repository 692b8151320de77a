//! Drawer sessions: opening with a float, the movements sales, refunds, payments on account and
//! cash in/out write, and closing with a count by denomination.
//!
//! What a drawer should hold is never stored as a running total: it is the sum of the session's
//! movements, each written in the transaction of the sale, refund or payment that caused it. A
//! sale takes a shared lock on its session row (`FOR SHARE` on PostgreSQL; SQLite's write
//! transaction is exclusive) and closing takes the exclusive one with the same `status = 'open'`
//! condition, so a sale either commits before the count sees it or finds the session closed:
//! concurrent sales on one session never change a closed count.

use std::collections::BTreeMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::cash::tables::drawer_movement::{self, Kind, Method};
use crate::cash::tables::drawer_session::{self, Status};
use crate::error::OnUnique;
use crate::org::seller::Seller;
use crate::org::tables::branch;
use crate::rules::money::{Currency, MAX_CENTS, Money, Rate};
use crate::{Error, Page, PageRequest, Result};

/// The register a session is for when the request names none.
pub const DEFAULT_REGISTER: &str = "principal";

/// MXN notes and coins in circulation, in centavos.
pub const MXN_DENOMINATIONS: &[i64] = &[
    100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10,
];

/// US notes and coins, in cents.
pub const USD_DENOMINATIONS: &[i64] = &[10_000, 5_000, 2_000, 1_000, 500, 200, 100, 25, 10, 5, 1];

/// A session to open.
#[derive(Debug, Clone)]
pub struct OpenDrawer {
    /// The branch.
    pub branch_id: Uuid,
    /// The register; [`DEFAULT_REGISTER`] when none.
    pub register: Option<String>,
    /// MXN float in the drawer at opening.
    pub float_mxn: Money,
    /// USD float (cents) at opening.
    pub float_usd: Money,
    /// Free text.
    pub note: Option<String>,
}

/// Money put in or taken out of a drawer by hand.
#[derive(Debug, Clone)]
pub struct CashMove {
    /// In (`true`) or out.
    pub inward: bool,
    /// Above zero, in minor units of `currency`.
    pub amount: Money,
    /// MXN or USD.
    pub currency: Currency,
    /// Why (1–200 characters).
    pub reason: String,
}

/// Notes or coins of one value counted at close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// `MXN` or `USD`.
    pub currency: Currency,
    /// The value of one, in minor units.
    pub denomination: i64,
    /// How many.
    pub count: i64,
}

/// What a closing counted.
#[derive(Debug, Clone, Default)]
pub struct Closing {
    /// Cash by denomination and currency.
    pub counts: Vec<Count>,
    /// The card terminal's total, when counted.
    pub card: Option<Money>,
    /// Transfers received, when counted.
    pub transfer: Option<Money>,
    /// Free text.
    pub note: Option<String>,
}

/// One means of payment in a report: what the movements add up to and what was counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// The means.
    pub method: Method,
    /// Its currency.
    pub currency: Currency,
    /// Sum of the movements, minor units.
    pub expected: i64,
    /// Counted at close; none while open or when not counted.
    pub counted: Option<i64>,
}

impl Tally {
    /// Counted minus expected (below zero: short).
    #[must_use]
    pub fn difference(&self) -> Option<i64> {
        self.counted.map(|c| c - self.expected)
    }
}

/// Movements of one kind and means, summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindTotal {
    /// Why the money moved.
    pub kind: Kind,
    /// The means.
    pub method: Method,
    /// Its currency.
    pub currency: Currency,
    /// How many movements.
    pub count: i64,
    /// Their sum, minor units, signed.
    pub amount: i64,
}

/// An X report (open session) or Z report (closed): the session, what it should hold per means,
/// what was counted, and the movements by kind.
#[derive(Debug, Clone)]
pub struct Report {
    /// The session.
    pub session: drawer_session::Model,
    /// Cash MXN, USD cash, card, transfer, in that order.
    pub tallies: Vec<Tally>,
    /// Sums by kind and means.
    pub by_kind: Vec<KindTotal>,
    /// Sales that went through the session.
    pub sales: i64,
    /// The denominations counted at close.
    pub counts: Vec<Count>,
}

/// The four means a drawer keeps apart, in report order.
const MEANS: [(Method, Currency); 4] = [
    (Method::Cash, Currency::Mxn),
    (Method::UsdCash, Currency::Usd),
    (Method::Card, Currency::Mxn),
    (Method::Transfer, Currency::Mxn),
];

/// The session, or [`Error::NotFound`] `drawer_session` (also for one outside the caller's
/// branch scope).
///
/// # Errors
/// [`Error::NotFound`]; database errors.
pub async fn get(
    db: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
) -> Result<drawer_session::Model> {
    drawer_session::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|s| seller.can_see(s.branch_id))
        .ok_or(Error::NotFound {
            entity: "drawer_session",
        })
}

/// Only whoever opened a session, or a manager, moves money in it or closes it.
fn require_keeper(seller: &Seller, s: &drawer_session::Model) -> Result<()> {
    if s.opened_by == seller.user_id || seller.role.is_manager() {
        Ok(())
    } else {
        Err(Error::Forbidden {
            code: "not_your_drawer",
            message: "this drawer session was opened by another user; it is theirs or a manager's"
                .into(),
        })
    }
}

/// Inserts movements of a session.
async fn record(txn: &impl ConnectionTrait, rows: Vec<drawer_movement::ActiveModel>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    drawer_movement::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// A movement row of `t` by `by`; the caller sets what it refers to.
fn movement(session_id: Uuid, kind: Kind, t: Tender, by: Uuid) -> drawer_movement::ActiveModel {
    drawer_movement::ActiveModel {
        id: sea_orm::NotSet,
        session_id: Set(session_id),
        kind: Set(kind),
        method: Set(t.method),
        currency: Set(t.currency.code().to_owned()),
        amount_minor: Set(t.amount),
        amount_mxn_cents: Set(t.rate.to_mxn(t.amount)),
        sale_id: Set(None),
        return_id: Set(None),
        entry_id: Set(None),
        reason: Set(None),
        created_by: Set(by),
        created_at: Set(crate::now()),
    }
}

/// MXN cash of `amount` centavos.
const fn pesos(amount: i64) -> Tender {
    Tender {
        method: Method::Cash,
        currency: Currency::Mxn,
        amount,
        rate: Rate::ONE,
    }
}

/// Opens a session on a register of a branch with its float. One open session a register, and
/// one a user in a branch.
///
/// # Errors
/// [`Error::Forbidden`] for roles that do not sell; [`Error::NotFound`] `branch`;
/// [`Error::Validation`] `register`, `float_mxn`, `float_usd`, `note`; [`Error::Conflict`]
/// `drawer_already_open`.
pub async fn open(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    new: OpenDrawer,
    rate: Rate,
) -> Result<drawer_session::Model> {
    seller.require_seller()?;
    let b = branch::Entity::find_by_id(new.branch_id)
        .one(txn)
        .await?
        .filter(|b| seller.can_see(b.id))
        .ok_or(Error::NotFound { entity: "branch" })?;
    if !b.is_active {
        return Err(Error::conflict(
            "branch_inactive",
            format!("branch {} is inactive", b.code),
        ));
    }
    let register = crate::rules::text::optional("register", new.register, 40)?
        .unwrap_or_else(|| DEFAULT_REGISTER.to_owned())
        .to_lowercase();
    let note = crate::rules::text::optional("note", new.note, 500)?;
    for (field, m) in [("float_mxn", new.float_mxn), ("float_usd", new.float_usd)] {
        if m.0 < 0 || m.0 > MAX_CENTS {
            return Err(Error::validation(field, "a float is zero or more"));
        }
    }
    let mine = drawer_session::Entity::find()
        .filter(drawer_session::Column::BranchId.eq(b.id))
        .filter(drawer_session::Column::OpenedBy.eq(seller.user_id))
        .filter(drawer_session::Column::Status.eq(Status::Open))
        .one(txn)
        .await?;
    if let Some(s) = mine {
        return Err(Error::conflict(
            "drawer_already_open",
            format!(
                "you have a drawer session open on register {} of this branch; close it first",
                s.register
            ),
        ));
    }
    let id = Uuid::now_v7();
    let now = crate::now();
    let session = drawer_session::ActiveModel {
        id: Set(id),
        branch_id: Set(b.id),
        register: Set(register.clone()),
        open_key: Set(Some(format!("{}:{register}", b.id))),
        status: Set(Status::Open),
        opened_by: Set(seller.user_id),
        opened_at: Set(now),
        closed_by: Set(None),
        closed_at: Set(None),
        expected: Set(None),
        counted: Set(None),
        denominations: Set(None),
        cash_difference_cents: Set(None),
        note: Set(note),
    }
    .insert(txn)
    .await
    .on_unique(
        "drawer_already_open",
        "that register has a drawer session open; close it or use another register",
    )?;
    let mut rows = Vec::new();
    if new.float_mxn.0 > 0 {
        rows.push(movement(
            id,
            Kind::Float,
            pesos(new.float_mxn.0),
            seller.user_id,
        ));
    }
    if new.float_usd.0 > 0 {
        let dollars = Tender {
            method: Method::UsdCash,
            currency: Currency::Usd,
            amount: new.float_usd.0,
            rate,
        };
        rows.push(movement(id, Kind::Float, dollars, seller.user_id));
    }
    record(txn, rows).await?;
    seller
        .entry("drawer.opened", "drawer_session", id)
        .details(json!({
            "branch_id": b.id,
            "register": register,
            "float_mxn": new.float_mxn.to_string(),
            "float_usd": new.float_usd.to_string(),
        }))
        .record_tenant(txn)
        .await?;
    Ok(session)
}

/// The open session money of a sale, refund or payment goes through, locked against closing
/// until the caller commits: the one named, or else the caller's own open session in the branch.
/// Answers none when there is none and `cash` is false or the branch lets cash go without a
/// drawer.
///
/// # Errors
/// [`Error::NotFound`] `drawer_session`; [`Error::Validation`] `drawer_session_id` for a session
/// of another branch; [`Error::Conflict`] `drawer_closed`, `drawer_not_open`;
/// [`Error::Forbidden`] `not_your_drawer`.
pub async fn for_money(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    branch: &branch::Model,
    asked: Option<Uuid>,
    cash: bool,
) -> Result<Option<drawer_session::Model>> {
    let found = match asked {
        Some(id) => {
            let s = get(txn, seller, id).await?;
            if s.branch_id != branch.id {
                return Err(Error::validation(
                    "drawer_session_id",
                    "the drawer session is of another branch",
                ));
            }
            require_keeper(seller, &s)?;
            Some(s)
        }
        None => {
            drawer_session::Entity::find()
                .filter(drawer_session::Column::BranchId.eq(branch.id))
                .filter(drawer_session::Column::OpenedBy.eq(seller.user_id))
                .filter(drawer_session::Column::Status.eq(Status::Open))
                .order_by_desc(drawer_session::Column::OpenedAt)
                .one(txn)
                .await?
        }
    };
    let Some(s) = found else {
        if cash && branch.cash_drawer_required {
            return Err(Error::conflict(
                "drawer_not_open",
                "cash needs an open drawer session at this branch: open one with POST /pos/api/drawers",
            ));
        }
        return Ok(None);
    };
    lock_open(txn, s.id).await.map(Some)
}

/// The session re-read under the shared lock with the condition closing changes, so it stays
/// open until the caller commits; a session closed meanwhile is `drawer_closed`.
async fn lock_open(txn: &impl ConnectionTrait, id: Uuid) -> Result<drawer_session::Model> {
    drawer_session::Entity::find_by_id(id)
        .filter(drawer_session::Column::Status.eq(Status::Open))
        .lock_shared()
        .one(txn)
        .await?
        .ok_or_else(|| Error::conflict("drawer_closed", format!("drawer session {id} is closed")))
}

/// Money that went through a drawer in one means.
#[derive(Debug, Clone, Copy)]
pub struct Tender {
    /// The means.
    pub method: Method,
    /// Its currency.
    pub currency: Currency,
    /// Minor units of `currency`, signed.
    pub amount: i64,
    /// The rate it was taken at.
    pub rate: Rate,
}

/// What a sale puts in the drawer: each payment tendered, and the change given back in MXN cash.
///
/// # Errors
/// Database errors.
pub async fn record_sale(
    txn: &impl ConnectionTrait,
    session_id: Uuid,
    sale_id: Uuid,
    by: Uuid,
    tendered: &[Tender],
    change_cents: i64,
) -> Result<()> {
    let mut rows: Vec<_> = tendered
        .iter()
        .map(|t| {
            let mut m = movement(session_id, Kind::Sale, *t, by);
            m.sale_id = Set(Some(sale_id));
            m
        })
        .collect();
    if change_cents > 0 {
        let mut m = movement(session_id, Kind::Change, pesos(-change_cents), by);
        m.sale_id = Set(Some(sale_id));
        rows.push(m);
    }
    record(txn, rows).await
}

/// What a refund takes out of the drawer.
///
/// # Errors
/// Database errors.
pub async fn record_refund(
    txn: &impl ConnectionTrait,
    session_id: Uuid,
    sale_id: Uuid,
    return_id: Uuid,
    by: Uuid,
    paid: Tender,
) -> Result<()> {
    let out = Tender {
        amount: -paid.amount,
        ..paid
    };
    let mut m = movement(session_id, Kind::Refund, out, by);
    m.sale_id = Set(Some(sale_id));
    m.return_id = Set(Some(return_id));
    record(txn, vec![m]).await
}

/// The open session a payment on a customer's account goes through, which has no branch of its
/// own: the session named, or the caller's open one in the branch named, or else the caller's
/// latest open session anywhere. Cash with none of these is refused when any branch in the
/// caller's scope requires drawers.
///
/// # Errors
/// As [`for_money`]; [`Error::NotFound`] `branch`.
pub async fn for_account_payment(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    asked: Option<Uuid>,
    branch_id: Option<Uuid>,
    cash: bool,
) -> Result<Option<drawer_session::Model>> {
    if let Some(id) = asked {
        let s = get(txn, seller, id).await?;
        require_keeper(seller, &s)?;
        return lock_open(txn, id).await.map(Some);
    }
    if let Some(id) = branch_id {
        let b = branch::Entity::find_by_id(id)
            .one(txn)
            .await?
            .filter(|b| seller.can_see(b.id))
            .ok_or(Error::NotFound { entity: "branch" })?;
        return for_money(txn, seller, &b, None, cash).await;
    }
    let mine = drawer_session::Entity::find()
        .filter(drawer_session::Column::OpenedBy.eq(seller.user_id))
        .filter(drawer_session::Column::Status.eq(Status::Open))
        .order_by_desc(drawer_session::Column::OpenedAt)
        .one(txn)
        .await?;
    if let Some(s) = mine {
        return lock_open(txn, s.id).await.map(Some);
    }
    if cash {
        let mut q = branch::Entity::find()
            .filter(branch::Column::IsActive.eq(true))
            .filter(branch::Column::CashDrawerRequired.eq(true));
        if let Some(ids) = &seller.branch_scope {
            q = q.filter(branch::Column::Id.is_in(ids.iter().copied()));
        }
        if q.one(txn).await?.is_some() {
            return Err(Error::conflict(
                "drawer_not_open",
                "cash needs an open drawer session: open one with POST /pos/api/drawers, or name the branch_id of a branch that takes cash without one",
            ));
        }
    }
    Ok(None)
}

/// What a payment on a customer's account puts in the drawer.
///
/// # Errors
/// Database errors.
pub async fn record_account_payment(
    txn: &impl ConnectionTrait,
    session_id: Uuid,
    entry_id: Uuid,
    by: Uuid,
    method: Method,
    amount_cents: i64,
) -> Result<()> {
    let paid = Tender {
        method,
        ..pesos(amount_cents)
    };
    let mut m = movement(session_id, Kind::AccountPayment, paid, by);
    m.entry_id = Set(Some(entry_id));
    record(txn, vec![m]).await
}

/// Puts cash in or takes it out of an open session, with a reason. Taking out more than the
/// drawer should hold in that currency is refused.
///
/// # Errors
/// [`Error::NotFound`] `drawer_session`; [`Error::Forbidden`] `not_your_drawer`;
/// [`Error::Conflict`] `drawer_closed`; [`Error::Validation`] `amount`, `reason`.
pub async fn move_cash(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    session_id: Uuid,
    mv: CashMove,
    rate: Rate,
) -> Result<drawer_movement::Model> {
    let s = get(txn, seller, session_id).await?;
    require_keeper(seller, &s)?;
    if mv.amount.0 <= 0 || mv.amount.0 > MAX_CENTS {
        return Err(Error::validation("amount", "an amount is above zero"));
    }
    let reason = crate::rules::text::optional("reason", Some(mv.reason), 200)?
        .ok_or_else(|| Error::validation("reason", "say why the cash moves"))?;
    let s = lock_open(txn, s.id).await?;
    let (method, r) = match mv.currency {
        Currency::Mxn => (Method::Cash, Rate::ONE),
        Currency::Usd => (Method::UsdCash, rate),
    };
    if !mv.inward {
        let held = tallies(&movements_of(txn, s.id).await?)
            .into_iter()
            .find(|t| t.method == method)
            .map_or(0, |t| t.expected);
        if mv.amount.0 > held {
            return Err(Error::validation(
                "amount",
                format!(
                    "the drawer should hold {} {}; it cannot give {}",
                    Money(held),
                    mv.currency.code(),
                    mv.amount
                ),
            ));
        }
    }
    let signed = if mv.inward { mv.amount.0 } else { -mv.amount.0 };
    let kind = if mv.inward {
        Kind::CashIn
    } else {
        Kind::CashOut
    };
    let moved = Tender {
        method,
        currency: mv.currency,
        amount: signed,
        rate: r,
    };
    let mut row = movement(s.id, kind, moved, seller.user_id);
    row.reason = Set(Some(reason.clone()));
    let row = row.insert(txn).await?;
    seller
        .entry(
            if mv.inward {
                "drawer.cash_in"
            } else {
                "drawer.cash_out"
            },
            "drawer_session",
            s.id,
        )
        .details(json!({
            "amount": mv.amount.to_string(),
            "currency": mv.currency.code(),
            "reason": reason,
        }))
        .record_tenant(txn)
        .await?;
    Ok(row)
}

async fn movements_of(
    db: &impl ConnectionTrait,
    session_id: Uuid,
) -> Result<Vec<drawer_movement::Model>> {
    Ok(drawer_movement::Entity::find()
        .filter(drawer_movement::Column::SessionId.eq(session_id))
        .order_by_asc(drawer_movement::Column::Id)
        .all(db)
        .await?)
}

fn currency_of(m: &drawer_movement::Model) -> Currency {
    if m.currency == Currency::Usd.code() {
        Currency::Usd
    } else {
        Currency::Mxn
    }
}

/// What the movements add up to, per means.
fn tallies(moves: &[drawer_movement::Model]) -> Vec<Tally> {
    MEANS
        .iter()
        .map(|(method, currency)| Tally {
            method: *method,
            currency: *currency,
            expected: moves
                .iter()
                .filter(|m| m.method == *method && currency_of(m) == *currency)
                .map(|m| m.amount_minor)
                .sum(),
            counted: None,
        })
        .collect()
}

fn by_kind(moves: &[drawer_movement::Model]) -> Vec<KindTotal> {
    let mut sums: BTreeMap<(&str, &str, &str), KindTotal> = BTreeMap::new();
    for m in moves {
        let c = currency_of(m);
        let e = sums
            .entry((m.kind.as_str(), m.method.as_str(), c.code()))
            .or_insert(KindTotal {
                kind: m.kind,
                method: m.method,
                currency: c,
                count: 0,
                amount: 0,
            });
        e.count += 1;
        e.amount += m.amount_minor;
    }
    sums.into_values().collect()
}

/// The X report of an open session or the Z report of a closed one.
///
/// # Errors
/// [`Error::NotFound`] `drawer_session`.
pub async fn report(db: &impl ConnectionTrait, seller: &Seller, id: Uuid) -> Result<Report> {
    let session = get(db, seller, id).await?;
    let moves = movements_of(db, id).await?;
    assemble(session, &moves)
}

/// The report of a session from its movements.
fn assemble(session: drawer_session::Model, moves: &[drawer_movement::Model]) -> Result<Report> {
    let id = session.id;
    let mut tallies = tallies(moves);
    let counted: BTreeMap<String, i64> = session
        .counted
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| Error::Internal(format!("drawer session {id}: counted: {e}")))?
        .unwrap_or_default();
    for t in &mut tallies {
        t.counted = counted.get(t.method.as_str()).copied();
    }
    let counts: Vec<Count> = session
        .denominations
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| Error::Internal(format!("drawer session {id}: denominations: {e}")))?
        .unwrap_or_default();
    let mut sales: Vec<Uuid> = moves
        .iter()
        .filter(|m| m.kind == Kind::Sale)
        .filter_map(|m| m.sale_id)
        .collect();
    sales.sort_unstable();
    sales.dedup();
    Ok(Report {
        by_kind: by_kind(moves),
        tallies,
        sales: i64::try_from(sales.len()).unwrap_or(i64::MAX),
        counts,
        session,
    })
}

/// The JSON text of a frozen column.
fn to_json(v: &impl Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(e.to_string()))
}

/// Checks the denominations counted and answers the cash counted per currency.
fn count_cash(counts: &[Count]) -> Result<(i64, i64)> {
    if counts.len() > 50 {
        return Err(Error::validation("counts", "at most 50 denominations"));
    }
    let (mut mxn, mut usd) = (0i64, 0i64);
    for (i, c) in counts.iter().enumerate() {
        let valid = match c.currency {
            Currency::Mxn => MXN_DENOMINATIONS,
            Currency::Usd => USD_DENOMINATIONS,
        };
        if !valid.contains(&c.denomination) {
            return Err(Error::validation(
                format!("counts[{i}].denomination"),
                format!(
                    "{} is not a {} note or coin",
                    Money(c.denomination),
                    c.currency.code()
                ),
            ));
        }
        if !(0..=100_000).contains(&c.count) {
            return Err(Error::validation(
                format!("counts[{i}].count"),
                "a count is from 0 to 100000",
            ));
        }
        // A denomination counted twice (two stacks of 500s) adds up.
        let v = c.denomination * c.count;
        match c.currency {
            Currency::Mxn => mxn += v,
            Currency::Usd => usd += v,
        }
    }
    Ok((mxn, usd))
}

/// Closes a session with what was counted: cash by denomination and currency, card and transfer
/// by total. The expected amounts, the count and the MXN cash difference are frozen on the
/// session, which takes no money after this.
///
/// # Errors
/// [`Error::NotFound`] `drawer_session`; [`Error::Forbidden`] `not_your_drawer`;
/// [`Error::Conflict`] `drawer_closed`; [`Error::Validation`] `counts[i]…`, `card`,
/// `transfer`, `note`.
pub async fn close(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    closing: Closing,
) -> Result<Report> {
    let s = get(txn, seller, id).await?;
    require_keeper(seller, &s)?;
    let (cash_mxn, cash_usd) = count_cash(&closing.counts)?;
    for (field, m) in [("card", closing.card), ("transfer", closing.transfer)] {
        if m.is_some_and(|m| m.0 < 0 || m.0 > MAX_CENTS) {
            return Err(Error::validation(field, "a total is zero or more"));
        }
    }
    let note = crate::rules::text::optional("note", closing.note, 500)?;
    // The exclusive row lock with the condition sales lock on: sales in flight commit first, and
    // later ones find the session closed.
    let taken = drawer_session::Entity::update_many()
        .col_expr(
            drawer_session::Column::Status,
            Expr::value(Status::Closed.as_str()),
        )
        .filter(drawer_session::Column::Id.eq(id))
        .filter(drawer_session::Column::Status.eq(Status::Open))
        .exec(txn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(Error::conflict(
            "drawer_closed",
            format!("drawer session {id} is closed already"),
        ));
    }
    let moves = movements_of(txn, id).await?;
    let expected = tallies(&moves);
    let mut counted: BTreeMap<&str, i64> = BTreeMap::new();
    counted.insert(Method::Cash.as_str(), cash_mxn);
    counted.insert(Method::UsdCash.as_str(), cash_usd);
    if let Some(c) = closing.card {
        counted.insert(Method::Card.as_str(), c.0);
    }
    if let Some(t) = closing.transfer {
        counted.insert(Method::Transfer.as_str(), t.0);
    }
    let expected_json: BTreeMap<&str, i64> = expected
        .iter()
        .map(|t| (t.method.as_str(), t.expected))
        .collect();
    let cash_expected = expected_json
        .get(Method::Cash.as_str())
        .copied()
        .unwrap_or(0);
    let mut am: drawer_session::ActiveModel = s.clone().into();
    am.status = Set(Status::Closed);
    am.open_key = Set(None);
    am.closed_by = Set(Some(seller.user_id));
    am.closed_at = Set(Some(crate::now()));
    am.expected = Set(Some(to_json(&expected_json)?));
    am.counted = Set(Some(to_json(&counted)?));
    am.denominations = Set(Some(to_json(&closing.counts)?));
    am.cash_difference_cents = Set(Some(cash_mxn - cash_expected));
    if note.is_some() {
        am.note = Set(note);
    }
    let closed = am.update(txn).await?;
    seller
        .entry("drawer.closed", "drawer_session", id)
        .details(json!({
            "expected": expected_json,
            "counted": counted,
            "cash_difference": Money(cash_mxn - cash_expected).to_string(),
        }))
        .record_tenant(txn)
        .await?;
    // The movements read under the lock are all the session will ever have.
    assemble(closed, &moves)
}

/// Filters of the sessions list.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// One branch.
    pub branch_id: Option<Uuid>,
    /// Open or closed.
    pub status: Option<Status>,
    /// Opened by one user.
    pub opened_by: Option<Uuid>,
}

/// Lists sessions, newest first, within the caller's branch scope.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    seller: &Seller,
    f: &SessionFilter,
    page: PageRequest,
) -> Result<Page<drawer_session::Model>> {
    let mut q = drawer_session::Entity::find().order_by_desc(drawer_session::Column::OpenedAt);
    if let Some(b) = f.branch_id {
        q = q.filter(drawer_session::Column::BranchId.eq(b));
    }
    if let Some(s) = f.status {
        q = q.filter(drawer_session::Column::Status.eq(s));
    }
    if let Some(u) = f.opened_by {
        q = q.filter(drawer_session::Column::OpenedBy.eq(u));
    }
    if let Some(ids) = &seller.branch_scope {
        q = q.filter(drawer_session::Column::BranchId.is_in(ids.iter().copied()));
    }
    page.fetch(db, q).await
}

/// The movements of a session, oldest first.
///
/// # Errors
/// [`Error::NotFound`] `drawer_session`.
pub async fn movements(
    db: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    page: PageRequest,
) -> Result<Page<drawer_movement::Model>> {
    get(db, seller, id).await?;
    let q = drawer_movement::Entity::find()
        .filter(drawer_movement::Column::SessionId.eq(id))
        .order_by_asc(drawer_movement::Column::Id);
    page.fetch(db, q).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_adds_each_currency_apart() {
        let counts = [
            Count {
                currency: Currency::Mxn,
                denomination: 50_000,
                count: 2,
            },
            Count {
                currency: Currency::Mxn,
                denomination: 50,
                count: 3,
            },
            Count {
                currency: Currency::Usd,
                denomination: 2_000,
                count: 1,
            },
        ];
        assert_eq!(count_cash(&counts).ok(), Some((100_150, 2_000)));
    }

    #[test]
    fn a_note_that_does_not_exist_is_refused_by_name() {
        let counts = [Count {
            currency: Currency::Mxn,
            denomination: 30_000,
            count: 1,
        }];
        let Err(Error::Validation { field, .. }) = count_cash(&counts) else {
            panic!("a 300 peso note was accepted");
        };
        assert_eq!(field, "counts[0].denomination");
    }

    #[test]
    fn a_denomination_counted_in_two_stacks_adds_up() {
        let c = Count {
            currency: Currency::Usd,
            denomination: 100,
            count: 3,
        };
        assert_eq!(count_cash(&[c, c]).ok(), Some((0, 600)));
    }
}
