//! What technicians record on an order: their time on a labour line, and photos (at
//! reception: the state the vehicle came in; during the repair: the failed part).

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use crate::counter::sales::Seller;
use crate::workshop::flow;
use crate::workshop::orders::{self, Event};
use crate::workshop::tables::service_order_line::Kind;
use crate::workshop::tables::{labour_entry, service_order_line, service_order_photo};
use crate::{Error, Result};

/// Time logged on a labour line.
#[derive(Debug, Clone)]
pub struct NewTime {
    /// The labour line.
    pub line_id: Uuid,
    /// Minutes, 1 to 1 440.
    pub minutes: i64,
    /// The day worked (today by default).
    pub worked_on: Option<chrono::NaiveDate>,
    /// The technician (the caller by default; another one needs a manager).
    pub technician_id: Option<Uuid>,
    /// A note.
    pub note: Option<String>,
}

/// Logs a technician's time on a labour line of an order being worked.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::NotFound`] `service_order`,
/// `service_order_line`; [`Error::Forbidden`] for another's time below manager;
/// [`Error::Conflict`] `invalid_transition` on a finished order.
pub async fn log_time(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    order_id: Uuid,
    t: NewTime,
) -> Result<labour_entry::Model> {
    let o = orders::find(txn, seller, order_id).await?;
    if flow::is_final(o.status) {
        return Err(Error::conflict(
            "invalid_transition",
            format!("a {} service order takes no more time", o.status),
        ));
    }
    let line = service_order_line::Entity::find_by_id(t.line_id)
        .one(txn)
        .await?
        .filter(|l| l.order_id == o.id)
        .ok_or(Error::NotFound {
            entity: "service_order_line",
        })?;
    if line.kind != Kind::Labour {
        return Err(Error::validation(
            "line_id",
            "time is logged on a labour line",
        ));
    }
    if !(1..=1_440).contains(&t.minutes) {
        return Err(Error::validation("minutes", "minutes are 1 to 1440 a day"));
    }
    let today = crate::today();
    let day = t.worked_on.unwrap_or(today);
    if day > today || day < o.created_at.date_naive() - chrono::Days::new(1) {
        return Err(Error::validation(
            "worked_on",
            "the day is between the order's reception and today",
        ));
    }
    let technician = match t.technician_id {
        Some(u) if u != seller.user_id && !seller.role.is_manager() => {
            return Err(Error::Forbidden {
                code: "forbidden",
                message: "you log your own time; a manager logs another's".into(),
            });
        }
        Some(u) => u,
        None => seller.user_id,
    };
    let e = labour_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(o.id),
        line_id: Set(line.id),
        technician_id: Set(technician),
        minutes: Set(t.minutes),
        worked_on: Set(day),
        note: Set(crate::rules::text::optional("note", t.note, 500)?),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    orders::log(
        txn,
        o.id,
        Some(seller.user_id),
        None,
        Event {
            kind: "labour",
            from: None,
            to: None,
            note: None,
            details: Some(
                json!({"line_no": line.line_no, "minutes": e.minutes, "technician_id": technician}),
            ),
        },
    )
    .await?;
    Ok(e)
}

/// Photo types a workshop takes, and the largest one kept.
pub const PHOTO_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];
/// 10 MiB.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// The file store key of a photo.
#[must_use]
pub fn photo_key(tenant: Uuid, order: Uuid, photo: Uuid) -> String {
    format!(
        "{}/service-orders/{}/{}",
        tenant.simple(),
        order.simple(),
        photo.simple()
    )
}

/// Checks a photo's type by its first bytes (what the client says is not trusted) and size.
///
/// # Errors
/// [`Error::Validation`] on `body`.
pub fn photo_type(bytes: &[u8]) -> Result<&'static str> {
    if bytes.is_empty() || bytes.len() > MAX_PHOTO_BYTES {
        return Err(Error::validation("body", "a photo is 1 byte to 10 MiB"));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(PHOTO_TYPES[0])
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(PHOTO_TYPES[1])
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok(PHOTO_TYPES[2])
    } else {
        Err(Error::validation(
            "body",
            "a photo is a JPEG, PNG or WebP image",
        ))
    }
}

/// Records a photo already stored under `key` (the caller wrote the bytes first: a photo row
/// never points at nothing).
///
/// # Errors
/// [`Error::Validation`] on `caption`; database errors.
#[allow(clippy::too_many_arguments)]
pub async fn add_photo(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    order_id: Uuid,
    photo_id: Uuid,
    key: String,
    content_type: &str,
    bytes: &[u8],
    caption: Option<String>,
) -> Result<service_order_photo::Model> {
    let p = service_order_photo::ActiveModel {
        id: Set(photo_id),
        order_id: Set(order_id),
        file_key: Set(key),
        content_type: Set(content_type.to_owned()),
        bytes: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        sha256: Set(crate::files::sha256_hex(bytes)),
        caption: Set(crate::rules::text::optional("caption", caption, 200)?),
        created_by: Set(seller.user_id),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    orders::log(
        txn,
        order_id,
        Some(seller.user_id),
        None,
        Event {
            kind: "photo",
            from: None,
            to: None,
            note: p.caption.clone(),
            details: Some(json!({"photo_id": p.id})),
        },
    )
    .await?;
    Ok(p)
}

/// Checks the order is in reach before a photo's bytes are stored.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_transition` on a finished order.
pub async fn photo_target(
    db: &impl ConnectionTrait,
    seller: &Seller,
    order_id: Uuid,
) -> Result<()> {
    let o = orders::find(db, seller, order_id).await?;
    if flow::is_final(o.status) {
        return Err(Error::conflict(
            "invalid_transition",
            format!("a {} service order takes no more photos", o.status),
        ));
    }
    Ok(())
}

/// A photo of an order in reach.
///
/// # Errors
/// [`Error::NotFound`] `service_order`, `photo`.
pub async fn photo(
    db: &impl ConnectionTrait,
    seller: &Seller,
    order_id: Uuid,
    photo_id: Uuid,
) -> Result<service_order_photo::Model> {
    orders::find(db, seller, order_id).await?;
    service_order_photo::Entity::find_by_id(photo_id)
        .one(db)
        .await?
        .filter(|p| p.order_id == order_id)
        .ok_or(Error::NotFound { entity: "photo" })
}
