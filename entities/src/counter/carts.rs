//! The cashier's cart, kept on the server: one per user, lines from any warehouse of the
//! business, priced from the customer's list each time it is read, with the stock of each line.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::counter::sales::{
    LineInput, MAX_LINES, PricedLine, Seller, customer_and_list, price_lines, selling_branch,
};
use crate::rules::money::{Rate, Totals};
use crate::rules::quantity;
use crate::{Error, Result};
use crate::{
    counter::tables::cart, counter::tables::cart_line, inventory::tables::item,
    inventory::tables::stock, org::tables::warehouse,
};

/// The cart of `user`, if open.
///
/// # Errors
/// Database errors.
pub async fn find(db: &impl ConnectionTrait, user: Uuid) -> Result<Option<cart::Model>> {
    Ok(cart::Entity::find()
        .filter(cart::Column::UserId.eq(user))
        .one(db)
        .await?)
}

async fn mine(db: &impl ConnectionTrait, user: Uuid) -> Result<cart::Model> {
    find(db, user)
        .await?
        .ok_or(Error::NotFound { entity: "cart" })
}

/// Opens the seller's cart for a branch, or changes its branch, customer or list (the lines
/// stay).
///
/// # Errors
/// [`Error::NotFound`] for a branch or customer; [`Error::Forbidden`] for a list beyond the role.
pub async fn open(
    db: &impl ConnectionTrait,
    seller: &Seller,
    branch_id: Uuid,
    customer_id: Option<Uuid>,
    price_list: Option<&str>,
) -> Result<cart::Model> {
    seller.require_seller()?;
    let branch = selling_branch(db, seller, branch_id).await?;
    let (customer, list) = customer_and_list(db, seller, customer_id, price_list).await?;
    let now = crate::now();
    match find(db, seller.user_id).await? {
        Some(c) => {
            let mut am: cart::ActiveModel = c.into();
            am.branch_id = Set(branch.id);
            am.customer_id = Set(customer.map(|c| c.id));
            am.price_list = Set(list.to_owned());
            am.updated_at = Set(now);
            Ok(am.update(db).await?)
        }
        None => Ok(cart::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(seller.user_id),
            branch_id: Set(branch.id),
            customer_id: Set(customer.map(|c| c.id)),
            price_list: Set(list.to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await?),
    }
}

/// Adds units of an item from a warehouse (to the line of the same item and warehouse, if
/// there is one).
///
/// # Errors
/// [`Error::NotFound`] for the cart, item or warehouse; [`Error::Validation`] for a quantity below
/// 1 or a full cart; [`Error::Forbidden`] for a discount beyond the role.
pub async fn add_line(
    db: &impl ConnectionTrait,
    seller: &Seller,
    item_id: Uuid,
    warehouse_id: Uuid,
    qty: i64,
    discount_bp: Option<i32>,
) -> Result<cart_line::Model> {
    let c = mine(db, seller.user_id).await?;
    check_line(seller, qty, discount_bp.unwrap_or(0))?;
    item::Entity::find_by_id(item_id)
        .one(db)
        .await?
        .filter(|i| i.is_active)
        .ok_or(Error::NotFound { entity: "item" })?;
    warehouse::Entity::find_by_id(warehouse_id)
        .one(db)
        .await?
        .filter(|w| w.is_active)
        .ok_or(Error::NotFound {
            entity: "warehouse",
        })?;
    let lines = lines_of(db, c.id).await?;
    if let Some(l) = lines
        .iter()
        .find(|l| l.item_id == item_id && l.warehouse_id == warehouse_id)
    {
        // More units of a line already there: the sum is bounded before anything is written,
        // and a request that names no discount keeps the line's.
        let qty = quantity::add("qty", l.qty, qty)?;
        let discount_bp = discount_bp.unwrap_or(l.discount_bp);
        check_line(seller, qty, discount_bp)?;
        let mut am: cart_line::ActiveModel = l.clone().into();
        am.qty = Set(qty);
        am.discount_bp = Set(discount_bp);
        return Ok(am.update(db).await?);
    }
    if lines.len() >= MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("a cart holds at most {MAX_LINES} lines"),
        ));
    }
    let position = lines.iter().map(|l| l.position).max().unwrap_or(0) + 1;
    let cart_id = c.id;
    touch(db, c).await?;
    Ok(cart_line::ActiveModel {
        id: Set(Uuid::now_v7()),
        cart_id: Set(cart_id),
        position: Set(position),
        item_id: Set(item_id),
        warehouse_id: Set(warehouse_id),
        qty: Set(qty),
        discount_bp: Set(discount_bp.unwrap_or(0)),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?)
}

async fn touch(db: &impl ConnectionTrait, c: cart::Model) -> Result<()> {
    let mut am: cart::ActiveModel = c.into();
    am.updated_at = Set(crate::now());
    am.update(db).await?;
    Ok(())
}

fn check_line(seller: &Seller, qty: i64, discount_bp: i32) -> Result<()> {
    quantity::units("qty", qty)?;
    if !(0..=10_000).contains(&discount_bp) {
        return Err(Error::validation(
            "discount",
            "a discount is between 0 and 100 %",
        ));
    }
    if discount_bp > seller.role.max_discount_bp() {
        return Err(Error::Forbidden {
            code: "discount_not_allowed",
            message: format!(
                "a {} may not give this discount; ask a manager",
                seller.role
            ),
        });
    }
    Ok(())
}

/// Changes a line's quantity or discount.
///
/// # Errors
/// [`Error::NotFound`] `cart_line` (also for another cashier's line); as [`add_line`].
pub async fn update_line(
    db: &impl ConnectionTrait,
    seller: &Seller,
    line_id: Uuid,
    qty: Option<i64>,
    discount_bp: Option<i32>,
) -> Result<cart_line::Model> {
    let c = mine(db, seller.user_id).await?;
    let l = cart_line::Entity::find_by_id(line_id)
        .one(db)
        .await?
        .filter(|l| l.cart_id == c.id)
        .ok_or(Error::NotFound {
            entity: "cart_line",
        })?;
    let qty = qty.unwrap_or(l.qty);
    let discount_bp = discount_bp.unwrap_or(l.discount_bp);
    check_line(seller, qty, discount_bp)?;
    let mut am: cart_line::ActiveModel = l.into();
    am.qty = Set(qty);
    am.discount_bp = Set(discount_bp);
    Ok(am.update(db).await?)
}

/// Removes a line.
///
/// # Errors
/// [`Error::NotFound`] `cart_line`.
pub async fn remove_line(db: &impl ConnectionTrait, user: Uuid, line_id: Uuid) -> Result<()> {
    let c = mine(db, user).await?;
    let r = cart_line::Entity::delete_many()
        .filter(cart_line::Column::Id.eq(line_id))
        .filter(cart_line::Column::CartId.eq(c.id))
        .exec(db)
        .await?;
    if r.rows_affected == 0 {
        return Err(Error::NotFound {
            entity: "cart_line",
        });
    }
    Ok(())
}

/// Empties and closes the user's cart.
///
/// # Errors
/// Database errors.
pub async fn discard(db: &impl ConnectionTrait, user: Uuid) -> Result<()> {
    cart::Entity::delete_many()
        .filter(cart::Column::UserId.eq(user))
        .exec(db)
        .await?;
    Ok(())
}

/// The lines of a cart in order.
///
/// # Errors
/// Database errors.
pub async fn lines_of(db: &impl ConnectionTrait, cart_id: Uuid) -> Result<Vec<cart_line::Model>> {
    Ok(cart_line::Entity::find()
        .filter(cart_line::Column::CartId.eq(cart_id))
        .order_by_asc(cart_line::Column::Position)
        .all(db)
        .await?)
}

/// A cart line priced, with the stock of its warehouse and of the whole business.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CartLineView {
    /// The cart line's id.
    pub line_id: Uuid,
    /// The priced line.
    #[serde(flatten)]
    pub priced: PricedLine,
    /// Units on hand in the line's warehouse.
    pub stock_here: i64,
    /// Units on hand in every warehouse.
    pub stock_total: i64,
    /// Whether the line's warehouse has enough now (checked again at checkout).
    pub available: bool,
}

/// A priced cart.
#[derive(Debug, Clone)]
pub struct CartView {
    /// The cart.
    pub cart: cart::Model,
    /// The rate used for USD prices.
    pub rate: Rate,
    /// Lines.
    pub lines: Vec<CartLineView>,
    /// Sums of the rounded lines.
    pub totals: Totals,
}

/// Prices the user's cart at the rate given, with the stock of every line (one read).
///
/// # Errors
/// [`Error::NotFound`] `cart`; pricing errors.
pub async fn view(db: &impl ConnectionTrait, seller: &Seller, rate: Rate) -> Result<CartView> {
    let c = mine(db, seller.user_id).await?;
    let lines = lines_of(db, c.id).await?;
    if lines.is_empty() {
        return Ok(CartView {
            cart: c,
            rate,
            lines: Vec::new(),
            totals: Totals::default(),
        });
    }
    let branch = selling_branch(db, seller, c.branch_id).await?;
    let inputs: Vec<LineInput> = lines
        .iter()
        .map(|l| LineInput {
            item_id: l.item_id,
            warehouse_id: l.warehouse_id,
            qty: l.qty,
            discount_bp: l.discount_bp,
            fixed_price: None,
        })
        .collect();
    // Discounts were checked when set; price them with the owner's limit so a cart stays
    // readable after a role change (checkout checks again with the seller's role).
    let (priced, totals) = price_lines(
        db,
        &branch,
        &c.price_list,
        rate,
        &inputs,
        crate::Role::Owner,
    )
    .await?;
    let ids: Vec<Uuid> = lines.iter().map(|l| l.item_id).collect();
    let rows = stock::Entity::find()
        .filter(stock::Column::ItemId.is_in(ids))
        .all(db)
        .await?;
    let mut here: HashMap<(Uuid, Uuid), i64> = HashMap::new();
    let mut total: HashMap<Uuid, i64> = HashMap::new();
    for s in rows {
        here.insert((s.item_id, s.warehouse_id), s.qty);
        *total.entry(s.item_id).or_default() += s.qty;
    }
    let views = lines
        .iter()
        .zip(priced)
        .map(|(l, p)| {
            let h = here.get(&(l.item_id, l.warehouse_id)).copied().unwrap_or(0);
            CartLineView {
                line_id: l.id,
                stock_here: h,
                stock_total: total.get(&l.item_id).copied().unwrap_or(0),
                available: h >= l.qty,
                priced: p,
            }
        })
        .collect();
    Ok(CartView {
        cart: c,
        rate,
        lines: views,
        totals,
    })
}
