//! The owner's purchasing settings: the approval threshold, the over-receipt tolerance and the
//! parameters of the nightly velocity job. One row, written on first change; defaults until then.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::{Map, Value, json};

use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::purchasing::tables::setting;
use crate::rules::money::MAX_CENTS;
use crate::{Error, Result};

/// The settings as they stand (the defaults when never written).
///
/// # Errors
/// Database errors.
pub async fn get(db: &impl ConnectionTrait) -> Result<setting::Model> {
    Ok(setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .unwrap_or_else(defaults))
}

/// What a business starts with: no approval, no over-receipt, a lost unit worth half a sold one,
/// a week of safety stock and a fortnight between reviews, special orders reported after 15 days.
#[must_use]
pub fn defaults() -> setting::Model {
    setting::Model {
        id: 1,
        approval_threshold_cents: None,
        over_receipt_tolerance_bp: 0,
        lost_sale_weight_bp: 5000,
        safety_days: 7,
        review_days: 14,
        special_order_days: 15,
        updated_at: chrono::DateTime::UNIX_EPOCH,
    }
}

/// Changes to the settings: `None` keeps a value; `approval_threshold_cents: Some(None)` turns
/// approval off.
#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    /// Total (MXN centavos) from which an order needs approval.
    pub approval_threshold_cents: Option<Option<i64>>,
    /// Over-receipt tolerance, basis points (0 to 10 000).
    pub over_receipt_tolerance_bp: Option<i32>,
    /// Weight of a lost unit, basis points (0 to 10 000).
    pub lost_sale_weight_bp: Option<i32>,
    /// Safety days (0 to 365).
    pub safety_days: Option<i32>,
    /// Review days (1 to 365).
    pub review_days: Option<i32>,
    /// Days after which an uncollected special order is reported (1 to 365).
    pub special_order_days: Option<i32>,
}

fn range(field: &str, v: i32, lo: i32, hi: i32) -> Result<i32> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(Error::validation(field, format!("{field} is {lo} to {hi}")))
    }
}

/// Applies a patch, audited.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    patch: SettingsPatch,
) -> Result<setting::Model> {
    let current = setting::Entity::find_by_id(1).one(db).await?;
    let base = current.clone().unwrap_or_else(defaults);
    let mut next = base.clone();
    let mut changed = Map::new();
    if let Some(t) = patch.approval_threshold_cents {
        if let Some(c) = t
            && !(0..=MAX_CENTS).contains(&c)
        {
            return Err(Error::validation(
                "approval_threshold",
                "approval_threshold is 0 or more",
            ));
        }
        next.approval_threshold_cents = t;
        changed.insert("approval_threshold_cents".into(), json!(t));
    }
    let fields: [(&str, Option<i32>, i32, i32, &mut i32); 5] = [
        (
            "over_receipt_tolerance_bp",
            patch.over_receipt_tolerance_bp,
            0,
            10_000,
            &mut next.over_receipt_tolerance_bp,
        ),
        (
            "lost_sale_weight_bp",
            patch.lost_sale_weight_bp,
            0,
            10_000,
            &mut next.lost_sale_weight_bp,
        ),
        (
            "safety_days",
            patch.safety_days,
            0,
            365,
            &mut next.safety_days,
        ),
        (
            "review_days",
            patch.review_days,
            1,
            365,
            &mut next.review_days,
        ),
        (
            "special_order_days",
            patch.special_order_days,
            1,
            365,
            &mut next.special_order_days,
        ),
    ];
    for (name, v, lo, hi, slot) in fields {
        if let Some(v) = v {
            *slot = range(name, v, lo, hi)?;
            changed.insert(name.into(), json!(v));
        }
    }
    if changed.is_empty() {
        return Ok(base);
    }
    next.updated_at = crate::now();
    let am = setting::ActiveModel {
        id: Set(1),
        approval_threshold_cents: Set(next.approval_threshold_cents),
        over_receipt_tolerance_bp: Set(next.over_receipt_tolerance_bp),
        lost_sale_weight_bp: Set(next.lost_sale_weight_bp),
        safety_days: Set(next.safety_days),
        review_days: Set(next.review_days),
        special_order_days: Set(next.special_order_days),
        updated_at: Set(next.updated_at),
    };
    let saved = if current.is_some() {
        am.update(db).await?
    } else {
        am.insert(db).await?
    };
    Entry::new("purchasing.settings_updated")
        .actor(actor.user_id)
        .target("purchasing_settings", 1)
        .request(None, actor.request_id.clone())
        .details(Value::Object(changed))
        .record_tenant(db)
        .await?;
    Ok(saved)
}
