//! Turning business events into messages: for each event not handled yet, the rule says who is
//! told on which channels; each message is rendered from the business's template and written
//! once per (event, channel, recipient), and the event is marked handled, all in the caller's
//! transaction. The caller enqueues a send job for each message returned.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Result;
use crate::customers::tables::customer;
use crate::inventory::tables::item;
use crate::notifications::rules::{self, Rule, Settings};
use crate::notifications::tables::{business_event, notification};
use crate::notifications::templates;
use crate::org::tables::{branch, warehouse};

pub use crate::notifications::tables::notification::Status;

/// A member of the business's staff, as the platform knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// The user.
    pub user_id: Uuid,
    /// Their login address (staff e-mail goes there).
    pub email: String,
    /// Their role in this business.
    pub role: String,
    /// The branches they work in (`None`: all).
    pub branch_ids: Option<Vec<Uuid>>,
}

/// A message the caller must enqueue a send job for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToSend {
    /// The notification.
    pub id: Uuid,
    /// Not before (quiet hours), or at once.
    pub not_before: Option<DateTime<Utc>>,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    /// Events handled.
    pub events: usize,
    /// Messages to send.
    pub to_send: Vec<ToSend>,
    /// In-app messages stored (delivered as they are written).
    pub in_app: usize,
    /// Messages not sent because the customer opted out.
    pub skipped: usize,
    /// Messages whose template did not render (recorded failed with the reason).
    pub failed: usize,
}

/// The oldest events not handled yet, at most `limit`.
///
/// # Errors
/// Database errors.
pub async fn pending(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<business_event::Model>> {
    Ok(business_event::Entity::find()
        .filter(business_event::Column::HandledAt.is_null())
        .order_by_asc(business_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

fn uuid_at(payload: &Value, key: &str) -> Option<Uuid> {
    payload.get(key)?.as_str()?.parse().ok()
}

/// Looks up what the event's ids name, once per pass.
#[derive(Default)]
struct Lookups {
    customers: HashMap<Uuid, Option<customer::Model>>,
    names: HashMap<(&'static str, Uuid), Option<Value>>,
    rules: HashMap<String, Option<Rule>>,
}

impl Lookups {
    async fn customer(
        &mut self,
        db: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<Option<customer::Model>> {
        if let Some(c) = self.customers.get(&id) {
            return Ok(c.clone());
        }
        let c = customer::Entity::find_by_id(id).one(db).await?;
        self.customers.insert(id, c.clone());
        Ok(c)
    }

    async fn named(
        &mut self,
        db: &impl ConnectionTrait,
        what: &'static str,
        id: Uuid,
    ) -> Result<Option<Value>> {
        if let Some(v) = self.names.get(&(what, id)) {
            return Ok(v.clone());
        }
        let v = match what {
            "item" => item::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|i| json!({"sku": i.sku, "name": i.name})),
            "branch" => branch::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|b| json!({"name": b.name})),
            _ => warehouse::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|w| json!({"name": w.name})),
        };
        self.names.insert((what, id), v.clone());
        Ok(v)
    }

    async fn rule(&mut self, db: &impl ConnectionTrait, event: &str) -> Result<Option<Rule>> {
        if let Some(r) = self.rules.get(event) {
            return Ok(r.clone());
        }
        let r = rules::rule(db, event).await?;
        self.rules.insert(event.to_owned(), r.clone());
        Ok(r)
    }
}

/// The template context of an event: its payload, the business, and what its ids name.
async fn context(
    db: &impl ConnectionTrait,
    look: &mut Lookups,
    business: &str,
    payload: &Value,
) -> Result<(Value, Option<customer::Model>)> {
    let mut ctx = match payload {
        Value::Object(o) => o.clone(),
        _ => serde_json::Map::new(),
    };
    ctx.insert("business".into(), json!({"name": business}));
    let customer = match uuid_at(payload, "customer_id") {
        Some(id) => look.customer(db, id).await?,
        None => None,
    };
    if let Some(c) = &customer {
        ctx.insert(
            "customer".into(),
            json!({"name": c.name, "email": c.email, "phone": c.whatsapp_phone}),
        );
    }
    for (key, what) in [
        ("item_id", "item"),
        ("branch_id", "branch"),
        ("warehouse_id", "warehouse"),
    ] {
        if let Some(id) = uuid_at(payload, key)
            && let Some(v) = look.named(db, what, id).await?
        {
            ctx.insert(what.into(), v);
        }
    }
    Ok((Value::Object(ctx), customer))
}

/// One message to write.
struct Draft<'a> {
    event: &'a business_event::Model,
    channel: &'a str,
    recipient: String,
    user_id: Option<Uuid>,
    customer_id: Option<Uuid>,
    skip: Option<&'static str>,
    not_before: Option<DateTime<Utc>>,
}

/// Handles `events` (from [`pending`]) in the caller's transaction.
///
/// # Errors
/// Database errors.
pub async fn run(
    txn: &impl ConnectionTrait,
    business: &str,
    staff: &[StaffMember],
    events: &[business_event::Model],
) -> Result<Pass> {
    let mut pass = Pass::default();
    let mut look = Lookups::default();
    let settings = rules::settings(txn).await?;
    let now = crate::now();
    for ev in events {
        pass.events += 1;
        let Some(rule) = look.rule(txn, &ev.kind).await?.filter(|r| r.enabled) else {
            continue;
        };
        let (ctx, customer) = context(txn, &mut look, business, &ev.payload).await?;
        let mut drafts = Vec::new();
        if let Some(c) = customer.as_ref().filter(|c| c.is_active) {
            customer_drafts(txn, ev, &rule, c, &mut drafts).await?;
        }
        staff_drafts(ev, &rule, staff, &settings, now, &mut drafts);
        for d in drafts {
            write(txn, &settings, &ctx, d, &mut pass).await?;
        }
    }
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    for chunk in ids.chunks(500) {
        business_event::Entity::update_many()
            .col_expr(
                business_event::Column::HandledAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(business_event::Column::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(pass)
}

/// The customer is told on the first channel of the rule they can be reached on; a channel
/// they opted out of is recorded skipped and the next is tried.
async fn customer_drafts<'a>(
    db: &impl ConnectionTrait,
    ev: &'a business_event::Model,
    rule: &'a Rule,
    c: &customer::Model,
    out: &mut Vec<Draft<'a>>,
) -> Result<()> {
    let prefs = rules::preferences(db, c.id).await?;
    for channel in &rule.customer_channels {
        let address = match channel.as_str() {
            "email" => c.email.clone(),
            "whatsapp" => c.whatsapp_phone.clone(),
            _ => None,
        };
        let Some(address) = address else { continue };
        let consented = prefs.transactional(channel);
        out.push(Draft {
            event: ev,
            channel,
            recipient: address,
            user_id: None,
            customer_id: Some(c.id),
            skip: (!consented).then_some("the customer opted out of this channel"),
            not_before: None,
        });
        if consented {
            break;
        }
    }
    Ok(())
}

/// Staff of the rule's roles (in the event's branch when it names one) and its users, on each
/// of its staff channels; e-mail and push wait out the quiet hours, in-app does not.
fn staff_drafts<'a>(
    ev: &'a business_event::Model,
    rule: &'a Rule,
    staff: &[StaffMember],
    settings: &Settings,
    now: DateTime<Utc>,
    out: &mut Vec<Draft<'a>>,
) {
    let branch = uuid_at(&ev.payload, "branch_id");
    let mut told = HashSet::new();
    for m in staff {
        let by_role = rule.staff_roles.contains(&m.role)
            && match (&m.branch_ids, branch) {
                (Some(ids), Some(b)) => ids.contains(&b),
                _ => true,
            };
        if !(by_role || rule.user_ids.contains(&m.user_id)) || !told.insert(m.user_id) {
            continue;
        }
        for channel in &rule.staff_channels {
            let (recipient, not_before) = match channel.as_str() {
                "in_app" => (m.user_id.to_string(), None),
                "email" => (
                    m.email.clone(),
                    Some(rules::after_quiet_hours(settings, now)),
                ),
                _ => (
                    m.user_id.to_string(),
                    Some(rules::after_quiet_hours(settings, now)),
                ),
            };
            out.push(Draft {
                event: ev,
                channel,
                recipient,
                user_id: Some(m.user_id),
                customer_id: None,
                skip: None,
                not_before: not_before.filter(|t| *t > now),
            });
        }
    }
}

async fn write(
    db: &impl ConnectionTrait,
    settings: &Settings,
    ctx: &Value,
    d: Draft<'_>,
    pass: &mut Pass,
) -> Result<()> {
    let now = crate::now();
    let template = templates::resolve(db, &d.event.kind, d.channel, &settings.locale).await?;
    let rendered = template.map(|t| templates::render(&t, ctx));
    let in_app = d.channel == "in_app";
    let (status, reason, subject, body, html) = match (&d.skip, rendered) {
        (Some(why), _) => (Status::Skipped, Some((*why).to_owned()), None, None, None),
        (None, Some(Ok(r))) => (
            if in_app {
                Status::Delivered
            } else {
                Status::Queued
            },
            None,
            r.subject,
            Some(r.body),
            r.html,
        ),
        (None, Some(Err(e))) => (
            Status::Failed,
            Some(format!("the template did not render: {e}")),
            None,
            None,
            None,
        ),
        (None, None) => (
            Status::Failed,
            Some(format!("no template for {}", d.event.kind)),
            None,
            None,
            None,
        ),
    };
    let id = Uuid::now_v7();
    let row = notification::ActiveModel {
        id: Set(id),
        channel: Set(d.channel.to_owned()),
        recipient: Set(d.recipient),
        template: Set(d.event.kind.clone()),
        ref_type: Set(d.event.ref_type.clone()),
        ref_id: Set(d.event.ref_id.clone()),
        payload: Set(ctx.clone()),
        status: Set(status),
        reason: Set(reason),
        attempts: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        event_id: Set(Some(d.event.id)),
        event: Set(Some(d.event.kind.clone())),
        user_id: Set(d.user_id),
        customer_id: Set(d.customer_id),
        locale: Set(settings.locale.clone()),
        subject: Set(subject),
        body: Set(body),
        html: Set(html),
        provider_id: Set(None),
        cost_category: Set(None),
        sent_at: Set(None),
        delivered_at: Set((in_app && status == Status::Delivered).then_some(now)),
        read_at: Set(None),
        failed_at: Set((status == Status::Failed).then_some(now)),
        not_before: Set(d.not_before),
    };
    // A second pass over the same event (two dispatch runs at once) writes nothing new.
    let inserted = notification::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                notification::Column::EventId,
                notification::Column::Channel,
                notification::Column::Recipient,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        return Ok(());
    }
    match status {
        Status::Queued => pass.to_send.push(ToSend {
            id,
            not_before: d.not_before,
        }),
        Status::Delivered => pass.in_app += 1,
        Status::Skipped => pass.skipped += 1,
        _ => pass.failed += 1,
    }
    Ok(())
}
