//! Lost sales: what a customer asked for and did not buy (no stock, the price, another reason),
//! recorded by hand or automatically when the counter's stock look-up or cart finds nothing
//! available. They feed the velocity (at the owner's weight) and the KPIs.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::org::branches::Actor;
use crate::purchasing::tables::lost_sale;
use crate::{Error, Page, PageRequest, Result};

pub use crate::purchasing::tables::lost_sale::Reason;

/// Where a lost sale was recorded.
pub mod source {
    /// Entered by a person.
    pub const MANUAL: &str = "manual";
    /// The counter looked an item's stock up and found none available.
    pub const STOCK_LOOKUP: &str = "stock_lookup";
    /// The cart refused a line for want of stock.
    pub const CART: &str = "cart";
}

/// A lost sale to record.
#[derive(Debug, Clone, Default)]
pub struct NewLostSale {
    /// The item, when the store has it.
    pub item_id: Option<Uuid>,
    /// The catalog part, when the store does not have it as an item.
    pub catalog_part_id: Option<i64>,
    /// Where it was asked for.
    pub warehouse_id: Option<Uuid>,
    /// The branch.
    pub branch_id: Option<Uuid>,
    /// Units asked for, > 0.
    pub qty: i64,
    /// Why.
    pub reason: Option<Reason>,
    /// The customer, when known.
    pub customer_id: Option<Uuid>,
    /// A note.
    pub note: Option<String>,
}

/// Filters of the lost-sale list.
#[derive(Debug, Clone, Default)]
pub struct LostSaleFilter {
    /// One item.
    pub item_id: Option<Uuid>,
    /// One reason.
    pub reason: Option<Reason>,
    /// From this day (Mexico City), inclusive.
    pub from: Option<NaiveDate>,
    /// To this day, inclusive.
    pub to: Option<NaiveDate>,
}

/// Records a lost sale by hand.
///
/// # Errors
/// [`Error::Validation`] for neither item nor part, or a bad quantity or note;
/// [`Error::Missing`] `item_not_found`, `catalog_part_not_found`, `warehouse_not_found`.
pub async fn record(
    db: &impl ConnectionTrait,
    platform: &impl ConnectionTrait,
    actor: &Actor,
    new: NewLostSale,
) -> Result<lost_sale::Model> {
    crate::rules::quantity::units("qty", new.qty)?;
    if new.item_id.is_none() && new.catalog_part_id.is_none() {
        return Err(Error::validation(
            "item_id",
            "name the item, or the catalog part the store does not stock",
        ));
    }
    if let Some(i) = new.item_id {
        crate::inventory::adjustments::check_item(db, "item_id", i).await?;
    }
    if let Some(p) = new.catalog_part_id
        && crate::catalog::part::Entity::find_by_id(p)
            .one(platform)
            .await?
            .is_none()
    {
        return Err(crate::catalog::lookup::no_part("catalog_part_id", p));
    }
    let mut branch = new.branch_id;
    if let Some(w) = new.warehouse_id {
        let (_, b) = crate::purchasing::usable_warehouse(db, "warehouse_id", w).await?;
        branch = Some(b.id);
    }
    let note = crate::rules::text::optional("note", new.note.clone(), 500)?;
    insert(db, actor, new, branch, note, source::MANUAL).await
}

async fn insert(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewLostSale,
    branch_id: Option<Uuid>,
    note: Option<String>,
    src: &str,
) -> Result<lost_sale::Model> {
    Ok(lost_sale::ActiveModel {
        id: Set(Uuid::now_v7()),
        item_id: Set(new.item_id),
        catalog_part_id: Set(new.catalog_part_id),
        warehouse_id: Set(new.warehouse_id),
        branch_id: Set(branch_id),
        qty: Set(new.qty),
        reason: Set(new.reason.unwrap_or(Reason::NoStock)),
        source: Set(src.to_owned()),
        customer_id: Set(new.customer_id),
        note: Set(note),
        recorded_by: Set(actor.user_id),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?)
}

/// Records, once per item, branch, source and day, that the counter found nothing available of
/// an item (a look-up repeated while the customer waits is one lost sale, not ten).
///
/// # Errors
/// Database errors.
pub async fn record_automatic(
    db: &impl ConnectionTrait,
    actor: &Actor,
    item_id: Uuid,
    branch_id: Option<Uuid>,
    qty: i64,
    src: &str,
) -> Result<bool> {
    let start = crate::invoicing::global::local_midnight(crate::today());
    let mut q = lost_sale::Entity::find()
        .filter(lost_sale::Column::ItemId.eq(item_id))
        .filter(lost_sale::Column::Source.eq(src))
        .filter(lost_sale::Column::CreatedAt.gte(start));
    q = match branch_id {
        Some(b) => q.filter(lost_sale::Column::BranchId.eq(b)),
        None => q.filter(lost_sale::Column::BranchId.is_null()),
    };
    if q.one(db).await?.is_some() {
        return Ok(false);
    }
    insert(
        db,
        actor,
        NewLostSale {
            item_id: Some(item_id),
            qty: qty.max(1),
            reason: Some(Reason::NoStock),
            ..Default::default()
        },
        branch_id,
        None,
        src,
    )
    .await?;
    Ok(true)
}

/// Lost sales, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: LostSaleFilter,
    page: PageRequest,
) -> Result<Page<lost_sale::Model>> {
    let mut q = lost_sale::Entity::find()
        .order_by_desc(lost_sale::Column::CreatedAt)
        .order_by_desc(lost_sale::Column::Id);
    if let Some(i) = filter.item_id {
        q = q.filter(lost_sale::Column::ItemId.eq(i));
    }
    if let Some(r) = filter.reason {
        q = q.filter(lost_sale::Column::Reason.eq(r));
    }
    if let Some(f) = filter.from {
        q = q.filter(lost_sale::Column::CreatedAt.gte(crate::invoicing::global::local_midnight(f)));
    }
    if let Some(t) = filter.to {
        q = q.filter(
            lost_sale::Column::CreatedAt.lt(crate::invoicing::global::local_midnight(
                t + chrono::Days::new(1),
            )),
        );
    }
    page.fetch(db, q).await
}
