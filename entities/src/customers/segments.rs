//! Saved segments: customers matching every rule given (spent in the last N days, price list,
//! tag, bought at a branch, owns a vehicle of a make, last purchase before a date), evaluated as
//! one SQL condition so that counting 200,000 customers never loads them.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, SqlErr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::counter::tables::sale;
use crate::customers::tables::{customer, customer_tag, segment};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::pricing::prices::check_list;
use crate::vehicles::tables::customer_vehicle;
use crate::{Error, Page, PageRequest, Result};

/// A segment's rules; every rule given must hold (none given: every customer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Spent at least this much (sales less refunds, MXN centavos) in the last `spent_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_min_cents: Option<i64>,
    /// The window of `spent_min_cents`, 1 to 3650 days (365 when only the amount is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_days: Option<i64>,
    /// On this price list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_list: Option<String>,
    /// Carries this tag (matched folded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Bought at this branch at least once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<Uuid>,
    /// Owns a registered vehicle of this make (case and accents ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_make: Option<String>,
    /// Bought before, and not since, this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_purchase_before: Option<NaiveDate>,
}

impl Rules {
    /// The rules checked and normalised (the tag and make folded, the window defaulted).
    ///
    /// # Errors
    /// [`Error::Validation`] naming the rule (`rules.<name>`).
    pub fn checked(mut self) -> Result<Self> {
        if let Some(c) = self.spent_min_cents
            && !(0..=crate::rules::money::MAX_CENTS).contains(&c)
        {
            return Err(Error::validation(
                "rules.spent_min",
                "spent_min is zero or more",
            ));
        }
        if let Some(d) = self.spent_days {
            if !(1..=3650).contains(&d) {
                return Err(Error::validation(
                    "rules.spent_days",
                    "spent_days is 1 to 3650",
                ));
            }
            if self.spent_min_cents.is_none() {
                return Err(Error::validation(
                    "rules.spent_days",
                    "spent_days goes with spent_min",
                ));
            }
        }
        if self.spent_min_cents.is_some() && self.spent_days.is_none() {
            self.spent_days = Some(365);
        }
        if let Some(l) = &self.price_list {
            self.price_list = Some(check_list("rules.price_list", l)?.to_owned());
        }
        if let Some(t) = &self.tag {
            let (_, key) = crate::customers::tags::check_tag(t)
                .map_err(|_| Error::validation("rules.tag", "a tag is 1 to 40 characters"))?;
            self.tag = Some(key);
        }
        if let Some(m) = &self.vehicle_make {
            let m = crate::catalog::text::fold(m.trim());
            if m.is_empty() || m.chars().count() > 60 {
                return Err(Error::validation(
                    "rules.vehicle_make",
                    "a make is 1 to 60 characters",
                ));
            }
            self.vehicle_make = Some(m);
        }
        Ok(self)
    }

    /// The SQL condition on `customers` (the rules already checked); `today` anchors windows.
    #[must_use]
    pub fn condition(&self, today: NaiveDate) -> Condition {
        let mut c = Condition::all();
        if let (Some(min), Some(days)) = (self.spent_min_cents, self.spent_days) {
            let since = today - chrono::Duration::days(days - 1);
            let since = crate::invoicing::global::local_midnight(since);
            let spent = Query::select()
                .column(sale::Column::CustomerId)
                .from(sale::Entity)
                .and_where(sale::Column::CreatedAt.gte(since))
                .and_where(sale::Column::Status.ne(sale::Status::Cancelled))
                .and_where(sale::Column::CustomerId.is_not_null())
                .group_by_col(sale::Column::CustomerId)
                .and_having(
                    Expr::expr(Func::sum(
                        Expr::col(sale::Column::TotalCents)
                            .sub(Expr::col(sale::Column::RefundedCents)),
                    ))
                    .gte(min),
                )
                .to_owned();
            c = c.add(customer::Column::Id.in_subquery(spent));
        }
        if let Some(l) = &self.price_list {
            c = c.add(customer::Column::PriceList.eq(l.as_str()));
        }
        if let Some(t) = &self.tag {
            let tagged = Query::select()
                .column(customer_tag::Column::CustomerId)
                .from(customer_tag::Entity)
                .and_where(customer_tag::Column::TagKey.eq(t.as_str()))
                .to_owned();
            c = c.add(customer::Column::Id.in_subquery(tagged));
        }
        if let Some(b) = self.branch_id {
            let bought = Query::select()
                .column(sale::Column::CustomerId)
                .from(sale::Entity)
                .and_where(sale::Column::BranchId.eq(b))
                .and_where(sale::Column::CustomerId.is_not_null())
                .to_owned();
            c = c.add(customer::Column::Id.in_subquery(bought));
        }
        if let Some(m) = &self.vehicle_make {
            // Makes are stored as decoded (`NISSAN`, `Nissan`): compared lower-cased; accents in
            // makes are rare enough that folding in SQL is not worth a function per backend.
            let owns = Query::select()
                .column(customer_vehicle::Column::CustomerId)
                .from(customer_vehicle::Entity)
                .and_where(
                    Expr::expr(Func::lower(Expr::col(customer_vehicle::Column::Make)))
                        .eq(m.as_str()),
                )
                .and_where(customer_vehicle::Column::CustomerId.is_not_null())
                .to_owned();
            c = c.add(customer::Column::Id.in_subquery(owns));
        }
        if let Some(d) = self.last_purchase_before {
            // The business's day: midnight in Mexico City, not in UTC (6 hours apart, so a sale
            // made this evening is "before tomorrow" whatever the UTC date says).
            let at = crate::invoicing::global::local_midnight(d);
            let lapsed = Query::select()
                .column(sale::Column::CustomerId)
                .from(sale::Entity)
                .and_where(sale::Column::Status.ne(sale::Status::Cancelled))
                .and_where(sale::Column::CustomerId.is_not_null())
                .group_by_col(sale::Column::CustomerId)
                .and_having(Expr::expr(Func::max(Expr::col(sale::Column::CreatedAt))).lt(at))
                .to_owned();
            c = c.add(customer::Column::Id.in_subquery(lapsed));
        }
        c
    }
}

fn check_name(name: &str) -> Result<(String, String)> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::validation("name", "a name is 1 to 80 characters"));
    }
    let key = crate::catalog::text::fold(&name);
    Ok((name, key))
}

/// The rules stored on a segment.
///
/// # Errors
/// [`Error::Internal`] when the stored JSON no longer reads (never written by this code).
pub fn rules_of(s: &segment::Model) -> Result<Rules> {
    serde_json::from_value(s.rules.clone())
        .map_err(|e| Error::Internal(format!("segment {} rules: {e}", s.id)))
}

fn audit(actor: &Actor, action: &str, s: &segment::Model) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("customer_segment", s.id)
        .request(None, actor.request_id.clone())
        .details(json!({"name": s.name, "rules": s.rules}))
}

fn name_taken(e: &sea_orm::DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Saves a segment, audited.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::Conflict`] `segment_name_taken`.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    name: &str,
    rules: Rules,
) -> Result<segment::Model> {
    let (name, key) = check_name(name)?;
    let rules = rules.checked()?;
    let now = crate::now();
    let s = segment::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        name_key: Set(key),
        rules: Set(json!(rules)),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if name_taken(&e) {
            Error::conflict("segment_name_taken", "a segment has that name")
        } else {
            e.into()
        }
    })?;
    audit(actor, "customer.segment_created", &s)
        .record_tenant(db)
        .await?;
    Ok(s)
}

/// One segment.
///
/// # Errors
/// [`Error::NotFound`] `segment`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<segment::Model> {
    segment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "segment" })
}

/// Changes a segment's name or rules, audited.
///
/// # Errors
/// As [`create`]; [`Error::NotFound`] `segment`.
pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    name: Option<&str>,
    rules: Option<Rules>,
) -> Result<segment::Model> {
    let s = get(db, id).await?;
    let mut am: segment::ActiveModel = s.into();
    if let Some(n) = name {
        let (name, key) = check_name(n)?;
        am.name = Set(name);
        am.name_key = Set(key);
    }
    if let Some(r) = rules {
        am.rules = Set(json!(r.checked()?));
    }
    am.updated_at = Set(crate::now());
    let s = am.update(db).await.map_err(|e| {
        if name_taken(&e) {
            Error::conflict("segment_name_taken", "a segment has that name")
        } else {
            e.into()
        }
    })?;
    audit(actor, "customer.segment_updated", &s)
        .record_tenant(db)
        .await?;
    Ok(s)
}

/// Deletes a segment, audited.
///
/// # Errors
/// [`Error::NotFound`] `segment`.
pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<()> {
    let s = get(db, id).await?;
    segment::Entity::delete_by_id(id).exec(db).await?;
    audit(actor, "customer.segment_deleted", &s)
        .record_tenant(db)
        .await?;
    Ok(())
}

/// Segments by name.
///
/// # Errors
/// Database errors.
pub async fn list(db: &impl ConnectionTrait, page: PageRequest) -> Result<Page<segment::Model>> {
    page.fetch(
        db,
        segment::Entity::find().order_by_asc(segment::Column::NameKey),
    )
    .await
}

/// How many customers match (active ones only: a campaign never reaches a deactivated
/// customer), counted in SQL.
///
/// # Errors
/// Database errors.
pub async fn count(db: &impl ConnectionTrait, rules: &Rules, today: NaiveDate) -> Result<u64> {
    Ok(customer::Entity::find()
        .filter(customer::Column::IsActive.eq(true))
        .filter(rules.condition(today))
        .count(db)
        .await?)
}

/// A page of the matching customers, by name.
///
/// # Errors
/// Database errors.
pub async fn members(
    db: &impl ConnectionTrait,
    rules: &Rules,
    today: NaiveDate,
    page: PageRequest,
) -> Result<Page<customer::Model>> {
    page.fetch(
        db,
        customer::Entity::find()
            .filter(customer::Column::IsActive.eq(true))
            .filter(rules.condition(today))
            .order_by_asc(customer::Column::Name)
            .order_by_asc(customer::Column::Id),
    )
    .await
}
