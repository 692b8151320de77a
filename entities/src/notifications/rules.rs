//! Who is told of each event and how: the per-event rules (the catalogue's defaults until a
//! business changes one), the business's sender and quiet hours, and customers' consent per
//! channel.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::notifications::catalog::{self, Audience, EventDef};
use crate::notifications::tables::{preference, rule, setting};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::{Error, Result, Role};

/// Channels a customer can be told on.
pub const CUSTOMER_CHANNELS: [&str; 2] = ["whatsapp", "email"];
/// Channels staff can be told on.
pub const STAFF_CHANNELS: [&str; 3] = ["in_app", "email", "push"];
/// The most users one rule may name.
pub const MAX_USERS: usize = 50;

/// Who is told of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// The event.
    pub event: String,
    /// Off: the event is recorded and told to nobody.
    pub enabled: bool,
    /// The customer is told on the first of these they can be reached on and consented to.
    pub customer_channels: Vec<String>,
    /// Roles told (of the event's branch when it names one).
    pub staff_roles: Vec<String>,
    /// Users told whatever their role.
    pub user_ids: Vec<Uuid>,
    /// Channels staff are told on.
    pub staff_channels: Vec<String>,
}

/// The catalogue's rule for an event.
#[must_use]
pub fn default_rule(def: &EventDef) -> Rule {
    let (customer_channels, staff_roles): (&[&str], &[&str]) = match def.audience {
        // Invoices go by e-mail first: the PDF and XML travel with it.
        Audience::Customer if def.name == "invoice_stamped" => (&["email", "whatsapp"], &[]),
        Audience::Customer => (&["whatsapp", "email"], &[]),
        Audience::Staff(roles) => (&[], roles),
        Audience::Direct => (&[], &[]),
    };
    Rule {
        event: def.name.to_owned(),
        // A message per sale is noise for most stores: asked for, not given.
        enabled: def.name != "new_sale",
        customer_channels: customer_channels.iter().map(|c| (*c).to_owned()).collect(),
        staff_roles: staff_roles.iter().map(|r| (*r).to_owned()).collect(),
        user_ids: Vec::new(),
        staff_channels: vec!["in_app".to_owned()],
    }
}

fn list<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Vec<T> {
    serde_json::from_value(v).unwrap_or_default()
}

fn from_row(r: rule::Model) -> Rule {
    Rule {
        event: r.event,
        enabled: r.enabled,
        customer_channels: list(r.customer_channels),
        staff_roles: list(r.staff_roles),
        user_ids: list(r.user_ids),
        staff_channels: list(r.staff_channels),
    }
}

/// The rule of an event (the default until the business saved one); `None` outside the
/// catalogue and for messages sent by hand.
///
/// # Errors
/// Database errors.
pub async fn rule(db: &impl ConnectionTrait, event: &str) -> Result<Option<Rule>> {
    let Some(def) = catalog::event(event).filter(|d| d.audience != Audience::Direct) else {
        return Ok(None);
    };
    Ok(Some(
        match rule::Entity::find_by_id(event).one(db).await? {
            Some(r) => from_row(r),
            None => default_rule(def),
        },
    ))
}

/// Every event's rule, in the catalogue's order.
///
/// # Errors
/// Database errors.
pub async fn rules(db: &impl ConnectionTrait) -> Result<Vec<Rule>> {
    let saved = rule::Entity::find().all(db).await?;
    Ok(catalog::EVENTS
        .iter()
        .filter(|d| d.audience != Audience::Direct)
        .map(|def| {
            saved
                .iter()
                .find(|r| r.event == def.name)
                .cloned()
                .map_or_else(|| default_rule(def), from_row)
        })
        .collect())
}

fn check_channels(field: &str, given: &[String], allowed: &[&str]) -> Result<()> {
    for (i, c) in given.iter().enumerate() {
        if !allowed.contains(&c.as_str()) {
            return Err(Error::validation(
                format!("{field}[{i}]"),
                format!("unknown channel {c:?}: one of {}", allowed.join(", ")),
            ));
        }
        if given[..i].contains(c) {
            return Err(Error::validation(
                format!("{field}[{i}]"),
                format!("{c} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// Saves an event's rule.
///
/// # Errors
/// [`Error::NotFound`] `notification_rule` outside the catalogue; [`Error::Validation`] for an
/// unknown channel or role, or too many users; database errors.
pub async fn put_rule(db: &impl ConnectionTrait, actor: &Actor, r: Rule) -> Result<Rule> {
    if catalog::event(&r.event).is_none_or(|d| d.audience == Audience::Direct) {
        return Err(Error::NotFound {
            entity: "notification_rule",
        });
    }
    check_channels(
        "customer_channels",
        &r.customer_channels,
        &CUSTOMER_CHANNELS,
    )?;
    check_channels("staff_channels", &r.staff_channels, &STAFF_CHANNELS)?;
    for (i, role) in r.staff_roles.iter().enumerate() {
        if role.parse::<Role>().is_err() {
            return Err(Error::validation(
                format!("staff_roles[{i}]"),
                format!("unknown role {role:?}"),
            ));
        }
    }
    if r.user_ids.len() > MAX_USERS {
        return Err(Error::validation(
            "user_ids",
            format!("at most {MAX_USERS} users"),
        ));
    }
    let exists = rule::Entity::find_by_id(r.event.clone())
        .one(db)
        .await?
        .is_some();
    let am = rule::ActiveModel {
        event: Set(r.event.clone()),
        enabled: Set(r.enabled),
        customer_channels: Set(json!(r.customer_channels)),
        staff_roles: Set(json!(r.staff_roles)),
        user_ids: Set(json!(r.user_ids)),
        staff_channels: Set(json!(r.staff_channels)),
        updated_by: Set(actor.user_id),
        updated_at: Set(crate::now()),
    };
    let saved = if exists {
        am.update(db).await?
    } else {
        am.insert(db).await?
    };
    Entry::new("notification_rule.saved")
        .actor(actor.user_id)
        .target("notification_rule", &r.event)
        .request(None, actor.request_id.clone())
        .details(json!(r))
        .record_tenant(db)
        .await?;
    Ok(from_row(saved))
}

/// The business's sender and quiet hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The display name of e-mails' `From` (default: the business's name).
    pub email_from_name: Option<String>,
    /// Where customers' replies go.
    pub email_reply_to: Option<String>,
    /// Staff alerts other than in-app wait from this time ("HH:MM", Mexico City)…
    pub quiet_from: Option<String>,
    /// …to this one (may be past midnight: 22:00–07:00).
    pub quiet_to: Option<String>,
    /// The locale messages are written in.
    pub locale: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            email_from_name: None,
            email_reply_to: None,
            quiet_from: None,
            quiet_to: None,
            locale: crate::notifications::templates::LOCALES[0].to_owned(),
        }
    }
}

/// The business's settings (the defaults until saved).
///
/// # Errors
/// Database errors.
pub async fn settings(db: &impl ConnectionTrait) -> Result<Settings> {
    Ok(setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .map_or_else(Settings::default, |s| Settings {
            email_from_name: s.email_from_name,
            email_reply_to: s.email_reply_to,
            quiet_from: s.quiet_from,
            quiet_to: s.quiet_to,
            locale: s.locale,
        }))
}

fn hhmm(field: &str, v: Option<&str>) -> Result<Option<NaiveTime>> {
    v.map(|s| {
        NaiveTime::parse_from_str(s, "%H:%M")
            .ok()
            .filter(|_| s.len() == 5)
            .ok_or_else(|| Error::validation(field, "a time of day as HH:MM (24 h)"))
    })
    .transpose()
}

/// Saves the business's settings.
///
/// # Errors
/// [`Error::Validation`] for a bad time, a quiet period with one end only, a reply-to that is
/// not an address, a name with control characters or over 120 characters, an unknown locale.
pub async fn put_settings(
    db: &impl ConnectionTrait,
    actor: &Actor,
    s: Settings,
) -> Result<Settings> {
    let from = hhmm("quiet_from", s.quiet_from.as_deref())?;
    let to = hhmm("quiet_to", s.quiet_to.as_deref())?;
    if from.is_some() != to.is_some() {
        return Err(Error::validation(
            "quiet_to",
            "quiet hours need both ends, or neither",
        ));
    }
    if from.is_some() && from == to {
        return Err(Error::validation(
            "quiet_to",
            "quiet hours cannot start and end at the same time",
        ));
    }
    if let Some(n) = &s.email_from_name
        && (n.trim().is_empty() || n.chars().count() > 120 || n.chars().any(char::is_control))
    {
        return Err(Error::validation(
            "email_from_name",
            "a name of 1 to 120 characters, on one line",
        ));
    }
    let mut s = s;
    if let Some(r) = &s.email_reply_to {
        s.email_reply_to = Some(
            crate::org::accounts::normalize_email(r)
                .map_err(|_| Error::validation("email_reply_to", "not an e-mail address"))?,
        );
    }
    if !crate::notifications::templates::LOCALES.contains(&s.locale.as_str()) {
        return Err(Error::validation(
            "locale",
            format!(
                "one of {}",
                crate::notifications::templates::LOCALES.join(", ")
            ),
        ));
    }
    let exists = setting::Entity::find_by_id(1).one(db).await?.is_some();
    let am = setting::ActiveModel {
        id: Set(1),
        email_from_name: Set(s.email_from_name.clone()),
        email_reply_to: Set(s.email_reply_to.clone()),
        quiet_from: Set(s.quiet_from.clone()),
        quiet_to: Set(s.quiet_to.clone()),
        locale: Set(s.locale.clone()),
        updated_by: Set(actor.user_id),
        updated_at: Set(crate::now()),
    };
    if exists {
        am.update(db).await?;
    } else {
        am.insert(db).await?;
    }
    Entry::new("notification_settings.updated")
        .actor(actor.user_id)
        .target("notification_settings", 1)
        .request(None, actor.request_id.clone())
        .details(json!(s))
        .record_tenant(db)
        .await?;
    Ok(s)
}

/// When a staff alert made at `now` may be sent: `now`, or the end of the quiet hours it falls
/// in (Mexico City time).
#[must_use]
pub fn after_quiet_hours(s: &Settings, now: DateTime<Utc>) -> DateTime<Utc> {
    let (Ok(Some(from)), Ok(Some(to))) = (
        hhmm("quiet_from", s.quiet_from.as_deref()),
        hhmm("quiet_to", s.quiet_to.as_deref()),
    ) else {
        return now;
    };
    let tz = crate::invoicing::global::TIMEZONE;
    let local = now.with_timezone(&tz);
    let t = local.time();
    let quiet = if from < to {
        t >= from && t < to
    } else {
        t >= from || t < to
    };
    if !quiet {
        return now;
    }
    // The end is today when it is still ahead of the clock, else tomorrow.
    let day = if t < to {
        local.date_naive()
    } else {
        local.date_naive() + chrono::Duration::days(1)
    };
    tz.from_local_datetime(&day.and_time(to))
        .earliest()
        .map_or(now, |d| d.with_timezone(&Utc))
}

/// A customer's consent per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// Their documents and orders by e-mail.
    pub email_transactional: bool,
    /// Campaigns by e-mail.
    pub email_marketing: bool,
    /// Their documents and orders by WhatsApp.
    pub whatsapp_transactional: bool,
    /// Campaigns by WhatsApp.
    pub whatsapp_marketing: bool,
}

impl Default for Preferences {
    /// Transactional messages yes (the customer gave the contact to be told of their orders),
    /// marketing no until they say so.
    fn default() -> Self {
        Self {
            email_transactional: true,
            email_marketing: false,
            whatsapp_transactional: true,
            whatsapp_marketing: false,
        }
    }
}

impl Preferences {
    /// Whether a transactional message may go out on `channel`.
    #[must_use]
    pub fn transactional(&self, channel: &str) -> bool {
        match channel {
            "email" => self.email_transactional,
            "whatsapp" => self.whatsapp_transactional,
            _ => true,
        }
    }
}

/// A customer's consent (the defaults until recorded).
///
/// # Errors
/// Database errors.
pub async fn preferences(db: &impl ConnectionTrait, customer_id: Uuid) -> Result<Preferences> {
    Ok(preference::Entity::find_by_id(customer_id)
        .one(db)
        .await?
        .map_or_else(Preferences::default, |p| Preferences {
            email_transactional: p.email_transactional,
            email_marketing: p.email_marketing,
            whatsapp_transactional: p.whatsapp_transactional,
            whatsapp_marketing: p.whatsapp_marketing,
        }))
}

/// Records a customer's consent, audited.
///
/// # Errors
/// [`Error::NotFound`] `customer`; database errors.
pub async fn put_preferences(
    db: &impl ConnectionTrait,
    actor: &Actor,
    customer_id: Uuid,
    p: Preferences,
) -> Result<Preferences> {
    crate::customers::tables::customer::Entity::find_by_id(customer_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "customer" })?;
    let exists = preference::Entity::find_by_id(customer_id)
        .one(db)
        .await?
        .is_some();
    let am = preference::ActiveModel {
        customer_id: Set(customer_id),
        email_transactional: Set(p.email_transactional),
        email_marketing: Set(p.email_marketing),
        whatsapp_transactional: Set(p.whatsapp_transactional),
        whatsapp_marketing: Set(p.whatsapp_marketing),
        updated_by: Set(actor.user_id),
        updated_at: Set(crate::now()),
    };
    if exists {
        am.update(db).await?;
    } else {
        am.insert(db).await?;
    }
    Entry::new("customer.contact_preferences_updated")
        .actor(actor.user_id)
        .target("customer", customer_id)
        .request(None, actor.request_id.clone())
        .details(json!(p))
        .record_tenant(db)
        .await?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn quiet(from: &str, to: &str) -> Settings {
        Settings {
            quiet_from: Some(from.into()),
            quiet_to: Some(to.into()),
            ..Settings::default()
        }
    }

    #[test]
    fn an_alert_in_overnight_quiet_hours_waits_for_the_morning_in_mexico_city() {
        let s = quiet("22:00", "07:00");
        // 23:30 local (UTC-6) on the 7th → 07:00 local on the 8th = 13:00 UTC.
        assert_eq!(
            after_quiet_hours(&s, at("2026-12-08T05:30:00Z")),
            at("2026-12-08T13:00:00Z")
        );
        // 03:00 local → 07:00 the same day.
        assert_eq!(
            after_quiet_hours(&s, at("2026-12-08T09:00:00Z")),
            at("2026-12-08T13:00:00Z")
        );
        // 12:00 local: not quiet.
        assert_eq!(
            after_quiet_hours(&s, at("2026-12-08T18:00:00Z")),
            at("2026-12-08T18:00:00Z")
        );
    }

    #[test]
    fn quiet_hours_within_one_day_end_the_same_day() {
        let s = quiet("14:00", "16:00");
        assert_eq!(
            after_quiet_hours(&s, at("2026-12-08T20:59:00Z")),
            at("2026-12-08T22:00:00Z")
        );
        assert_eq!(
            after_quiet_hours(&s, at("2026-12-08T22:00:00Z")),
            at("2026-12-08T22:00:00Z")
        );
    }

    #[test]
    fn no_quiet_hours_send_at_once() {
        let now = at("2026-12-08T05:30:00Z");
        assert_eq!(after_quiet_hours(&Settings::default(), now), now);
    }

    #[test]
    fn customer_events_tell_the_customer_and_staff_events_tell_roles_in_app() {
        let r = default_rule(catalog::event("service_order_ready").unwrap());
        assert_eq!(r.customer_channels, ["whatsapp", "email"]);
        assert!(r.staff_roles.is_empty());
        let r = default_rule(catalog::event("low_stock").unwrap());
        assert!(r.customer_channels.is_empty());
        assert_eq!(r.staff_roles, ["owner", "manager"]);
        assert_eq!(r.staff_channels, ["in_app"]);
        assert!(!default_rule(catalog::event("new_sale").unwrap()).enabled);
    }
}
