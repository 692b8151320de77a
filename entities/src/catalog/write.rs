//! Writes to the catalog by imports: parts with their numbers, and fitment. Every function runs
//! in the caller's transaction; the caller finishes a batch with [`finish_batch`], which rewrites
//! the SQL full-text rows of the touched parts and appends them to the change log, so search
//! and the Meilisearch sync see the batch exactly when it commits.

use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

use super::docs::{ph, phs};
use super::text::normalize_number;
use super::{changes, docs};
use crate::{Error, Result};

async fn one_i64(
    db: &impl ConnectionTrait,
    sql: String,
    values: Vec<Value>,
) -> Result<Option<i64>> {
    let backend = db.get_database_backend();
    Ok(db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?)
}

/// The id of a brand by Auto Care code or name, creating it when missing.
///
/// # Errors
/// [`Error::Validation`] when neither is given; database errors.
pub async fn brand_id(
    db: &impl ConnectionTrait,
    aaia_id: Option<&str>,
    name: Option<&str>,
) -> Result<i32> {
    let b = db.get_database_backend();
    let aaia = aaia_id.map(str::trim).filter(|s| !s.is_empty());
    let name = name.map(str::trim).filter(|s| !s.is_empty());
    let lookups = [
        aaia.map(|c| ("aaia_id = {}", c)),
        name.map(|n| ("lower(name) = lower({})", n)),
    ];
    for (cond, value) in lookups.into_iter().flatten() {
        let sql = format!(
            "SELECT CAST(id AS BIGINT) FROM catalog_brands WHERE {}",
            cond.replace("{}", &ph(b, 1))
        );
        if let Some(id) = one_i64(db, sql, vec![value.into()]).await? {
            return Ok(i32::try_from(id).unwrap_or_default());
        }
    }
    let display = name
        .or(aaia)
        .ok_or_else(|| Error::validation("brand", "a part needs a BrandAAIAID or a BrandLabel"))?;
    let id = one_i64(
        db,
        format!(
            "INSERT INTO catalog_brands (name, aaia_id) VALUES ({}) RETURNING CAST(id AS BIGINT)",
            phs(b, 1, 2)
        ),
        vec![display.into(), aaia.map(str::to_owned).into()],
    )
    .await?
    .ok_or_else(|| Error::Internal("insert returned no id".into()))?;
    Ok(i32::try_from(id).unwrap_or_default())
}

/// The category of an ACES PCdb part type id, when the catalog has it.
///
/// # Errors
/// Database errors.
pub async fn category_by_pcdb(db: &impl ConnectionTrait, pcdb_id: i32) -> Result<Option<i32>> {
    let b = db.get_database_backend();
    Ok(one_i64(
        db,
        format!(
            "SELECT CAST(id AS BIGINT) FROM catalog_categories WHERE pcdb_id = {}",
            ph(b, 1)
        ),
        vec![pcdb_id.into()],
    )
    .await?
    .and_then(|i| i32::try_from(i).ok()))
}

/// A part as an import describes it.
#[derive(Debug, Clone, Default)]
pub struct PartInput {
    /// Brand id (see [`brand_id`]).
    pub brand_id: i32,
    /// Number as printed.
    pub number: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Category.
    pub category_id: Option<i32>,
    /// Attributes.
    pub attributes: Option<serde_json::Value>,
    /// SAT ClaveProdServ.
    pub sat_product_key: Option<String>,
    /// Reference retail price in centavos.
    pub retail_price_cents: Option<i64>,
    /// Other numbers: (kind, brand, number). Replaces the part's list when `Some`.
    pub interchange: Option<Vec<(String, String, String)>>,
}

/// Kinds of other numbers.
pub const INTERCHANGE_KINDS: [&str; 4] = ["oe", "aftermarket", "supersedes", "superseded_by"];

/// Creates or updates a part by brand and normalised number; returns its id and whether it is
/// new.
///
/// # Errors
/// [`Error::Validation`] for an empty number or name or an unknown interchange kind; database
/// errors.
pub async fn upsert_part(db: &impl ConnectionTrait, p: &PartInput) -> Result<(i64, bool)> {
    let b = db.get_database_backend();
    let norm = normalize_number(&p.number);
    if norm.is_empty() || norm.len() > 64 {
        return Err(Error::validation(
            "PartNumber",
            "a part number needs 1 to 64 letters or digits",
        ));
    }
    if p.name.trim().is_empty() {
        return Err(Error::validation(
            "name",
            "a part needs a name or description",
        ));
    }
    let name: String = p.name.trim().chars().take(200).collect();
    let now = crate::now();
    let existing = one_i64(
        db,
        format!(
            "SELECT id FROM catalog_parts WHERE brand_id = {} AND number_norm = {}",
            ph(b, 1),
            ph(b, 2)
        ),
        vec![p.brand_id.into(), norm.clone().into()],
    )
    .await?;
    let attrs = p.attributes.clone().map(|j| Value::Json(Some(Box::new(j))));
    let attrs = attrs.unwrap_or(Value::Json(None));
    let (id, created) = if let Some(id) = existing {
        db.execute_raw(Statement::from_sql_and_values(
            b,
            format!(
                "UPDATE catalog_parts SET number = {}, name = {}, \
                 description = COALESCE({}, description), category_id = COALESCE({}, category_id), \
                 attributes = COALESCE({}{}, attributes), sat_product_key = COALESCE({}, sat_product_key), \
                 retail_price_cents = COALESCE({}, retail_price_cents), updated_at = {} WHERE id = {}",
                ph(b, 1),
                ph(b, 2),
                ph(b, 3),
                ph(b, 4),
                ph(b, 5),
                // The column is json on PostgreSQL; sqlx binds JSON values as jsonb.
                if b == sea_orm::DatabaseBackend::Postgres { "::json" } else { "" },
                ph(b, 6),
                ph(b, 7),
                ph(b, 8),
                ph(b, 9)
            ),
            vec![
                p.number.clone().into(),
                name.into(),
                p.description.clone().into(),
                p.category_id.into(),
                attrs,
                p.sat_product_key.clone().into(),
                p.retail_price_cents.into(),
                now.into(),
                id.into(),
            ],
        ))
        .await?;
        (id, false)
    } else {
        let id = one_i64(
            db,
            format!(
                "INSERT INTO catalog_parts (brand_id, number, number_norm, name, description, \
                 category_id, attributes, sat_product_key, retail_price_cents, created_at, updated_at) \
                 VALUES ({}) RETURNING id",
                phs(b, 1, 11)
            ),
            vec![
                p.brand_id.into(),
                p.number.clone().into(),
                norm.into(),
                name.into(),
                p.description.clone().into(),
                p.category_id.into(),
                attrs,
                p.sat_product_key.clone().into(),
                p.retail_price_cents.into(),
                now.into(),
                now.into(),
            ],
        )
        .await?
        .ok_or_else(|| Error::Internal("insert returned no id".into()))?;
        (id, true)
    };
    if let Some(list) = &p.interchange {
        db.execute_raw(Statement::from_sql_and_values(
            b,
            format!(
                "DELETE FROM catalog_interchange WHERE part_id = {}",
                ph(b, 1)
            ),
            vec![id.into()],
        ))
        .await?;
        let mut seen = std::collections::HashSet::new();
        for (kind, brand, number) in list {
            if !INTERCHANGE_KINDS.contains(&kind.as_str()) {
                return Err(Error::validation(
                    "interchange",
                    format!("unknown kind {kind}"),
                ));
            }
            let norm = normalize_number(number);
            if norm.is_empty() || !seen.insert((kind.clone(), norm.clone())) {
                continue;
            }
            db.execute_raw(Statement::from_sql_and_values(
                b,
                format!(
                    "INSERT INTO catalog_interchange (part_id, kind, brand, number, number_norm) \
                     VALUES ({})",
                    phs(b, 1, 5)
                ),
                vec![
                    id.into(),
                    kind.clone().into(),
                    brand.chars().take(64).collect::<String>().into(),
                    number.chars().take(64).collect::<String>().into(),
                    norm.into(),
                ],
            ))
            .await?;
        }
    }
    Ok((id, created))
}

/// A part by brand and number.
///
/// # Errors
/// Database errors.
pub async fn find_part(
    db: &impl ConnectionTrait,
    brand_id: i32,
    number: &str,
) -> Result<Option<i64>> {
    let b = db.get_database_backend();
    one_i64(
        db,
        format!(
            "SELECT id FROM catalog_parts WHERE brand_id = {} AND number_norm = {}",
            ph(b, 1),
            ph(b, 2)
        ),
        vec![brand_id.into(), normalize_number(number).into()],
    )
    .await
}

/// How an ACES application names its vehicles.
#[derive(Debug, Clone, Default)]
pub struct VehicleRef {
    /// VCdb BaseVehicle id.
    pub base_vehicle_id: Option<i32>,
    /// Legacy form: first and last year…
    pub years: Option<(i16, i16)>,
    /// …VCdb make id…
    pub make_vcdb_id: Option<i32>,
    /// …VCdb model id.
    pub model_vcdb_id: Option<i32>,
    /// VCdb EngineBase id, narrowing to one engine.
    pub engine_base_id: Option<i32>,
}

/// The catalog vehicles an application names (empty when none match).
///
/// # Errors
/// [`Error::Validation`] when the reference names neither a base vehicle nor years, make and
/// model; database errors.
pub async fn vehicles_for(db: &impl ConnectionTrait, r: &VehicleRef) -> Result<Vec<i32>> {
    let b = db.get_database_backend();
    let mut conds = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(id) = r.base_vehicle_id {
        values.push(id.into());
        conds.push(format!("v.base_vehicle_id = {}", ph(b, values.len())));
    } else if let (Some((from, to)), Some(make), Some(model)) =
        (r.years, r.make_vcdb_id, r.model_vcdb_id)
    {
        values.push(from.into());
        conds.push(format!("v.year >= {}", ph(b, values.len())));
        values.push(to.into());
        conds.push(format!("v.year <= {}", ph(b, values.len())));
        values.push(make.into());
        conds.push(format!(
            "v.make_id = (SELECT id FROM catalog_makes WHERE vcdb_id = {})",
            ph(b, values.len())
        ));
        values.push(model.into());
        conds.push(format!(
            "v.model_id = (SELECT id FROM catalog_models WHERE vcdb_id = {})",
            ph(b, values.len())
        ));
    } else {
        return Err(Error::validation(
            "BaseVehicle",
            "an application needs a BaseVehicle, or Years, Make and Model",
        ));
    }
    if let Some(e) = r.engine_base_id {
        values.push(e.into());
        conds.push(format!("v.engine_base_id = {}", ph(b, values.len())));
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            b,
            format!(
                "SELECT v.id FROM catalog_vehicles v WHERE {} ORDER BY v.id",
                conds.join(" AND ")
            ),
            values,
        ))
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get_by_index::<i32>(0))
        .collect::<std::result::Result<_, DbErr>>()?)
}

/// One application of a part to vehicles.
#[derive(Debug, Clone, Default)]
pub struct FitmentInput {
    /// The part.
    pub part_id: i64,
    /// The vehicles.
    pub vehicle_ids: Vec<i32>,
    /// Position ('' when none).
    pub position: String,
    /// Units per vehicle.
    pub qty: i16,
    /// Qualifiers.
    pub qualifiers: Option<serde_json::Value>,
    /// Note.
    pub note: Option<String>,
}

/// Adds or updates fitment rows; returns how many rows already existed (duplicates).
///
/// # Errors
/// Database errors.
pub async fn put_fitment(db: &impl ConnectionTrait, f: &FitmentInput) -> Result<u64> {
    let b = db.get_database_backend();
    let mut existed = 0;
    for &v in &f.vehicle_ids {
        let found = one_i64(
            db,
            format!(
                "SELECT count(*) FROM catalog_fitment WHERE part_id = {} AND vehicle_id = {} AND position = {}",
                ph(b, 1),
                ph(b, 2),
                ph(b, 3)
            ),
            vec![f.part_id.into(), v.into(), f.position.clone().into()],
        )
        .await?
        .unwrap_or(0);
        existed += u64::from(found > 0);
        db.execute_raw(Statement::from_sql_and_values(
            b,
            format!(
                "INSERT INTO catalog_fitment (part_id, vehicle_id, position, qty, qualifiers, note) \
                 VALUES ({}) ON CONFLICT (part_id, vehicle_id, position) DO UPDATE SET \
                 qty = excluded.qty, qualifiers = excluded.qualifiers, note = excluded.note",
                phs(b, 1, 6)
            ),
            vec![
                f.part_id.into(),
                v.into(),
                f.position.clone().into(),
                f.qty.into(),
                Value::Json(f.qualifiers.clone().map(Box::new)),
                f.note.clone().into(),
            ],
        ))
        .await?;
    }
    Ok(existed)
}

/// Deletes fitment rows (an ACES `action="D"`); returns how many went.
///
/// # Errors
/// Database errors.
pub async fn delete_fitment(db: &impl ConnectionTrait, f: &FitmentInput) -> Result<u64> {
    let b = db.get_database_backend();
    if f.vehicle_ids.is_empty() {
        return Ok(0);
    }
    let r = db
        .execute_raw(Statement::from_sql_and_values(
            b,
            format!(
                "DELETE FROM catalog_fitment WHERE part_id = {} AND position = {} AND vehicle_id IN ({})",
                ph(b, 1),
                ph(b, 2),
                phs(b, 3, f.vehicle_ids.len())
            ),
            [f.part_id.into(), f.position.clone().into()]
                .into_iter()
                .chain(f.vehicle_ids.iter().map(|&v| Value::from(v)))
                .collect::<Vec<_>>(),
        ))
        .await?;
    Ok(r.rows_affected())
}

/// Ends a batch of writes: refreshes the SQL full-text rows of the touched parts and appends
/// them to the change log.
///
/// # Errors
/// Database errors.
pub async fn finish_batch(db: &impl ConnectionTrait, touched: &mut Vec<i64>) -> Result<()> {
    touched.sort_unstable();
    touched.dedup();
    docs::refresh_fulltext(db, touched).await?;
    changes::record(db, touched).await?;
    touched.clear();
    Ok(())
}
