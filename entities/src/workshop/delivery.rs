//! Delivery: the order is charged through the counter's own path (payments, drawer, the
//! customer's account, the sale's folio) as a sale whose lines are its parts and its labour,
//! each its own concept when the sale is invoiced (LFPC art. 62 wants them itemised). The parts
//! left the stock at `ready`, so the sale moves none.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use crate::counter::sales::{self, PaymentInput, PricedLine, SaleDoc, Seller};
use crate::counter::tables::sale_line;
use crate::customers::tables::customer;
use crate::rules::money::{Money, Rate, Totals};
use crate::warranties::coverage::Installed;
use crate::workshop::flow::{self, Action};
use crate::workshop::orders::{self, Event, OrderDoc, amounts_of};
use crate::workshop::tables::service_order;
use crate::workshop::tables::service_order_line::Kind;
use crate::{Error, Result};

/// How the order is paid.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// Payments, as at the counter; none when nothing is charged.
    pub payments: Vec<PaymentInput>,
    /// The drawer session the money goes through (the user's own open one by default).
    pub drawer_session_id: Option<Uuid>,
    /// A note on the sale.
    pub note: Option<String>,
}

/// A delivered order and the sale that charged it (none when nothing was charged).
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The order, now `delivered`.
    pub doc: OrderDoc,
    /// The sale.
    pub sale: Option<SaleDoc>,
}

/// The sale lines of an order's billable lines, numbered from 1: parts at what was used,
/// labour as one unit of its price. A labour line has no warehouse (the nil id).
#[must_use]
pub fn sale_lines(doc: &OrderDoc) -> (Vec<PricedLine>, Totals) {
    let mut totals = Totals::default();
    let mut out = Vec::new();
    for (i, l) in doc.billable().enumerate() {
        let amounts = amounts_of(l);
        totals.add(&amounts);
        out.push(PricedLine {
            line_no: i32::try_from(i + 1).unwrap_or(i32::MAX),
            item_id: l.item_id,
            sku: l.sku.clone(),
            name: l.name.clone(),
            warehouse_id: l.warehouse_id.unwrap_or(Uuid::nil()),
            qty: l.qty,
            unit_price: Money(l.unit_price_cents),
            retail_unit_price: Money(l.retail_unit_cents),
            usd_unit_price: None,
            discount_bp: l.discount_bp,
            iva_rate_bp: l.iva_rate_bp,
            amounts,
            min_qty: 0,
            kind: match l.kind {
                Kind::Part => sale_line::Kind::Part,
                Kind::Labour => sale_line::Kind::Labour,
            },
            core_cents: 0,
        });
    }
    (out, totals)
}

/// Charges and hands over a `ready` order (everything approved and used) or a `declined` one
/// (the diagnosis only): one sale through the counter's path, in `txn`; the order is
/// `delivered` and the customer's notification recorded. Nothing to charge makes no sale.
///
/// # Errors
/// [`Error::Forbidden`] below cashier; [`Error::Conflict`] `invalid_transition` and the
/// counter's payment conflicts (`credit_limit_exceeded`, `drawer_not_open`…);
/// [`Error::Validation`] on `payments`.
pub async fn deliver(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    d: Delivery,
    default_rate: Rate,
) -> Result<Delivered> {
    seller.require_seller()?;
    let doc = orders::get(txn, seller, id).await?;
    let o = doc.order.clone();
    let to = flow::check(o.status, Action::Deliver)?;
    let (lines, totals) = sale_lines(&doc);
    let branch = sales::selling_branch(txn, seller, o.branch_id).await?;
    let sale = if lines.is_empty() {
        if !d.payments.is_empty() {
            return Err(Error::validation(
                "payments",
                "nothing is charged for this order: send no payments",
            ));
        }
        None
    } else {
        let customer = customer::Entity::find_by_id(o.customer_id)
            .one(txn)
            .await?
            .ok_or(Error::NotFound { entity: "customer" })?;
        let rate = crate::pricing::prices::current_rate(txn, default_rate).await?;
        let prepared = sales::prepare(
            txn,
            seller,
            &branch,
            Some(&customer),
            rate,
            totals.total.0,
            &d.payments,
            d.drawer_session_id,
            d.note
                .or_else(|| Some(format!("Orden de servicio {}", o.folio))),
        )
        .await?;
        Some(
            sales::record(
                txn,
                seller,
                sales::Charge {
                    id: Uuid::now_v7(),
                    branch: &branch,
                    customer: Some(&customer),
                    list: &o.price_list,
                    rate,
                    lines: &lines,
                    totals: &totals,
                    quote_id: None,
                    service_order_id: Some(o.id),
                },
                prepared,
            )
            .await?,
        )
    };
    if let Some(s) = &sale {
        // The warranty of an installed part starts at installation, with the odometer and the
        // vehicle it went into (a later claim checks the km against it).
        let on = crate::today();
        let installed: Vec<Installed> = s
            .lines
            .iter()
            .map(|l| Installed {
                sale_id: s.sale.id,
                sale_line_no: l.line_no,
                item_id: l.item_id,
                qty: l.qty,
                unit_price_cents: l.unit_price_cents,
                customer_id: Some(o.customer_id),
                vehicle_id: o.vehicle_id,
                odometer_km: o.odometer_km,
                service_order_id: Some(o.id),
                on,
            })
            .collect();
        crate::warranties::coverage::snapshot(txn, &installed).await?;
    }
    let now = crate::now();
    let mut am: service_order::ActiveModel = o.clone().into();
    am.status = Set(to);
    am.sale_id = Set(sale.as_ref().map(|s| s.sale.id));
    am.delivered_at = Set(Some(now));
    am.updated_at = Set(now);
    let order = am.update(txn).await?;
    orders::log(
        txn,
        order.id,
        Some(seller.user_id),
        None,
        Event {
            kind: "status",
            from: Some(o.status),
            to: Some(to),
            note: None,
            details: Some(json!({
                "sale_id": order.sale_id,
                "total": totals.total.to_string(),
            })),
        },
    )
    .await?;
    orders::notify(txn, orders::DELIVERED, &order).await?;
    if let Some(vehicle_id) = order.vehicle_id {
        // A fleet's maintenance plan naming one of the delivered items is done by this order.
        crate::fleets::plans::on_delivered(
            txn,
            &crate::fleets::logs::DeliveredOrder {
                order_id: order.id,
                vehicle_id,
                odometer_km: order.odometer_km,
                item_ids: lines.iter().map(|l| l.item_id).collect(),
                total_cents: totals.total.0,
                folio: order.folio.clone(),
            },
        )
        .await?;
    }
    seller
        .entry("service_order.delivered", "service_order", order.id)
        .details(json!({"sale_id": order.sale_id, "total": totals.total.to_string()}))
        .record_tenant(txn)
        .await?;
    let doc = OrderDoc { order, ..doc };
    Ok(Delivered { doc, sale })
}
