//! Branches and their warehouses: validation, CRUD and the audit trail of every change.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::error::OnUnique;
use crate::org::audit::Entry;
use crate::{Error, Page, PageRequest, Result};
use crate::{org::tables::branch, org::tables::warehouse};

/// The standard IVA rate, 16 %, in basis points.
pub const IVA_STANDARD_BP: i32 = 1600;
/// The border-region IVA rate, 8 %, in basis points.
pub const IVA_BORDER_BP: i32 = 800;
/// Timezone of a branch when none is given.
pub const DEFAULT_TIMEZONE: &str = "America/Mexico_City";
/// The IANA zones in use in Mexico.
pub const MEXICAN_TIMEZONES: [&str; 12] = [
    "America/Mexico_City",
    "America/Cancun",
    "America/Merida",
    "America/Monterrey",
    "America/Matamoros",
    "America/Chihuahua",
    "America/Ciudad_Juarez",
    "America/Ojinaga",
    "America/Mazatlan",
    "America/Bahia_Banderas",
    "America/Hermosillo",
    "America/Tijuana",
];

/// Who makes a change, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// The user, none for the CLI.
    pub user_id: Option<Uuid>,
    /// The request id, none for the CLI.
    pub request_id: Option<String>,
}

impl Actor {
    fn entry(&self, action: &str, id: Uuid) -> Entry {
        Entry::new(action)
            .actor(self.user_id)
            .target(action_target(action), id)
            .request(None, self.request_id.clone())
    }
}

fn action_target(action: &str) -> &str {
    action.split('.').next().unwrap_or(action)
}

/// Fields of a new branch; `None` takes the default.
#[derive(Debug, Clone, Default)]
pub struct NewBranch {
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// IVA rate in basis points (1600 or 800); 1600 by default.
    pub iva_rate_bp: Option<i32>,
    /// IANA timezone; America/Mexico_City by default.
    pub timezone: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Five-digit postal code.
    pub postal_code: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Whether cash needs an open drawer session; true by default.
    pub cash_drawer_required: Option<bool>,
}

/// Changes to a branch; `None` leaves a field as it is, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct BranchPatch {
    /// New code.
    pub code: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New IVA rate in basis points.
    pub iva_rate_bp: Option<i32>,
    /// New timezone.
    pub timezone: Option<String>,
    /// New address, or none.
    pub address: Option<Option<String>>,
    /// New postal code, or none.
    pub postal_code: Option<Option<String>>,
    /// New phone, or none.
    pub phone: Option<Option<String>>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
    /// Require (or stop requiring) an open drawer session for cash.
    pub cash_drawer_required: Option<bool>,
}

fn check_code(code: &str) -> Result<String> {
    let c = code.trim().to_ascii_uppercase();
    if c.is_empty()
        || c.len() > 32
        || !c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::validation(
            "code",
            "code must be 1 to 32 letters, digits, '-' or '_'",
        ));
    }
    Ok(c)
}

fn check_name(name: &str) -> Result<String> {
    crate::rules::text::required("name", name, 200)
}

/// Checks an IVA rate in basis points: only 16 % and the border 8 % are branch rates.
///
/// # Errors
/// [`Error::Validation`] on `iva_rate`.
pub fn check_iva(bp: i32) -> Result<i32> {
    if bp == IVA_STANDARD_BP || bp == IVA_BORDER_BP {
        Ok(bp)
    } else {
        Err(Error::validation(
            "iva_rate",
            "iva_rate must be 0.16, or 0.08 in the border region",
        ))
    }
}

fn check_timezone(tz: &str) -> Result<String> {
    MEXICAN_TIMEZONES
        .iter()
        .find(|z| **z == tz)
        .map(|z| (*z).to_owned())
        .ok_or_else(|| {
            Error::validation(
                "timezone",
                format!("timezone must be one of {}", MEXICAN_TIMEZONES.join(", ")),
            )
        })
}

fn check_postal_code(pc: Option<String>) -> Result<Option<String>> {
    match pc.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()) {
        Some(p) if p.len() == 5 && p.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(p)),
        Some(_) => Err(Error::validation(
            "postal_code",
            "postal_code must be 5 digits",
        )),
        None => Ok(None),
    }
}

fn check_phone(phone: Option<String>) -> Result<Option<String>> {
    match phone.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()) {
        Some(p)
            if p.len() <= 32
                && p.chars().filter(char::is_ascii_digit).count() >= 7
                && p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) =>
        {
            Ok(Some(p))
        }
        Some(_) => Err(Error::validation(
            "phone",
            "phone must be digits, spaces, '+', '-', '(' or ')'",
        )),
        None => Ok(None),
    }
}

/// Creates a branch.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::Conflict`] `branch_code_taken`.
pub async fn create_branch(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewBranch,
) -> Result<branch::Model> {
    let now = crate::now();
    let am = branch::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(check_code(&new.code)?),
        name: Set(check_name(&new.name)?),
        iva_rate_bp: Set(check_iva(new.iva_rate_bp.unwrap_or(IVA_STANDARD_BP))?),
        timezone: Set(check_timezone(
            new.timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE),
        )?),
        address: Set(crate::rules::text::optional("address", new.address, 500)?),
        postal_code: Set(check_postal_code(new.postal_code)?),
        phone: Set(check_phone(new.phone)?),
        is_active: Set(true),
        cash_drawer_required: Set(new.cash_drawer_required.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = crate::db::begin_write(db).await?;
    let b = am
        .insert(&txn)
        .await
        .on_unique("branch_code_taken", "another branch has this code")?;
    actor
        .entry("branch.created", b.id)
        .details(json!({"code": b.code, "name": b.name, "iva_rate_bp": b.iva_rate_bp}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(b)
}

/// Finds a branch.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn get_branch(db: &impl ConnectionTrait, id: Uuid) -> Result<branch::Model> {
    branch::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "branch" })
}

/// Lists branches by code, optionally only active ones, optionally limited to some ids (a user's
/// branch scope).
///
/// # Errors
/// Database errors.
pub async fn list_branches(
    db: &impl ConnectionTrait,
    page: PageRequest,
    active: Option<bool>,
    scope: Option<&[Uuid]>,
) -> Result<Page<branch::Model>> {
    let mut q = branch::Entity::find().order_by_asc(branch::Column::Code);
    if let Some(a) = active {
        q = q.filter(branch::Column::IsActive.eq(a));
    }
    if let Some(ids) = scope {
        q = q.filter(branch::Column::Id.is_in(ids.iter().copied()));
    }
    page.fetch(db, q).await
}

/// Applies a patch to a branch.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Validation`], [`Error::Conflict`] `branch_code_taken`.
pub async fn update_branch(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    patch: BranchPatch,
) -> Result<branch::Model> {
    let txn = crate::db::begin_write(db).await?;
    let current = get_branch(&txn, id).await?;
    let mut am: branch::ActiveModel = current.into();
    let mut changed = serde_json::Map::new();
    if let Some(code) = patch.code {
        let c = check_code(&code)?;
        changed.insert("code".into(), json!(c));
        am.code = Set(c);
    }
    if let Some(name) = patch.name {
        let n = check_name(&name)?;
        changed.insert("name".into(), json!(n));
        am.name = Set(n);
    }
    if let Some(bp) = patch.iva_rate_bp {
        changed.insert("iva_rate_bp".into(), json!(check_iva(bp)?));
        am.iva_rate_bp = Set(bp);
    }
    if let Some(tz) = patch.timezone {
        let tz = check_timezone(&tz)?;
        changed.insert("timezone".into(), json!(tz));
        am.timezone = Set(tz);
    }
    if let Some(a) = patch.address {
        let a = crate::rules::text::optional("address", a, 500)?;
        changed.insert("address".into(), json!(a));
        am.address = Set(a);
    }
    if let Some(pc) = patch.postal_code {
        let pc = check_postal_code(pc)?;
        changed.insert("postal_code".into(), json!(pc));
        am.postal_code = Set(pc);
    }
    if let Some(p) = patch.phone {
        let p = check_phone(p)?;
        changed.insert("phone".into(), json!(p));
        am.phone = Set(p);
    }
    if let Some(active) = patch.is_active {
        changed.insert("is_active".into(), json!(active));
        am.is_active = Set(active);
    }
    if let Some(required) = patch.cash_drawer_required {
        changed.insert("cash_drawer_required".into(), json!(required));
        am.cash_drawer_required = Set(required);
    }
    am.updated_at = Set(crate::now());
    let b = am
        .update(&txn)
        .await
        .on_unique("branch_code_taken", "another branch has this code")?;
    actor
        .entry("branch.updated", id)
        .details(changed.into())
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(b)
}

/// Deletes a branch that has no warehouses; a branch with history is deactivated instead.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `branch_has_warehouses` or `last_branch`.
pub async fn delete_branch(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> Result<()> {
    let txn = crate::db::begin_write(db).await?;
    let b = get_branch(&txn, id).await?;
    let warehouses = warehouse::Entity::find()
        .filter(warehouse::Column::BranchId.eq(id))
        .count(&txn)
        .await?;
    if warehouses > 0 {
        return Err(Error::conflict(
            "branch_has_warehouses",
            "the branch still has warehouses: delete them first or deactivate the branch",
        ));
    }
    if branch::Entity::find().count(&txn).await? <= 1 {
        return Err(Error::conflict(
            "last_branch",
            "a tenant keeps at least one branch",
        ));
    }
    branch::Entity::delete_by_id(id).exec(&txn).await?;
    actor
        .entry("branch.deleted", id)
        .details(json!({"code": b.code}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Fields of a new warehouse.
#[derive(Debug, Clone, Default)]
pub struct NewWarehouse {
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// Changes to a warehouse.
#[derive(Debug, Clone, Default)]
pub struct WarehousePatch {
    /// New code.
    pub code: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
}

/// Creates a warehouse in a branch.
///
/// # Errors
/// [`Error::NotFound`] for the branch, [`Error::Validation`], [`Error::Conflict`]
/// `warehouse_code_taken`.
pub async fn create_warehouse(
    db: &DatabaseConnection,
    actor: &Actor,
    branch_id: Uuid,
    new: NewWarehouse,
) -> Result<warehouse::Model> {
    let code = check_code(&new.code)?;
    let name = check_name(&new.name)?;
    let txn = crate::db::begin_write(db).await?;
    get_branch(&txn, branch_id).await?;
    let now = crate::now();
    let w = warehouse::ActiveModel {
        id: Set(Uuid::now_v7()),
        branch_id: Set(branch_id),
        code: Set(code),
        name: Set(name),
        is_active: Set(true),
        kind: Set(warehouse::Kind::Stock),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .on_unique("warehouse_code_taken", "another warehouse has this code")?;
    actor
        .entry("warehouse.created", w.id)
        .details(json!({"branch_id": branch_id, "code": w.code, "name": w.name}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(w)
}

/// Lists a branch's warehouses by code.
///
/// # Errors
/// [`Error::NotFound`] for the branch.
pub async fn list_warehouses(
    db: &impl ConnectionTrait,
    branch_id: Uuid,
) -> Result<Vec<warehouse::Model>> {
    get_branch(db, branch_id).await?;
    Ok(warehouse::Entity::find()
        .filter(warehouse::Column::BranchId.eq(branch_id))
        .order_by_asc(warehouse::Column::Code)
        .all(db)
        .await?)
}

/// Finds a warehouse of a branch.
///
/// # Errors
/// [`Error::NotFound`] when the warehouse is not in that branch.
pub async fn get_warehouse(
    db: &impl ConnectionTrait,
    branch_id: Uuid,
    id: Uuid,
) -> Result<warehouse::Model> {
    warehouse::Entity::find_by_id(id)
        .filter(warehouse::Column::BranchId.eq(branch_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "warehouse",
        })
}

/// Applies a patch to a warehouse.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Validation`], [`Error::Conflict`] `warehouse_code_taken`.
pub async fn update_warehouse(
    db: &DatabaseConnection,
    actor: &Actor,
    branch_id: Uuid,
    id: Uuid,
    patch: WarehousePatch,
) -> Result<warehouse::Model> {
    let txn = crate::db::begin_write(db).await?;
    let mut am: warehouse::ActiveModel = get_warehouse(&txn, branch_id, id).await?.into();
    let mut changed = serde_json::Map::new();
    if let Some(code) = patch.code {
        let c = check_code(&code)?;
        changed.insert("code".into(), json!(c));
        am.code = Set(c);
    }
    if let Some(name) = patch.name {
        let n = check_name(&name)?;
        changed.insert("name".into(), json!(n));
        am.name = Set(n);
    }
    if let Some(active) = patch.is_active {
        changed.insert("is_active".into(), json!(active));
        am.is_active = Set(active);
    }
    am.updated_at = Set(crate::now());
    let w = am
        .update(&txn)
        .await
        .on_unique("warehouse_code_taken", "another warehouse has this code")?;
    actor
        .entry("warehouse.updated", id)
        .details(changed.into())
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(w)
}

/// Deletes a warehouse.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn delete_warehouse(
    db: &DatabaseConnection,
    actor: &Actor,
    branch_id: Uuid,
    id: Uuid,
) -> Result<()> {
    let txn = crate::db::begin_write(db).await?;
    let w = get_warehouse(&txn, branch_id, id).await?;
    warehouse::Entity::delete_by_id(id).exec(&txn).await?;
    actor
        .entry("warehouse.deleted", id)
        .details(json!({"code": w.code}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_standard_and_border_iva_rates_are_branch_rates() {
        assert!(check_iva(1600).is_ok());
        assert!(check_iva(800).is_ok());
        assert!(check_iva(0).is_err());
        assert!(check_iva(1500).is_err());
    }

    #[test]
    fn codes_are_upper_cased_and_limited() {
        assert_eq!(check_code(" mty-01 ").unwrap(), "MTY-01");
        assert!(check_code("").is_err());
        assert!(check_code("MTY 01").is_err());
    }

    #[test]
    fn a_postal_code_has_five_digits() {
        assert_eq!(
            check_postal_code(Some("64000".into())).unwrap().as_deref(),
            Some("64000")
        );
        assert!(check_postal_code(Some("6400".into())).is_err());
        assert_eq!(check_postal_code(Some(" ".into())).unwrap(), None);
    }

    #[test]
    fn timezones_outside_mexico_are_refused() {
        assert!(check_timezone("America/Tijuana").is_ok());
        assert!(check_timezone("Europe/Madrid").is_err());
    }
}
