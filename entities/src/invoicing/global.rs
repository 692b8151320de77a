//! The global invoice (CFDI to the general public, domain.md §1.8): one per branch and closed
//! period, covering the branch's completed sales of that period that are neither invoiced to
//! their customer nor already in a standing global invoice.
//!
//! Per SAT's filling guide each ticket is a concept (ClaveProdServ `01010101`, unit `ACT`,
//! description `Venta`, identification = the ticket's folio), one per IVA treatment present in
//! the ticket, for the ticket's amount net of its returns. The receiver is `XAXX010101000` /
//! `PUBLICO EN GENERAL` / regime 616 / use S01 with the branch's postal code, and the `global`
//! block names the period. Which sales a global covers is recorded in `global_invoice_sales`,
//! whose `active_sale_id` is unique: a sale can never stand in two globals, even when two runs
//! race.
//!
//! A sale already in a global that its customer later wants invoiced (motive 04): the nominative
//! invoice is issued, the sale leaves the global, and the global is cancelled with motive `04`;
//! once that cancellation is accepted its remaining sales are free again and the next run issues
//! a replacement for the same period without that sale.
//!
//! Building only writes rows: the caller enqueues `cfdi.stamp` for each invoice in the same
//! transaction (entities never reach the queues).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::invoicing::documents::CancellationStatus;
use crate::invoicing::fiscal::{parse_periodicity, periodicity_name};
use crate::invoicing::{documents, fiscal};
use crate::notifications::messages::{self, NewNotification};
use crate::org::audit::Entry;
use crate::rules::cfdi::{self, CfdiAmounts, LineTax, Periodicity, TicketLine};
use crate::rules::money::Money;
use crate::{Error, Page, PageRequest, Result};
use crate::{
    counter::sales, counter::tables::payment, counter::tables::sale, counter::tables::sale_line,
    counter::tables::sale_return_line, invoicing::invoices, invoicing::tables::global_invoice,
    invoicing::tables::global_invoice_sale, invoicing::tables::invoice,
    notifications::tables::notification, org::tables::branch,
};

/// The time zone periods are counted in: Mexico City, the schedules' own
/// (`schedules::TIMEZONE`; a test checks they agree).
pub const TIMEZONE: Tz = chrono_tz::America::Mexico_City;

/// Facturapi's limit of items per invoice (domain.md §1.3): a busier period gets several globals.
pub const MAX_CONCEPTS: usize = 5_000;

/// How far back a scheduled run looks for closed periods not yet invoiced, in days. A global is
/// due within 24 h of its period's close; the margin covers a scheduler or worker outage. Older
/// periods are run on demand (`POST /pos/api/invoices/global` with `from`/`to`).
pub const LOOKBACK_DAYS: i64 = 7;

/// How far back the periods of cancelled globals are checked for sales left without one (a
/// replacement not yet issued, or a nominative invoice that failed after the replacement).
pub const REPLACEMENT_DAYS: i64 = 400;

/// The longest range an on-demand run takes, in days.
pub const MAX_RANGE_DAYS: i64 = 366;

/// ClaveProdServ of a ticket in a global invoice (SAT's guide).
pub const PRODUCT_KEY: &str = "01010101";
/// ClaveUnidad of a ticket in a global invoice (`ACT`, actividad).
pub const UNIT_KEY: &str = "ACT";
/// Description of a ticket in a global invoice.
pub const DESCRIPTION: &str = "Venta";

fn last_of_month(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

fn first_of_month(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MIN)
}

/// The instant a local day starts in [`TIMEZONE`].
#[must_use]
pub fn local_midnight(d: NaiveDate) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    TIMEZONE.from_local_datetime(&naive).earliest().map_or_else(
        // Midnight never falls in a gap in Mexico City (its old DST switched at 02:00); were
        // it to, the fixed UTC−6 of today is the answer.
        || naive.and_utc() + Duration::hours(6),
        |t| t.with_timezone(&Utc),
    )
}

/// The local date of an instant in [`TIMEZONE`].
#[must_use]
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&TIMEZONE).date_naive()
}

/// A period of a global invoice: whole local days, `first..=last`. Weeks run Monday to Sunday
/// and are cut at the month's end, so that each period lies in one month (`global.months` is
/// then that month); fortnights are the 1st–15th and the 16th–end; two-month periods are the
/// bimesters of c_Meses (January–February = `13` … November–December = `18`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The periodicity.
    pub periodicity: Periodicity,
    /// First day.
    pub first: NaiveDate,
    /// Last day, inclusive.
    pub last: NaiveDate,
}

impl Period {
    /// The period of `periodicity` that contains `day`.
    #[must_use]
    pub fn containing(periodicity: Periodicity, day: NaiveDate) -> Self {
        let (y, m) = (day.year(), day.month());
        let (first, last) = match periodicity {
            Periodicity::Day => (day, day),
            Periodicity::Week => {
                let back = i64::from(day.weekday().num_days_from_monday());
                let monday = day - Duration::days(back);
                let sunday = monday + Duration::days(6);
                (
                    monday.max(first_of_month(y, m)),
                    sunday.min(last_of_month(y, m)),
                )
            }
            Periodicity::Fortnight => {
                if day.day() <= 15 {
                    (
                        first_of_month(y, m),
                        NaiveDate::from_ymd_opt(y, m, 15).unwrap_or(day),
                    )
                } else {
                    (
                        NaiveDate::from_ymd_opt(y, m, 16).unwrap_or(day),
                        last_of_month(y, m),
                    )
                }
            }
            Periodicity::Month => (first_of_month(y, m), last_of_month(y, m)),
            Periodicity::TwoMonths => {
                let m0 = (m - 1) / 2 * 2 + 1;
                (first_of_month(y, m0), last_of_month(y, m0 + 1))
            }
        };
        Self {
            periodicity,
            first,
            last,
        }
    }

    /// The period after this one.
    #[must_use]
    pub fn next(&self) -> Self {
        Self::containing(self.periodicity, self.last.succ_opt().unwrap_or(self.last))
    }

    /// When it starts.
    #[must_use]
    pub fn starts_at(&self) -> DateTime<Utc> {
        local_midnight(self.first)
    }

    /// When it ends (exclusive): the next day's local midnight.
    #[must_use]
    pub fn ends_at(&self) -> DateTime<Utc> {
        local_midnight(self.last.succ_opt().unwrap_or(self.last))
    }

    /// c_Meses: the month (`01`–`12`), or the bimester (`13`–`18`) for two-month periods.
    #[must_use]
    pub fn months(&self) -> String {
        let m = self.first.month();
        match self.periodicity {
            Periodicity::TwoMonths => format!("{}", 13 + (m - 1) / 2),
            _ => format!("{m:02}"),
        }
    }

    /// The year of the `global` block.
    #[must_use]
    pub fn year(&self) -> i32 {
        self.first.year()
    }
}

// ------------------------------------------------------------------------------------------
// Amounts (pure)
// ------------------------------------------------------------------------------------------

/// A ticket's share of a global invoice: its net amount (IVA included, after returns) per IVA
/// treatment present in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetSale {
    /// The sale.
    pub sale_id: Uuid,
    /// Its folio: the concepts' identification (NoIdentificacion).
    pub folio: String,
    /// Net centavos per IVA treatment, each above zero, 16 % before 8 % before exempt.
    pub parts: Vec<(LineTax, i64)>,
}

impl NetSale {
    /// The ticket's net total.
    #[must_use]
    pub fn total(&self) -> i64 {
        self.parts.iter().map(|(_, c)| c).sum()
    }
}

fn tax_order(t: LineTax) -> i64 {
    match t {
        LineTax::Iva { rate_bp } => -i64::from(rate_bp),
        LineTax::Exempt => i64::MAX,
    }
}

/// The net parts of a ticket from `(treatment, net centavos)` of its lines: summed per
/// treatment, zero parts dropped (a fully returned rate is no concept).
#[must_use]
pub fn net_parts(lines: impl IntoIterator<Item = (LineTax, i64)>) -> Vec<(LineTax, i64)> {
    let mut parts: Vec<(LineTax, i64)> = Vec::new();
    for (t, c) in lines {
        match parts.iter_mut().find(|(pt, _)| *pt == t) {
            Some((_, sum)) => *sum += c,
            None => parts.push((t, c)),
        }
    }
    parts.retain(|(_, c)| *c > 0);
    parts.sort_by_key(|(t, _)| tax_order(*t));
    parts
}

/// Splits tickets into invoices of at most `max_concepts` concepts, a ticket's concepts never
/// parted.
#[must_use]
pub fn split(sales: Vec<NetSale>, max_concepts: usize) -> Vec<Vec<NetSale>> {
    let mut out: Vec<Vec<NetSale>> = Vec::new();
    let mut n = 0;
    for s in sales {
        if out.is_empty() || n + s.parts.len() > max_concepts {
            out.push(Vec::new());
            n = 0;
        }
        n += s.parts.len();
        if let Some(last) = out.last_mut() {
            last.push(s);
        }
    }
    out
}

/// The CFDI amounts of a global invoice: one concept per ticket and treatment, computed like a
/// ticket line of one unit at the net amount (so its IVA is within SAT's bounds), and totals
/// that are sums of the concepts. The total is the tickets' net total to the centavo.
///
/// # Errors
/// [`Error::Validation`] from [`cfdi::cfdi_amounts`] (no concept, more than 5 000), or
/// [`Error::Internal`] if the total strayed from the tickets' (a bug).
pub fn amounts(sales: &[NetSale]) -> Result<CfdiAmounts> {
    let lines: Vec<TicketLine> = sales
        .iter()
        .flat_map(|s| {
            s.parts.iter().map(|(tax, cents)| TicketLine {
                qty: 1,
                unit_price_cents: *cents,
                discount_cents: 0,
                tax: *tax,
            })
        })
        .collect();
    let a = cfdi::cfdi_amounts(&lines)?;
    let expected: i64 = sales.iter().map(NetSale::total).sum();
    if a.total.0 != expected {
        return Err(Error::Internal(format!(
            "global invoice total {} differs from the tickets' {}",
            a.total,
            Money(expected)
        )));
    }
    Ok(a)
}

fn taxes_json(t: LineTax) -> serde_json::Value {
    match t {
        LineTax::Iva { .. } => {
            // TasaOCuota is written with 6 decimals.
            let mut rate = t.rate();
            rate.rescale(6);
            json!([{"type": "IVA", "rate": rate}])
        }
        LineTax::Exempt => json!([{"type": "IVA", "rate": 0, "factor": "Exento"}]),
    }
}

/// The Facturapi items of a global invoice. Each price is the ticket's IVA-included net amount
/// with `tax_included`, so the stamped total is the tickets' total to the centavo whichever way
/// the PAC breaks the IVA out (reliability.md §5: the ticket is authoritative).
#[must_use]
pub fn items_json(sales: &[NetSale]) -> Vec<serde_json::Value> {
    sales
        .iter()
        .flat_map(|s| {
            s.parts.iter().map(|(tax, cents)| {
                json!({
                    "quantity": 1,
                    "product": {
                        "description": DESCRIPTION,
                        "product_key": PRODUCT_KEY,
                        "unit_key": UNIT_KEY,
                        "unit_name": "Actividad",
                        "price": Money(*cents).to_decimal(),
                        "tax_included": true,
                        "taxes": taxes_json(*tax),
                        "sku": s.folio,
                    }
                })
            })
        })
        .collect()
}

/// c_FormaPago of a set of payments: the form of the largest amount (by form), `01` when none
/// counts. A credit sale's "payment" is no form of payment.
#[must_use]
pub fn payment_form(payments: &[payment::Model]) -> &'static str {
    let mut by_form: Vec<(&'static str, i64)> = Vec::new();
    for p in payments {
        let form = match p.method.as_str() {
            "card" => "04",
            "transfer" => "03",
            "cash" | "usd_cash" => "01",
            _ => continue,
        };
        match by_form.iter_mut().find(|(f, _)| *f == form) {
            Some((_, a)) => *a += p.amount_mxn_cents,
            None => by_form.push((form, p.amount_mxn_cents)),
        }
    }
    by_form
        .iter()
        // Ties go to the lower key, so the answer does not depend on the order of payments.
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map_or("01", |(f, _)| f)
}

// ------------------------------------------------------------------------------------------
// Which periods are due
// ------------------------------------------------------------------------------------------

/// What a run covers: one branch or all, and a range of local dates (a scheduled run: the last
/// [`LOOKBACK_DAYS`] days).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    /// One branch.
    pub branch_id: Option<Uuid>,
    /// First local date.
    pub from: Option<NaiveDate>,
    /// Last local date (inclusive).
    pub to: Option<NaiveDate>,
}

/// Checks an on-demand run's scope: the range in order and not too long, the branch this
/// tenant's.
///
/// # Errors
/// [`Error::Validation`] on `from` / `to`; [`Error::NotFound`] `branch`.
pub async fn check_scope(db: &impl ConnectionTrait, scope: &Scope) -> Result<()> {
    if let (Some(f), Some(t)) = (scope.from, scope.to) {
        if f > t {
            return Err(Error::validation("from", "from is after to"));
        }
        if (t - f).num_days() >= MAX_RANGE_DAYS {
            return Err(Error::validation(
                "to",
                format!("a run covers at most {MAX_RANGE_DAYS} days"),
            ));
        }
    }
    if let Some(b) = scope.branch_id {
        branch::Entity::find_by_id(b)
            .one(db)
            .await?
            .ok_or(Error::NotFound { entity: "branch" })?;
    }
    Ok(())
}

/// A global invoice to build: a branch's period that has free sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The branch.
    pub branch_id: Uuid,
    /// The period.
    pub period: Period,
    /// The cancelled global whose period this is.
    pub replaces: Option<Uuid>,
}

/// The business's periodicity, when global invoices can be issued at all (fiscal settings with
/// a Facturapi key).
///
/// # Errors
/// Database errors.
pub async fn periodicity(db: &impl ConnectionTrait) -> Result<Option<Periodicity>> {
    Ok(fiscal::fiscal(db)
        .await?
        .filter(|s| s.facturapi_key.is_some())
        .map(|s| parse_periodicity(&s.global_periodicity).unwrap_or(Periodicity::Day)))
}

/// Completed sales (also partially returned) sold in `[from, to)`, with no standing nominative
/// invoice and in no standing global invoice, oldest first.
///
/// # Errors
/// Database errors.
pub async fn free_sales(
    db: &impl ConnectionTrait,
    branch_id: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<sale::Model>> {
    let nominative = Query::select()
        .column(invoice::Column::SaleId)
        .from(invoice::Entity)
        .and_where(invoice::Column::Kind.eq("I"))
        .and_where(invoice::Column::SaleId.is_not_null())
        .and_where(invoice::Column::ActiveKey.is_not_null())
        .to_owned();
    let in_global = Query::select()
        .column(global_invoice_sale::Column::ActiveSaleId)
        .from(global_invoice_sale::Entity)
        .and_where(global_invoice_sale::Column::ActiveSaleId.is_not_null())
        .to_owned();
    let mut q = sale::Entity::find()
        .filter(sale::Column::CreatedAt.gte(from))
        .filter(sale::Column::CreatedAt.lt(to))
        .filter(
            sale::Column::Status
                .is_in([sales::Status::Completed, sales::Status::PartiallyReturned]),
        )
        .filter(sale::Column::Id.not_in_subquery(nominative))
        .filter(sale::Column::Id.not_in_subquery(in_global));
    if let Some(b) = branch_id {
        q = q.filter(sale::Column::BranchId.eq(b));
    }
    Ok(q.order_by_asc(sale::Column::CreatedAt)
        .order_by_asc(sale::Column::Id)
        .all(db)
        .await?)
}

/// The branch periods that need a global invoice at `now`: closed periods of the business's
/// periodicity within the scope that have free sales, and the periods of globals cancelled in
/// the last [`REPLACEMENT_DAYS`] days that have free sales again (their replacement). Ordered
/// by period, so a run that stops half-way leaves the newest for the next one.
///
/// # Errors
/// Database errors.
pub async fn due(
    db: &impl ConnectionTrait,
    periodicity: Periodicity,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<Target>> {
    fn push(t: Target, targets: &mut Vec<Target>) {
        if !targets
            .iter()
            .any(|x| x.branch_id == t.branch_id && x.period == t.period)
        {
            targets.push(t);
        }
    }
    let mut targets: Vec<Target> = Vec::new();

    // Replacements first, so a period of a cancelled global is built as its replacement.
    let cancelled = Query::select()
        .column(invoice::Column::Id)
        .from(invoice::Entity)
        .and_where(invoice::Column::CancellationStatus.eq(CancellationStatus::Accepted))
        .to_owned();
    let mut q = global_invoice::Entity::find()
        .filter(global_invoice::Column::InvoiceId.in_subquery(cancelled))
        .filter(global_invoice::Column::CreatedAt.gte(now - Duration::days(REPLACEMENT_DAYS)));
    if let Some(b) = scope.branch_id {
        q = q.filter(global_invoice::Column::BranchId.eq(b));
    }
    let mut gone = q
        .order_by_asc(global_invoice::Column::PeriodFrom)
        .all(db)
        .await?;
    // The latest cancelled global of a period is the one a replacement replaces.
    gone.sort_by_key(|g| (g.period_from, std::cmp::Reverse(g.created_at)));
    for g in gone {
        let Ok(p) = parse_periodicity(&g.periodicity) else {
            continue;
        };
        let period = Period::containing(p, local_date(g.period_from));
        if targets
            .iter()
            .any(|x| x.branch_id == g.branch_id && x.period == period)
        {
            continue;
        }
        if !free_sales(db, Some(g.branch_id), g.period_from, g.period_to)
            .await?
            .is_empty()
        {
            push(
                Target {
                    branch_id: g.branch_id,
                    period,
                    replaces: Some(g.invoice_id),
                },
                &mut targets,
            );
        }
    }

    let today = local_date(now);
    let from = scope.from.unwrap_or(today - Duration::days(LOOKBACK_DAYS));
    let to = scope.to.unwrap_or(today);
    let mut periods = Vec::new();
    let mut p = Period::containing(periodicity, from);
    while p.first <= to && p.ends_at() <= now {
        periods.push(p);
        let next = p.next();
        if next == p {
            break;
        }
        p = next;
    }
    if let (Some(first), Some(last)) = (periods.first(), periods.last()) {
        let sold = free_sales(db, scope.branch_id, first.starts_at(), last.ends_at()).await?;
        let mut seen: Vec<(Uuid, Period)> = Vec::new();
        for s in &sold {
            let period = Period::containing(periodicity, local_date(s.created_at));
            if !seen.contains(&(s.branch_id, period)) {
                seen.push((s.branch_id, period));
            }
        }
        seen.sort_by_key(|(b, p)| (p.first, *b));
        for (branch_id, period) in seen {
            push(
                Target {
                    branch_id,
                    period,
                    replaces: None,
                },
                &mut targets,
            );
        }
    }
    Ok(targets)
}

// ------------------------------------------------------------------------------------------
// Building
// ------------------------------------------------------------------------------------------

const CHUNK: usize = 500;

async fn net_sales(db: &impl ConnectionTrait, sold: &[sale::Model]) -> Result<Vec<NetSale>> {
    let mut lines: Vec<sale_line::Model> = Vec::new();
    for ids in sold.chunks(CHUNK) {
        lines.extend(
            sale_line::Entity::find()
                .filter(sale_line::Column::SaleId.is_in(ids.iter().map(|s| s.id)))
                .all(db)
                .await?,
        );
    }
    let mut refunds: HashMap<i64, i64> = HashMap::new();
    let returned: Vec<i64> = lines
        .iter()
        .filter(|l| l.returned_qty > 0)
        .map(|l| l.id)
        .collect();
    for ids in returned.chunks(CHUNK) {
        for r in sale_return_line::Entity::find()
            .filter(sale_return_line::Column::SaleLineId.is_in(ids.iter().copied()))
            .all(db)
            .await?
        {
            *refunds.entry(r.sale_line_id).or_default() += r.refund_cents;
        }
    }
    let mut by_sale: HashMap<Uuid, Vec<(LineTax, i64)>> = HashMap::new();
    for l in &lines {
        let net = l.total_cents - refunds.get(&l.id).copied().unwrap_or(0);
        by_sale.entry(l.sale_id).or_default().push((
            LineTax::Iva {
                rate_bp: l.iva_rate_bp,
            },
            net,
        ));
    }
    Ok(sold
        .iter()
        .map(|s| NetSale {
            sale_id: s.id,
            folio: s.folio.clone(),
            parts: net_parts(by_sale.remove(&s.id).unwrap_or_default()),
        })
        .filter(|n| !n.parts.is_empty())
        .collect())
}

async fn payments_of(db: &impl ConnectionTrait, sold: &[NetSale]) -> Result<Vec<payment::Model>> {
    let mut out = Vec::new();
    for ids in sold.chunks(CHUNK) {
        out.extend(
            payment::Entity::find()
                .filter(payment::Column::SaleId.is_in(ids.iter().map(|s| s.sale_id)))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

fn unique_violation(e: sea_orm::DbErr) -> Error {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
            "global_invoice_in_progress",
            "another run is invoicing these sales to the general public",
        ),
        _ => Error::Db(e),
    }
}

/// Records the global invoices of a target: its free sales read again here, inside the
/// caller's write transaction, split at [`MAX_CONCEPTS`]; each invoice with the exact request
/// its stamping will send, its period row and its sales. Nothing when the period has no free
/// sale left (another run took them, or they were all returned). The caller enqueues
/// `cfdi.stamp` for each invoice before committing.
///
/// # Errors
/// [`Error::Conflict`] `fiscal_settings_missing`, or `global_invoice_in_progress` when a
/// concurrent run took some of the sales first (roll back: the other run covers them);
/// [`Error::NotFound`] `branch`; [`Error::Validation`] `branch.postal_code` and any local CFDI
/// check.
pub async fn build(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    target: &Target,
) -> Result<Vec<invoice::Model>> {
    build_with(db, user, target, MAX_CONCEPTS).await
}

/// [`build`] with another concept limit per invoice (tests split small periods).
///
/// # Errors
/// As [`build`].
pub async fn build_with(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    target: &Target,
    max_concepts: usize,
) -> Result<Vec<invoice::Model>> {
    let settings = fiscal::issuing_settings(db).await?;
    let b = branch::Entity::find_by_id(target.branch_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "branch" })?;
    let zip = b.postal_code.clone().ok_or_else(|| {
        Error::validation(
            "branch.postal_code",
            format!(
                "branch {} needs its postal code: it is the global invoice's place of issue",
                b.code
            ),
        )
    })?;
    let period = target.period;
    let receiver = cfdi::validate_receiver(
        &cfdi::ReceiverInput {
            tax_id: cfdi::RFC_GENERAL_PUBLIC,
            legal_name: cfdi::GENERAL_PUBLIC_NAME,
            tax_system: cfdi::REGIME_NO_OBLIGATIONS,
            zip: &zip,
            cfdi_use: cfdi::USE_NO_TAX_EFFECTS,
        },
        &zip,
    )?;
    cfdi::validate_global(period.periodicity, &period.months(), period.year())?;
    cfdi::validate_keys(0, PRODUCT_KEY, UNIT_KEY)?;

    let sold = free_sales(
        db,
        Some(target.branch_id),
        period.starts_at(),
        period.ends_at(),
    )
    .await?;
    let nets = net_sales(db, &sold).await?;
    let mut out = Vec::new();
    for part in split(nets, max_concepts.clamp(1, MAX_CONCEPTS)) {
        let amounts = amounts(&part)?;
        let payments = payments_of(db, &part).await?;
        let form = payment_form(&payments);
        cfdi::validate_payment(form, "PUE")?;
        let id = Uuid::now_v7();
        let key = documents::attempt_key(id, 0);
        let request = json!({
            "type": "I",
            "customer": {
                "legal_name": receiver.legal_name,
                "tax_id": receiver.rfc.value,
                "tax_system": receiver.tax_system,
                "address": {"zip": receiver.zip},
            },
            "items": items_json(&part),
            "payment_form": form,
            "payment_method": "PUE",
            "use": receiver.cfdi_use,
            "global": {
                "periodicity": periodicity_name(period.periodicity),
                "months": period.months(),
                "year": period.year(),
            },
            "series": settings.invoice_series,
            "external_id": id.to_string(),
            "idempotency_key": key,
        });
        let now = crate::now();
        let row = documents::insert_pending(
            db,
            user,
            documents::PendingInvoice {
                id,
                kind: "I",
                sale_id: None,
                active_key: None,
                customer_id: None,
                series: settings.invoice_series.clone(),
                receiver_rfc: receiver.rfc.value.clone(),
                receiver_name: receiver.legal_name.clone(),
                cfdi_use: receiver.cfdi_use.clone(),
                payment_form: form.to_owned(),
                payment_method: "PUE".into(),
                total_cents: amounts.total.0,
                tax_cents: amounts.total_taxes.0,
                request,
                lines: Some(documents::lines_json(
                    part.iter()
                        .flat_map(|s| s.parts.iter().map(|_| (DESCRIPTION, s.folio.as_str()))),
                    &amounts,
                )),
            },
        )
        .await?;
        global_invoice::ActiveModel {
            invoice_id: Set(id),
            branch_id: Set(target.branch_id),
            periodicity: Set(periodicity_name(period.periodicity).to_owned()),
            period_from: Set(period.starts_at()),
            period_to: Set(period.ends_at()),
            months: Set(period.months()),
            year: Set(period.year()),
            replaces: Set(target.replaces),
            sales: Set(i32::try_from(part.len()).unwrap_or(i32::MAX)),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
        for chunk in part.chunks(CHUNK) {
            global_invoice_sale::Entity::insert_many(chunk.iter().map(|s| {
                global_invoice_sale::ActiveModel {
                    invoice_id: Set(id),
                    sale_id: Set(s.sale_id),
                    active_sale_id: Set(Some(s.sale_id)),
                    total_cents: Set(s.total()),
                }
            }))
            .exec_without_returning(db)
            .await
            .map_err(unique_violation)?;
        }
        Entry::new("invoice.global_requested")
            .actor(user)
            .target("invoice", id)
            .details(json!({
                "branch_id": target.branch_id,
                "periodicity": periodicity_name(period.periodicity),
                "first": period.first,
                "last": period.last,
                "sales": part.len(),
                "total": row.total_cents,
                "replaces": target.replaces,
            }))
            .record_tenant(db)
            .await?;
        out.push(row);
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// Leaving a global
// ------------------------------------------------------------------------------------------

/// The global invoice a sale stands in, if any.
///
/// # Errors
/// Database errors.
pub async fn standing_global_of(
    db: &impl ConnectionTrait,
    sale_id: Uuid,
) -> Result<Option<invoice::Model>> {
    let Some(m) = global_invoice_sale::Entity::find()
        .filter(global_invoice_sale::Column::ActiveSaleId.eq(sale_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(invoice::Entity::find_by_id(m.invoice_id).one(db).await?)
}

/// Takes a sale out of its standing global invoice because it is being invoiced to its
/// customer (call it in the transaction that records the nominative invoice). The global is
/// then asked to be cancelled with motive `04` (returned: the caller enqueues `cfdi.cancel`),
/// unless its cancellation is already under way; its other sales get a replacement once the
/// cancellation is accepted.
///
/// # Errors
/// [`Error::Conflict`] `global_invoice_stamping` while the global is still being stamped (it
/// cannot be cancelled yet: ask again in a minute); database errors.
pub async fn detach_for_nominative(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    sale_id: Uuid,
) -> Result<Option<invoice::Model>> {
    let Some(g) = standing_global_of(db, sale_id).await? else {
        return Ok(None);
    };
    if g.status == documents::Status::Pending {
        return Err(Error::conflict(
            "global_invoice_stamping",
            "the sale is in a global invoice still being stamped; ask again in a minute",
        ));
    }
    global_invoice_sale::Entity::update_many()
        .col_expr(
            global_invoice_sale::Column::ActiveSaleId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(global_invoice_sale::Column::ActiveSaleId.eq(sale_id))
        .exec(db)
        .await?;
    Entry::new("invoice.global_left")
        .actor(user)
        .target("invoice", g.id)
        .details(json!({"sale_id": sale_id, "reason": "nominative invoice requested"}))
        .record_tenant(db)
        .await?;
    if g.status == documents::Status::Valid
        && matches!(
            g.cancellation_status,
            CancellationStatus::None | CancellationStatus::Rejected
        )
    {
        let c = invoices::request_cancellation(db, user, g.id, "04", None).await?;
        return Ok(Some(c));
    }
    Ok(None)
}

/// A global invoice whose motive-04 cancellation the SAT (or Facturapi) refused: the sales that
/// left it for a nominative invoice now stand in both, which an operator must put right (cancel
/// the global again once the cause is fixed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedCancellation {
    /// The global invoice.
    pub invoice_id: Uuid,
    /// Its series and folio (`A12`, as its files are named), once stamped.
    pub folio: Option<String>,
    /// Its fiscal UUID.
    pub uuid: Option<String>,
    /// The sales that left it for a nominative invoice: id and folio.
    pub sales: Vec<(Uuid, String)>,
    /// What Facturapi said, when it refused the request itself.
    pub why: Option<String>,
}

impl RefusedCancellation {
    /// The alert's text, naming the global, the sales and what to do.
    #[must_use]
    pub fn reason(&self) -> String {
        let folio = self.folio.as_deref().unwrap_or("without folio");
        let uuid = self.uuid.as_deref().unwrap_or("unknown");
        let sales = self
            .sales
            .iter()
            .map(|(id, folio)| format!("{folio} ({id})"))
            .collect::<Vec<_>>()
            .join(", ");
        let (noun, verb) = if self.sales.len() == 1 {
            ("sale", "is")
        } else {
            ("sales", "are")
        };
        let mut text = format!(
            "the SAT refused cancelling the global invoice {folio} (UUID {uuid}, invoice {id}) \
             with motive 04; the {noun} {sales} {verb} now in both the global and a nominative \
             invoice: cancel the global again with motive 04 (POST /pos/api/invoices/{id}/cancel) \
             once the cause is fixed",
            id = self.invoice_id,
        );
        if let Some(why) = &self.why {
            text.push_str(&format!(". Facturapi said: {why}"));
        }
        text
    }
}

/// What operators must be told when `inv`, as just recorded, is a global invoice whose
/// motive-04 cancellation was rejected; `None` for any other invoice or status. The sales named
/// are those that left the global (no longer standing in it): its cancellation was asked for
/// them.
///
/// # Errors
/// Database errors.
pub async fn refused_motive_04(
    db: &impl ConnectionTrait,
    inv: &invoice::Model,
    why: Option<&str>,
) -> Result<Option<RefusedCancellation>> {
    if inv.cancellation_status != CancellationStatus::Rejected
        || inv.cancellation_motive.as_deref() != Some("04")
        || global_of(db, inv.id).await?.is_none()
    {
        return Ok(None);
    }
    let left: Vec<Uuid> = global_invoice_sale::Entity::find()
        .filter(global_invoice_sale::Column::InvoiceId.eq(inv.id))
        .filter(global_invoice_sale::Column::ActiveSaleId.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.sale_id)
        .collect();
    let mut sales = Vec::new();
    for ids in left.chunks(CHUNK) {
        sales.extend(
            sale::Entity::find()
                .filter(sale::Column::Id.is_in(ids.iter().copied()))
                .order_by_asc(sale::Column::Folio)
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.folio)),
        );
    }
    let folio = inv.folio_number.map(|n| match &inv.series {
        Some(series) => format!("{series}{n}"),
        None => n.to_string(),
    });
    Ok(Some(RefusedCancellation {
        invoice_id: inv.id,
        folio,
        uuid: inv.uuid.clone(),
        sales,
        why: why.map(str::to_owned),
    }))
}

/// Raises the operators' alert of a refused motive-04 cancellation: one e-mail notification
/// (template `global_cancellation_rejected`, about the invoice) per recipient, and an audit
/// entry. Call it in the transaction that records the rejection; the caller enqueues each
/// notification's `notify.send`.
///
/// # Errors
/// Database errors.
pub async fn alert_refused_cancellation(
    db: &impl ConnectionTrait,
    refused: &RefusedCancellation,
    recipients: &[String],
) -> Result<Vec<notification::Model>> {
    let reason = refused.reason();
    let payload = json!({
        "reason": reason,
        "invoice_id": refused.invoice_id,
        "folio": refused.folio,
        "uuid": refused.uuid,
        "sales": refused.sales.iter().map(|(id, folio)| json!({"id": id, "folio": folio})).collect::<Vec<_>>(),
        "facturapi": refused.why,
    });
    let mut out = Vec::new();
    for to in recipients {
        out.push(
            messages::create(
                db,
                NewNotification {
                    channel: "email",
                    recipient: to,
                    template: "global_cancellation_rejected",
                    ref_type: "invoice",
                    ref_id: refused.invoice_id.to_string(),
                    payload: payload.clone(),
                },
            )
            .await?,
        );
    }
    Entry::new("invoice.global_cancellation_rejected")
        .target("invoice", refused.invoice_id)
        .details(payload)
        .record_tenant(db)
        .await?;
    Ok(out)
}

/// The global invoice row of an invoice, if it is one.
///
/// # Errors
/// Database errors.
pub async fn global_of(
    db: &impl ConnectionTrait,
    invoice_id: Uuid,
) -> Result<Option<global_invoice::Model>> {
    Ok(global_invoice::Entity::find_by_id(invoice_id)
        .one(db)
        .await?)
}

/// The sales a global invoice covers (standing or not), with their amounts.
///
/// # Errors
/// Database errors.
pub async fn sales_of(
    db: &impl ConnectionTrait,
    invoice_id: Uuid,
) -> Result<Vec<global_invoice_sale::Model>> {
    Ok(global_invoice_sale::Entity::find()
        .filter(global_invoice_sale::Column::InvoiceId.eq(invoice_id))
        .all(db)
        .await?)
}

// ------------------------------------------------------------------------------------------
// Listing invoices
// ------------------------------------------------------------------------------------------

/// Filters of the invoice list.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    /// `I`, `E`, `P`, or `global` (type I to the general public).
    pub kind: Option<String>,
    /// `pending`, `valid` or `failed`.
    pub status: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Only documents of these branches (the caller's scope; [`documents::branch_of`]).
    pub branch_ids: Option<Vec<Uuid>>,
}

/// Lists invoices, newest first.
///
/// # Errors
/// [`Error::Validation`] on `kind` or `status`; database errors.
pub async fn list_invoices(
    db: &impl ConnectionTrait,
    f: &InvoiceFilter,
    page: PageRequest,
) -> Result<Page<invoice::Model>> {
    let mut q = invoice::Entity::find()
        .order_by_desc(invoice::Column::CreatedAt)
        .order_by_desc(invoice::Column::Id);
    match f.kind.as_deref() {
        None => {}
        Some("global") => {
            let globals = Query::select()
                .column(global_invoice::Column::InvoiceId)
                .from(global_invoice::Entity)
                .to_owned();
            q = q.filter(invoice::Column::Id.in_subquery(globals));
        }
        Some(k @ ("I" | "E" | "P")) => q = q.filter(invoice::Column::Kind.eq(k)),
        Some(_) => {
            return Err(Error::validation("kind", "one of I, E, P, global"));
        }
    }
    match f.status.as_deref() {
        None => {}
        Some(s @ ("pending" | "valid" | "failed")) => {
            q = q.filter(invoice::Column::Status.eq(s));
        }
        Some(_) => {
            return Err(Error::validation("status", "one of pending, valid, failed"));
        }
    }
    if let (Some(a), Some(b)) = (f.from, f.to)
        && a > b
    {
        return Err(Error::validation("from", "from is after to"));
    }
    if let Some(a) = f.from {
        q = q.filter(invoice::Column::CreatedAt.gte(a));
    }
    if let Some(b) = f.to {
        q = q.filter(invoice::Column::CreatedAt.lt(b));
    }
    if let Some(branches) = &f.branch_ids {
        let of_sales = Query::select()
            .column(sale::Column::Id)
            .from(sale::Entity)
            .and_where(sale::Column::BranchId.is_in(branches.iter().copied()))
            .to_owned();
        let globals = Query::select()
            .column(global_invoice::Column::InvoiceId)
            .from(global_invoice::Entity)
            .and_where(global_invoice::Column::BranchId.is_in(branches.iter().copied()))
            .to_owned();
        q = q.filter(
            sea_orm::Condition::any()
                .add(invoice::Column::SaleId.in_subquery(of_sales))
                .add(invoice::Column::Id.in_subquery(globals)),
        );
    }
    let total = q.clone().count(db).await?;
    let items = q
        .offset((page.page - 1) * page.per_page)
        .limit(page.per_page)
        .all(db)
        .await?;
    Ok(Page {
        items,
        page: page.page,
        per_page: page.per_page,
        total,
    })
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_are_whole_local_days_and_weeks_stay_in_their_month() {
        let p = Period::containing(Periodicity::Day, d("2026-11-24"));
        assert_eq!((p.first, p.last), (d("2026-11-24"), d("2026-11-24")));
        // Midnight in Mexico City is 06:00 UTC.
        assert_eq!(p.starts_at().to_rfc3339(), "2026-11-24T06:00:00+00:00");
        assert_eq!(p.ends_at().to_rfc3339(), "2026-11-25T06:00:00+00:00");
        assert_eq!((p.months().as_str(), p.year()), ("11", 2026));

        // Monday 2026-11-30 to Sunday 2026-12-06 is cut at the month's end.
        let w = Period::containing(Periodicity::Week, d("2026-12-02"));
        assert_eq!((w.first, w.last), (d("2026-12-01"), d("2026-12-06")));
        let w0 = Period::containing(Periodicity::Week, d("2026-11-30"));
        assert_eq!((w0.first, w0.last), (d("2026-11-30"), d("2026-11-30")));
        assert_eq!(w0.next(), w);
        let mid = Period::containing(Periodicity::Week, d("2026-11-19"));
        assert_eq!((mid.first, mid.last), (d("2026-11-16"), d("2026-11-22")));

        let f = Period::containing(Periodicity::Fortnight, d("2026-02-20"));
        assert_eq!((f.first, f.last), (d("2026-02-16"), d("2026-02-28")));
        assert_eq!(f.next().first, d("2026-03-01"));
        let m = Period::containing(Periodicity::Month, d("2028-02-10"));
        assert_eq!(m.last, d("2028-02-29"));
        let b = Period::containing(Periodicity::TwoMonths, d("2026-12-31"));
        assert_eq!((b.first, b.last), (d("2026-11-01"), d("2026-12-31")));
        assert_eq!(b.months(), "18");
        assert_eq!(
            Period::containing(Periodicity::TwoMonths, d("2026-01-05")).months(),
            "13"
        );
        assert_eq!(b.next().first, d("2027-01-01"));
        for p in [p, w, f, m, b] {
            cfdi::validate_global(p.periodicity, &p.months(), p.year()).unwrap();
        }
    }

    #[test]
    fn every_day_lies_in_exactly_one_period_of_each_periodicity() {
        for per in [
            Periodicity::Day,
            Periodicity::Week,
            Periodicity::Fortnight,
            Periodicity::Month,
            Periodicity::TwoMonths,
        ] {
            let mut p = Period::containing(per, d("2025-12-20"));
            let mut day = p.first;
            while day < d("2027-03-01") {
                assert!(p.first <= day && day <= p.last, "{per:?} {day}");
                assert_eq!(Period::containing(per, day), p);
                day = day.succ_opt().unwrap();
                if day > p.last {
                    let n = p.next();
                    assert_eq!(n.first, day, "periods follow each other without a gap");
                    p = n;
                }
            }
        }
    }

    #[test]
    fn the_mexico_city_zone_is_the_schedules_zone() {
        assert_eq!(TIMEZONE.name(), "America/Mexico_City");
    }

    fn sale(parts: Vec<(LineTax, i64)>) -> NetSale {
        NetSale {
            sale_id: Uuid::now_v7(),
            folio: "MTY-01-000001".into(),
            parts,
        }
    }

    #[test]
    fn a_ticket_gives_one_concept_per_iva_treatment_net_of_returns() {
        let parts = net_parts([
            (LineTax::IVA16, 10_000),
            (LineTax::IVA8, 5_000),
            (LineTax::IVA16, 2_550),
            (LineTax::Exempt, 700),
            // A line fully returned.
            (LineTax::IVA8, 0),
        ]);
        assert_eq!(
            parts,
            vec![
                (LineTax::IVA16, 12_550),
                (LineTax::IVA8, 5_000),
                (LineTax::Exempt, 700)
            ]
        );
        let s = sale(parts);
        let items = items_json(std::slice::from_ref(&s));
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["product"]["product_key"], PRODUCT_KEY);
        assert_eq!(items[0]["product"]["unit_key"], UNIT_KEY);
        assert_eq!(items[0]["product"]["description"], DESCRIPTION);
        assert_eq!(items[0]["product"]["sku"], "MTY-01-000001");
        assert_eq!(items[2]["product"]["taxes"][0]["factor"], "Exento");
        let a = amounts(&[s]).unwrap();
        assert_eq!(a.total, Money(18_250));
        assert_eq!(a.concepts.len(), 3);
        assert_eq!(a.concepts[2].tax.amount, None);
    }

    #[test]
    fn thousands_of_random_tickets_make_a_global_total_equal_to_the_tickets_to_the_cent() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x0610_0BA1);
        let mut concepts = 0usize;
        for _ in 0..200 {
            let n = rng.random_range(1..60);
            let tickets: Vec<NetSale> = (0..n)
                .map(|_| {
                    let lines = (0..rng.random_range(1..6)).map(|_| {
                        let tax = match rng.random_range(0..5) {
                            0..=2 => LineTax::IVA16,
                            3 => LineTax::IVA8,
                            _ => LineTax::Exempt,
                        };
                        (tax, rng.random_range(0..2_000_000))
                    });
                    sale(net_parts(lines))
                })
                .filter(|s| !s.parts.is_empty())
                .collect();
            if tickets.is_empty() {
                continue;
            }
            let expected: i64 = tickets.iter().map(NetSale::total).sum();
            let a = amounts(&tickets).unwrap();
            assert_eq!(a.total.0, expected);
            for c in &a.concepts {
                assert_eq!(c.quantity, 1);
                // ValorUnitario has 6 decimals and is the base exactly (one unit, no discount).
                assert_eq!(c.unit_value, c.amount.to_decimal());
                if let (Some(rate), Some(tax)) = (c.tax.rate, c.tax.amount) {
                    let (lo, hi) = cfdi::sat_tax_bounds(c.tax.base.to_decimal(), 2, rate);
                    assert!(lo <= tax.to_decimal() && tax.to_decimal() <= hi, "{c:?}");
                }
            }
            concepts += a.concepts.len();
        }
        assert!(concepts > 10_000, "{concepts} concepts checked");
    }

    #[test]
    fn more_concepts_than_the_limit_split_into_several_invoices_without_parting_a_ticket() {
        let tickets: Vec<NetSale> = (0..7)
            .map(|i| {
                sale(if i % 2 == 0 {
                    vec![(LineTax::IVA16, 100), (LineTax::IVA8, 100)]
                } else {
                    vec![(LineTax::IVA16, 100)]
                })
            })
            .collect();
        let parts = split(tickets.clone(), 4);
        assert!(
            parts
                .iter()
                .all(|p| p.iter().map(|s| s.parts.len()).sum::<usize>() <= 4)
        );
        assert_eq!(parts.concat(), tickets);
        assert_eq!(split(tickets.clone(), MAX_CONCEPTS).len(), 1);
        assert!(split(Vec::new(), 4).is_empty());
    }

    #[test]
    fn a_refused_cancellation_s_alert_names_the_global_the_sales_and_what_to_do() {
        let id = Uuid::now_v7();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut r = RefusedCancellation {
            invoice_id: id,
            folio: Some("A12".into()),
            uuid: Some("0A1B2C3D-0000-4000-8000-00000000ABCD".into()),
            sales: vec![(a, "MTY-01-000007".into())],
            why: None,
        };
        assert_eq!(
            r.reason(),
            format!(
                "the SAT refused cancelling the global invoice A12 (UUID \
                 0A1B2C3D-0000-4000-8000-00000000ABCD, invoice {id}) with motive 04; the sale \
                 MTY-01-000007 ({a}) is now in both the global and a nominative invoice: cancel \
                 the global again with motive 04 (POST /pos/api/invoices/{id}/cancel) once the \
                 cause is fixed"
            )
        );
        r.sales.push((b, "MTY-01-000009".into()));
        r.why = Some("SAT does not allow cancelling this invoice".into());
        let text = r.reason();
        assert!(
            text.contains(&format!(
                "the sales MTY-01-000007 ({a}), MTY-01-000009 ({b}) are now in both"
            )),
            "{text}"
        );
        assert!(
            text.ends_with(". Facturapi said: SAT does not allow cancelling this invoice"),
            "{text}"
        );
    }

    fn pay(method: &str, cents: i64) -> payment::Model {
        payment::Model {
            id: 0,
            sale_id: Uuid::nil(),
            method: method.into(),
            currency: "MXN".into(),
            amount_minor: cents,
            amount_mxn_cents: cents,
            exchange_rate_micros: 1_000_000,
            reference: None,
            created_at: crate::now(),
        }
    }

    #[test]
    fn the_payment_form_is_that_of_the_largest_amount_or_cash() {
        assert_eq!(payment_form(&[]), "01");
        assert_eq!(payment_form(&[pay("credit", 10_000)]), "01");
        assert_eq!(
            payment_form(&[pay("cash", 300), pay("card", 500), pay("cash", 300)]),
            "01"
        );
        assert_eq!(payment_form(&[pay("cash", 300), pay("card", 700)]), "04");
        assert_eq!(
            payment_form(&[pay("transfer", 5), pay("usd_cash", 4)]),
            "03"
        );
    }
}
