//! Reading and writing the VIN decode cache. The API claims a decode (a `pending` row) and
//! enqueues the job that fills it; the worker writes `done` or `unavailable`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::vehicles::tables::vin_decode::{self, Column, Entity};

pub use crate::vehicles::tables::vin_decode::Status;

/// The vPIC fields Nexus uses, parsed from `DecodeVinValues` (where every value is a string and
/// an empty string means unknown: here `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpicData {
    /// `Make`, e.g. `VOLKSWAGEN`.
    pub make: Option<String>,
    /// `Manufacturer`, e.g. `VOLKSWAGEN DE MEXICO SA DE CV`.
    pub manufacturer: Option<String>,
    /// `Model`.
    pub model: Option<String>,
    /// `ModelYear`.
    pub model_year: Option<i32>,
    /// `Series`.
    pub series: Option<String>,
    /// `Trim`.
    pub trim: Option<String>,
    /// `BodyClass`.
    pub body_class: Option<String>,
    /// `VehicleType`.
    pub vehicle_type: Option<String>,
    /// `EngineCylinders`.
    pub engine_cylinders: Option<i32>,
    /// `DisplacementL` as vPIC wrote it (a decimal string, kept exact), e.g. `"2.0"`.
    pub displacement_l: Option<String>,
    /// `FuelTypePrimary`.
    pub fuel_type: Option<String>,
    /// `DriveType`.
    pub drive_type: Option<String>,
    /// `PlantCountry`.
    pub plant_country: Option<String>,
    /// `ErrorCode` as a list (vPIC sends `"5,6,14"`); `[0]` is a clean decode.
    pub error_codes: Vec<u16>,
    /// `ErrorText`.
    pub error_text: Option<String>,
}

impl VpicData {
    /// Whether the decode says something a counter can use: at least the make or the model.
    #[must_use]
    pub fn is_useful(&self) -> bool {
        self.make.is_some() || self.model.is_some()
    }
}

/// What [`claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller now owns a `pending` row and must enqueue the job that fills it.
    Claimed(vin_decode::Model),
    /// A row exists (pending with a job on its way, done, or recently unavailable).
    Existing(vin_decode::Model),
}

/// Finds a cached decode.
///
/// # Errors
/// Database errors.
pub async fn find(db: &impl ConnectionTrait, vin: &str) -> Result<Option<vin_decode::Model>> {
    Ok(Entity::find_by_id(vin.to_owned()).one(db).await?)
}

/// Claims the decode of a VIN: inserts a `pending` row when there is none, or takes over a row
/// that is stale (pending for longer than `stale_after` with no sign of its job, e.g. a request
/// that died between the claim and its outbox commit; or unavailable for longer than
/// `retry_unavailable_after`, since vPIC may know the VIN by now). Of concurrent callers exactly
/// one gets [`Claim::Claimed`].
///
/// # Errors
/// Database errors.
pub async fn claim(
    db: &impl ConnectionTrait,
    vin: &str,
    model_year: Option<i32>,
    now: DateTime<Utc>,
    stale_after: chrono::Duration,
    retry_unavailable_after: chrono::Duration,
) -> Result<Claim> {
    let inserted = Entity::insert(vin_decode::ActiveModel {
        vin: Set(vin.to_owned()),
        status: Set(Status::Pending),
        model_year: Set(model_year),
        decoded: Set(None),
        requested_at: Set(now),
        updated_at: Set(now),
        attempts: Set(0),
        last_error: Set(None),
    })
    .on_conflict(OnConflict::column(Column::Vin).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    let row = find(db, vin)
        .await?
        .ok_or_else(|| crate::Error::Internal(format!("vin_decodes row of {vin} vanished")))?;
    if inserted == 1 {
        return Ok(Claim::Claimed(row));
    }
    let stale = match row.status {
        Status::Pending => row.updated_at < now - stale_after,
        Status::Unavailable => row.updated_at < now - retry_unavailable_after,
        _ => false,
    };
    if !stale {
        return Ok(Claim::Existing(row));
    }
    // Compare-and-set on the row's last change: of two requests seeing the same stale row, one
    // updates it and the other sees zero rows affected.
    let taken = Entity::update_many()
        .col_expr(Column::Status, Expr::value(Status::Pending))
        .col_expr(Column::ModelYear, Expr::value(model_year))
        .col_expr(Column::RequestedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Vin.eq(vin))
        .filter(Column::UpdatedAt.eq(row.updated_at))
        .exec(db)
        .await?;
    let row = find(db, vin)
        .await?
        .ok_or_else(|| crate::Error::Internal(format!("vin_decodes row of {vin} vanished")))?;
    Ok(if taken.rows_affected == 1 {
        Claim::Claimed(row)
    } else {
        Claim::Existing(row)
    })
}

/// Gives a claim back (its job could not be recorded), so the next request claims again.
///
/// # Errors
/// Database errors.
pub async fn release(db: &impl ConnectionTrait, vin: &str) -> Result<()> {
    Entity::delete_many()
        .filter(Column::Vin.eq(vin))
        .filter(Column::Status.eq(Status::Pending))
        .filter(Column::Attempts.eq(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes a finished decode (`done`, or `unavailable` with a reason), creating the row if it is
/// missing, and counts the call.
///
/// # Errors
/// Database errors.
pub async fn finish(
    db: &impl ConnectionTrait,
    vin: &str,
    model_year: Option<i32>,
    data: Option<&VpicData>,
    unavailable_reason: Option<&str>,
) -> Result<()> {
    let now = crate::now();
    let decoded = data
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| crate::Error::Internal(format!("vPIC data does not serialise: {e}")))?;
    let status = if unavailable_reason.is_some() {
        Status::Unavailable
    } else {
        Status::Done
    };
    Entity::insert(vin_decode::ActiveModel {
        vin: Set(vin.to_owned()),
        status: Set(status.to_owned()),
        model_year: Set(model_year),
        decoded: Set(decoded),
        requested_at: Set(now),
        updated_at: Set(now),
        attempts: Set(1),
        last_error: Set(unavailable_reason.map(str::to_owned)),
    })
    .on_conflict(
        OnConflict::column(Column::Vin)
            .update_columns([
                Column::Status,
                Column::Decoded,
                Column::UpdatedAt,
                Column::LastError,
            ])
            .value(
                Column::Attempts,
                Expr::col((vin_decode::Entity, Column::Attempts)).add(1),
            )
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Records a failed call that will be tried again: the row stays `pending`.
///
/// # Errors
/// Database errors.
pub async fn record_failure(db: &impl ConnectionTrait, vin: &str, error: &str) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::LastError, Expr::value(error.to_owned()))
        .col_expr(Column::UpdatedAt, Expr::value(crate::now()))
        .filter(Column::Vin.eq(vin))
        .filter(Column::Status.eq(Status::Pending))
        .exec(db)
        .await?;
    Ok(())
}
