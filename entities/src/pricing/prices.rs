//! Prices at the counter: which price an item sells at in a branch for a price list, and the
//! exchange rate in force.
//!
//! A price row is (item, list, branch): branch nil is the list price for every branch, another
//! branch its override. For a sale the first found wins: the branch's override of the customer's
//! list, that list's price, the branch's override of `mostrador`, the `mostrador` price, and last
//! the item's reference retail price. A USD price converts to MXN at the document's rate.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::rules::money::{Currency, Rate};
use crate::{Error, Result};
use crate::{inventory::tables::item, pricing::tables::exchange_rate, pricing::tables::item_price};

/// The price lists (niveles de precio), cheapest-last is not implied.
pub const PRICE_LISTS: [&str; 4] = ["mostrador", "taller", "flotilla", "mayoreo"];
/// The list of walk-in customers, and the fallback of every other list.
pub const DEFAULT_LIST: &str = "mostrador";

/// Checks a price list name.
///
/// # Errors
/// [`Error::Validation`] on `field`.
pub fn check_list(field: &str, list: &str) -> Result<&'static str> {
    // Exactly as named: the API document's pattern says the same, so a client that follows the
    // document is never refused and one that does not is never half-understood.
    PRICE_LISTS
        .iter()
        .find(|p| **p == list)
        .copied()
        .ok_or_else(|| {
            Error::validation(
                field,
                format!(
                    "unknown price list {list:?}: use {}",
                    PRICE_LISTS.join(", ")
                ),
            )
        })
}

/// Where a resolved price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The branch's override of the list.
    BranchOverride,
    /// The list price.
    List,
    /// The branch's override of `mostrador` (the list had no price).
    MostradorOverride,
    /// The `mostrador` price.
    Mostrador,
    /// The item's reference retail price.
    Retail,
}

/// The price an item sells at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The item row (name, SKU, keys, minimum).
    pub item: item::Model,
    /// Unit price in MXN centavos, IVA included.
    pub unit_cents: i64,
    /// The price as set: currency and minor units.
    pub currency: Currency,
    /// The price as set, in minor units of `currency`.
    pub amount_minor: i64,
    /// Reference retail unit price in MXN centavos (the base of savings; the unit price when the
    /// item has none).
    pub retail_unit_cents: i64,
    /// Which row gave it.
    pub source: PriceSource,
}

/// Resolves the prices of `items` for `branch` and `list` at `rate`, in two reads. Items that do
/// not exist or are inactive are absent from the answer; items with no price at all are an error.
///
/// # Errors
/// [`Error::Validation`] `no_price` naming the SKU; database errors.
pub async fn resolve(
    db: &impl ConnectionTrait,
    branch: Uuid,
    list: &str,
    items: &[Uuid],
    rate: Rate,
) -> Result<HashMap<Uuid, Resolved>> {
    let rows = item::Entity::find()
        .filter(item::Column::Id.is_in(items.iter().copied()))
        .filter(item::Column::IsActive.eq(true))
        .all(db)
        .await?;
    let prices = item_price::Entity::find()
        .filter(item_price::Column::ItemId.is_in(items.iter().copied()))
        .filter(item_price::Column::PriceList.is_in([list, DEFAULT_LIST]))
        .filter(item_price::Column::BranchId.is_in([branch, Uuid::nil()]))
        .all(db)
        .await?;
    let mut by_item: HashMap<Uuid, Vec<item_price::Model>> = HashMap::new();
    for p in prices {
        by_item.entry(p.item_id).or_default().push(p);
    }
    let mut out = HashMap::with_capacity(rows.len());
    for it in rows {
        let candidates = by_item.remove(&it.id).unwrap_or_default();
        let pick = |l: &str, b: Uuid| {
            candidates
                .iter()
                .find(|p| p.price_list == l && p.branch_id == b)
        };
        let found = [
            (pick(list, branch), PriceSource::BranchOverride),
            (pick(list, Uuid::nil()), PriceSource::List),
            (pick(DEFAULT_LIST, branch), PriceSource::MostradorOverride),
            (pick(DEFAULT_LIST, Uuid::nil()), PriceSource::Mostrador),
        ]
        .into_iter()
        .find_map(|(p, s)| p.map(|p| (p, s)));
        let (currency, amount_minor, source) = match found {
            Some((p, s)) => (Currency::parse("currency", &p.currency)?, p.amount_minor, s),
            None => match it.retail_price_cents {
                Some(r) => (Currency::Mxn, r, PriceSource::Retail),
                None => {
                    return Err(Error::Validation {
                        field: "lines".into(),
                        message: format!("item {} has no price in any list", it.sku),
                    });
                }
            },
        };
        let unit_cents = match currency {
            Currency::Mxn => amount_minor,
            Currency::Usd => rate.to_mxn(amount_minor),
        };
        let retail_unit_cents = it.retail_price_cents.unwrap_or(unit_cents);
        out.insert(
            it.id,
            Resolved {
                item: it,
                unit_cents,
                currency,
                amount_minor,
                retail_unit_cents,
                source,
            },
        );
    }
    Ok(out)
}

/// The USD→MXN rate in force: the last one an admin set, else `default` (the configured
/// `EXCHANGE_RATE_USD_MXN`).
///
/// # Errors
/// Database errors.
pub async fn current_rate(db: &impl ConnectionTrait, default: Rate) -> Result<Rate> {
    let last = exchange_rate::Entity::find()
        .filter(exchange_rate::Column::Currency.eq(crate::rules::money::USD))
        .order_by_desc(exchange_rate::Column::Id)
        .one(db)
        .await?;
    Ok(last.map_or(default, |r| Rate(r.rate_micros)))
}
