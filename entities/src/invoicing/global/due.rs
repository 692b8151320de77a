//! Which periods are due: the scope of a run, the business's periodicity, and the free sales of each closed period.

use super::*;

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
