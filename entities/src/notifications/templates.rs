//! Message templates: the platform's defaults from the catalogue, a business's versioned
//! overrides, their validation against the event's sample context, and rendering.
//!
//! Rendering uses minijinja with text from the database: an undefined variable is an error when
//! printed (an `{% if %}` may test for it), HTML escaping applies to the e-mail's HTML part only,
//! and a fuel budget bounds the work a tenant-edited template can ask for.

use std::sync::LazyLock;

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::Value;
use uuid::Uuid;

use crate::notifications::catalog::{self, EventDef};
use crate::notifications::tables::template;
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::{Error, Result};

/// The channels a template is written for.
pub const CHANNELS: [&str; 4] = ["email", "whatsapp", "push", "in_app"];
/// The locales templates are written in; the first is the default.
pub const LOCALES: [&str; 1] = ["es-MX"];
/// The work one render may do (minijinja fuel: about one unit per instruction). A notification
/// renders in a few hundred; a loop a tenant typed by mistake stops here instead of tying up a
/// worker.
pub const FUEL: u64 = 20_000;
/// The longest text a part may be.
pub const MAX_LEN: usize = 8_000;

/// A template's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// 0 for the platform's default, else the override's version.
    pub version: i32,
    /// E-mail subject, push and in-app title.
    pub subject: Option<String>,
    /// E-mail text part, WhatsApp text, push and in-app body.
    pub body: String,
    /// E-mail HTML part.
    pub html: Option<String>,
    /// The approved WhatsApp template (outside the 24-hour window).
    pub wa_template: Option<String>,
    /// Its language code (`es_MX`).
    pub wa_language: Option<String>,
    /// One expression per parameter of the approved template.
    pub wa_params: Vec<String>,
}

/// What a template rendered to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rendered {
    /// Title or subject.
    pub subject: Option<String>,
    /// Text.
    pub body: String,
    /// HTML (e-mail).
    pub html: Option<String>,
    /// The approved WhatsApp template's name, language and rendered parameters.
    pub wa_template: Option<String>,
    /// Its language.
    pub wa_language: Option<String>,
    /// Rendered parameters.
    pub wa_params: Vec<String>,
}

/// Why a template did not render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {message}")]
pub struct RenderError {
    /// Which part: `subject`, `body`, `html`, `wa_params[1]`.
    pub part: String,
    /// What went wrong, for a person.
    pub message: String,
}

/// The platform's default for an event and channel.
#[must_use]
pub fn default_for(def: &EventDef, channel: &str) -> Template {
    let sign = "{{ business.name }}";
    let (subject, body, html) = match channel {
        "email" => (
            Some(def.title.to_owned()),
            format!("{}\n\n— {sign}", def.text),
            Some(format!(
                "<p>{}</p>\n<p>— {sign}</p>",
                def.text.replace('\n', "<br>")
            )),
        ),
        "whatsapp" => (None, format!("*{}*\n{}", def.title, def.text), None),
        _ => (Some(def.title.to_owned()), def.text.to_owned(), None),
    };
    let wa = channel == "whatsapp";
    Template {
        version: 0,
        subject,
        body,
        html,
        wa_template: wa.then(|| def.wa_template()),
        wa_language: wa.then(|| "es_MX".to_owned()),
        wa_params: if wa {
            def.wa_params.iter().map(|p| (*p).to_owned()).collect()
        } else {
            Vec::new()
        },
    }
}

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_fuel(Some(FUEL));
    // Templates are named by their part: only the HTML part is escaped.
    env.set_auto_escape_callback(|name| {
        if name == "html" {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
});

fn render_part(part: &str, source: &str, ctx: &minijinja::Value) -> Result<String, RenderError> {
    let fail = |e: minijinja::Error| RenderError {
        part: part.to_owned(),
        message: describe(&e),
    };
    let t = ENV.template_from_named_str(part, source).map_err(fail)?;
    t.render(ctx).map_err(fail)
}

fn describe(e: &minijinja::Error) -> String {
    let what = match e.kind() {
        minijinja::ErrorKind::UndefinedError => "a variable that is not defined".to_owned(),
        minijinja::ErrorKind::OutOfFuel => format!(
            "the template does more work than a message may ({FUEL} steps): simplify its loops"
        ),
        _ => e
            .detail()
            .map_or_else(|| e.kind().to_string(), str::to_owned),
    };
    match e.line() {
        Some(line) => format!("{what} (line {line})"),
        None => what,
    }
}

/// Renders every part of `t` with `ctx`.
///
/// # Errors
/// [`RenderError`] naming the part.
pub fn render(t: &Template, ctx: &Value) -> Result<Rendered, RenderError> {
    let ctx = minijinja::Value::from(Serde(ctx));
    let subject = t
        .subject
        .as_deref()
        .map(|s| render_part("subject", s, &ctx).map(|s| s.trim().to_owned()))
        .transpose()?;
    let body = render_part("body", &t.body, &ctx)?;
    let html = t
        .html
        .as_deref()
        .map(|s| render_part("html", s, &ctx))
        .transpose()?;
    let wa_params = t
        .wa_params
        .iter()
        .enumerate()
        .map(|(i, p)| render_part(&format!("wa_params[{i}]"), p, &ctx))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rendered {
        subject,
        body,
        html,
        wa_template: t.wa_template.clone(),
        wa_language: t.wa_language.clone(),
        wa_params,
    })
}

/// Whether `path` (`customer.name`) names something in `ctx`.
fn defined(ctx: &Value, path: &str) -> bool {
    let mut at = ctx;
    for key in path.split('.') {
        match at.get(key) {
            Some(v) => at = v,
            None => return false,
        }
    }
    true
}

/// The variables `source` uses that the event's context does not have, sorted.
fn unknown_variables(source: &str, sample: &Value) -> Vec<String> {
    let Ok(t) = ENV.template_from_str(source) else {
        return Vec::new();
    };
    let globals: Vec<&str> = ENV.globals().map(|(n, _)| n).collect();
    let mut out: Vec<String> = t
        .undeclared_variables(true)
        .into_iter()
        .filter(|v| {
            let root = v.split('.').next().unwrap_or(v);
            !globals.contains(&root) && !defined(sample, v)
        })
        .collect();
    out.sort();
    out
}

/// Checks a template for an event and channel: each part parses, uses only variables of the
/// event's context, and renders against its sample.
///
/// # Errors
/// [`Error::Validation`] naming the part and, for an unknown variable, the variable.
pub fn check(def: &EventDef, channel: &str, t: &Template) -> Result<Rendered> {
    let sample = def.sample();
    if t.body.trim().is_empty() {
        return Err(Error::validation("body", "the body is empty"));
    }
    if channel == "email" && t.subject.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(Error::validation("subject", "an e-mail needs a subject"));
    }
    if channel != "email" && t.html.is_some() {
        return Err(Error::validation(
            "html",
            "only e-mail templates have an HTML part",
        ));
    }
    if channel != "whatsapp" && (t.wa_template.is_some() || !t.wa_params.is_empty()) {
        return Err(Error::validation(
            "wa_template",
            "only WhatsApp templates name an approved template",
        ));
    }
    if let Some(name) = &t.wa_template
        && !valid_wa_name(name)
    {
        return Err(Error::validation(
            "wa_template",
            "an approved template's name is lower-case letters, digits and underscores, at most 512",
        ));
    }
    let mut parts: Vec<(String, &str)> = vec![("body".into(), t.body.as_str())];
    if let Some(s) = &t.subject {
        parts.push(("subject".into(), s));
    }
    if let Some(h) = &t.html {
        parts.push(("html".into(), h));
    }
    for (i, p) in t.wa_params.iter().enumerate() {
        parts.push((format!("wa_params[{i}]"), p));
    }
    for (part, source) in &parts {
        if source.len() > MAX_LEN {
            return Err(Error::validation(
                part.clone(),
                format!("at most {MAX_LEN} characters"),
            ));
        }
        if let Err(e) = ENV.template_from_str(source) {
            return Err(Error::validation(part.clone(), describe(&e)));
        }
        let unknown = unknown_variables(source, &sample);
        if let Some(first) = unknown.first() {
            return Err(Error::validation(
                part.clone(),
                format!(
                    "unknown variable `{first}`: {} messages have {}",
                    def.name,
                    known_variables(&sample).join(", ")
                ),
            ));
        }
    }
    render(t, &sample).map_err(|e| Error::validation(e.part, e.message))
}

fn valid_wa_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The variables of a context, as dotted paths (`customer.name`), sorted.
#[must_use]
pub fn known_variables(ctx: &Value) -> Vec<String> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
        if let Some(o) = v.as_object() {
            for (k, v) in o {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if v.is_object() {
                    walk(&path, v, out);
                } else {
                    out.push(path);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk("", ctx, &mut out);
    out.sort();
    out
}

fn from_row(r: template::Model) -> Template {
    Template {
        version: r.version,
        subject: r.subject,
        body: r.body,
        html: r.html,
        wa_template: r.wa_template,
        wa_language: r.wa_language,
        wa_params: r
            .wa_params
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
    }
}

/// The business's current override of an event, channel and locale, if any.
///
/// # Errors
/// Database errors.
pub async fn current_override(
    db: &impl ConnectionTrait,
    event: &str,
    channel: &str,
    locale: &str,
) -> Result<Option<Template>> {
    Ok(template::Entity::find()
        .filter(template::Column::Event.eq(event))
        .filter(template::Column::Channel.eq(channel))
        .filter(template::Column::Locale.eq(locale))
        .filter(template::Column::RetiredAt.is_null())
        .order_by_desc(template::Column::Version)
        .one(db)
        .await?
        .map(from_row))
}

/// The template a message of `event` on `channel` in `locale` is rendered from: the business's
/// override, else the platform's default; `None` for an event outside the catalogue.
///
/// # Errors
/// Database errors.
pub async fn resolve(
    db: &impl ConnectionTrait,
    event: &str,
    channel: &str,
    locale: &str,
) -> Result<Option<Template>> {
    let Some(def) = catalog::event(event) else {
        return Ok(None);
    };
    Ok(Some(
        match current_override(db, event, channel, locale).await? {
            Some(t) => t,
            None => default_for(def, channel),
        },
    ))
}

/// Checks that an event, channel and locale exist.
///
/// # Errors
/// [`Error::NotFound`] `notification_template`.
pub fn known(event: &str, channel: &str, locale: &str) -> Result<&'static EventDef> {
    let def = catalog::event(event).ok_or(Error::NotFound {
        entity: "notification_template",
    })?;
    if !CHANNELS.contains(&channel) || !LOCALES.contains(&locale) {
        return Err(Error::NotFound {
            entity: "notification_template",
        });
    }
    Ok(def)
}

/// Saves a new version of a business's template after [`check`]ing it; answers it.
///
/// # Errors
/// As [`known`] and [`check`]; database errors.
pub async fn save(
    db: &impl ConnectionTrait,
    actor: &Actor,
    event: &str,
    channel: &str,
    locale: &str,
    t: &Template,
) -> Result<template::Model> {
    let def = known(event, channel, locale)?;
    check(def, channel, t)?;
    let last = template::Entity::find()
        .filter(template::Column::Event.eq(event))
        .filter(template::Column::Channel.eq(channel))
        .filter(template::Column::Locale.eq(locale))
        .order_by_desc(template::Column::Version)
        .one(db)
        .await?
        .map_or(0, |r| r.version);
    let row = template::ActiveModel {
        id: Set(Uuid::now_v7()),
        event: Set(event.to_owned()),
        channel: Set(channel.to_owned()),
        locale: Set(locale.to_owned()),
        version: Set(last + 1),
        subject: Set(t.subject.clone()),
        body: Set(t.body.clone()),
        html: Set(t.html.clone()),
        wa_template: Set(t.wa_template.clone()),
        wa_language: Set(t.wa_language.clone()),
        wa_params: Set((!t.wa_params.is_empty()).then(|| serde_json::json!(t.wa_params))),
        retired_at: Set(None),
        created_by: Set(actor.user_id),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    Entry::new("notification_template.saved")
        .actor(actor.user_id)
        .target("notification_template", row.id)
        .request(None, actor.request_id.clone())
        .details(serde_json::json!({"event": event, "channel": channel, "locale": locale, "version": row.version}))
        .record_tenant(db)
        .await?;
    Ok(row)
}

/// Goes back to the platform's default: every version is kept, retired. Answers how many were
/// retired.
///
/// # Errors
/// As [`known`]; database errors.
pub async fn reset(
    db: &impl ConnectionTrait,
    actor: &Actor,
    event: &str,
    channel: &str,
    locale: &str,
) -> Result<u64> {
    known(event, channel, locale)?;
    let r = template::Entity::update_many()
        .col_expr(
            template::Column::RetiredAt,
            sea_orm::sea_query::Expr::value(crate::now()),
        )
        .filter(template::Column::Event.eq(event))
        .filter(template::Column::Channel.eq(channel))
        .filter(template::Column::Locale.eq(locale))
        .filter(template::Column::RetiredAt.is_null())
        .exec(db)
        .await?;
    if r.rows_affected > 0 {
        Entry::new("notification_template.reset")
            .actor(actor.user_id)
            .target(
                "notification_template",
                format!("{event}/{channel}/{locale}"),
            )
            .request(None, actor.request_id.clone())
            .details(serde_json::json!({"event": event, "channel": channel, "locale": locale}))
            .record_tenant(db)
            .await?;
    }
    Ok(r.rows_affected)
}

/// Every version a business saved of an event, channel and locale, newest first.
///
/// # Errors
/// Database errors.
pub async fn versions(
    db: &impl ConnectionTrait,
    event: &str,
    channel: &str,
    locale: &str,
) -> Result<Vec<template::Model>> {
    Ok(template::Entity::find()
        .filter(template::Column::Event.eq(event))
        .filter(template::Column::Channel.eq(channel))
        .filter(template::Column::Locale.eq(locale))
        .order_by_desc(template::Column::Version)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str) -> &'static EventDef {
        catalog::event(name).unwrap()
    }

    #[test]
    fn every_default_template_renders_against_its_event_sample() {
        for def in catalog::EVENTS {
            for channel in CHANNELS {
                let t = default_for(def, channel);
                let r = check(def, channel, &t)
                    .unwrap_or_else(|e| panic!("{} {channel}: {e}", def.name));
                assert!(!r.body.contains("{{"), "{} {channel}", def.name);
            }
        }
    }

    #[test]
    fn an_unknown_variable_is_refused_with_its_name() {
        let mut t = default_for(ev("quote_sent"), "in_app");
        t.body = "Hola {{ customer.nombre }}".into();
        let e = check(ev("quote_sent"), "in_app", &t).unwrap_err();
        assert!(e.to_string().contains("`customer.nombre`"), "{e}");
        t.body = "Total {{ totl }}".into();
        let e = check(ev("quote_sent"), "in_app", &t).unwrap_err();
        assert!(
            e.to_string().starts_with("body: unknown variable `totl`"),
            "{e}"
        );
    }

    #[test]
    fn html_is_escaped_only_in_the_html_part() {
        let t = default_for(ev("special_order_received"), "email");
        let mut ctx = ev("special_order_received").sample();
        ctx["customer"]["name"] = "<b>Ana & Co</b>".into();
        let r = render(&t, &ctx).unwrap();
        assert!(r.body.contains("<b>Ana & Co</b>"));
        assert!(
            r.html
                .unwrap()
                .contains("&lt;b&gt;Ana &amp; Co&lt;&#x2f;b&gt;")
        );
    }

    #[test]
    fn a_runaway_loop_runs_out_of_fuel() {
        let mut t = default_for(ev("quote_sent"), "push");
        t.body = "{% for i in range(100000) %}{{ folio }}{% endfor %}".into();
        let e = check(ev("quote_sent"), "push", &t).unwrap_err();
        assert!(
            e.to_string().contains("more work than a message may"),
            "{e}"
        );
    }

    #[test]
    fn a_syntax_error_names_the_part_and_line() {
        let mut t = default_for(ev("quote_sent"), "email");
        t.subject = Some("Cotización {{ folio ".into());
        let e = check(ev("quote_sent"), "email", &t).unwrap_err();
        assert!(e.to_string().starts_with("subject: "), "{e}");
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn a_missing_value_at_send_time_is_a_render_error() {
        let t = default_for(ev("special_order_received"), "push");
        // The title has its folio; the body's customer is missing.
        let e = render(&t, &serde_json::json!({"folio": "X"})).unwrap_err();
        assert_eq!(e.part, "body");
    }
}
