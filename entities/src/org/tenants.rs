//! Creating and finding tenant records. Creating the tenant's database is the caller's job
//! (it needs the migrations, which this crate does not know).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::error::OnUnique;
use crate::org::tables::tenant;
use crate::rules::rfc::Rfc;
use crate::{Error, Result};

/// What is needed to register a tenant.
#[derive(Debug, Clone)]
pub struct NewTenant {
    /// Login name of the tenant: lower-case letters, digits and inner dashes.
    pub slug: String,
    /// Legal or trade name.
    pub name: String,
    /// The business's RFC.
    pub rfc: String,
    /// A connection URL when this tenant's database lives on its own server.
    pub db_url: Option<String>,
}

/// A validated tenant ready to insert.
#[derive(Debug, Clone)]
pub struct ValidTenant {
    /// Normalised slug.
    pub slug: String,
    /// Trimmed name.
    pub name: String,
    /// Parsed RFC (its check digit may be off: see [`Rfc::check_digit_ok`]).
    pub rfc: Rfc,
    /// Database name derived from the slug.
    pub db_name: String,
    /// Per-tenant URL, if any.
    pub db_url: Option<String>,
}

/// Validates a slug: 2 to 40 of `a-z`, `0-9` and inner single dashes.
///
/// # Errors
/// [`Error::Validation`] on `slug`.
pub fn validate_slug(slug: &str) -> Result<String> {
    let s = slug.trim().to_ascii_lowercase();
    let ok = (2..=40).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    if ok {
        Ok(s)
    } else {
        Err(Error::validation(
            "slug",
            "slug must be 2 to 40 lower-case letters, digits or single inner dashes",
        ))
    }
}

impl NewTenant {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first bad field.
    pub fn validate(self) -> Result<ValidTenant> {
        let slug = validate_slug(&self.slug)?;
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::validation(
                "name",
                "name must be 1 to 200 characters",
            ));
        }
        let rfc = Rfc::parse(&self.rfc)?;
        let db_name = format!("nexus_t_{}", slug.replace('-', "_"));
        Ok(ValidTenant {
            slug,
            name,
            rfc,
            db_name,
            db_url: self.db_url,
        })
    }
}

/// Inserts a validated tenant.
///
/// # Errors
/// [`Error::Conflict`] `slug_taken` when the slug exists.
pub async fn insert(db: &impl ConnectionTrait, t: &ValidTenant) -> Result<tenant::Model> {
    let now = crate::now();
    tenant::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(t.slug.clone()),
        name: Set(t.name.clone()),
        rfc: Set(t.rfc.as_str().to_owned()),
        db_name: Set(t.db_name.clone()),
        db_url: Set(t.db_url.clone()),
        plan: Set("standard".into()),
        status: Set(tenant::STATUS_ACTIVE.into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .on_unique("slug_taken", "a tenant with this slug already exists")
}

/// Finds a tenant by slug.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub async fn find_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<tenant::Model> {
    tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug.trim().to_ascii_lowercase()))
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "tenant" })
}

/// Finds a tenant by id.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<tenant::Model> {
    tenant::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "tenant" })
}

/// Every tenant, by slug.
///
/// # Errors
/// Database errors.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<tenant::Model>> {
    Ok(tenant::Entity::find()
        .order_by_asc(tenant::Column::Slug)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_cased_and_checked() {
        assert_eq!(validate_slug(" Acme-Norte ").unwrap(), "acme-norte");
        for bad in ["a", "-acme", "acme-", "ac--me", "acme_norte", "acmé"] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_database_name_is_derived_from_the_slug() {
        let t = NewTenant {
            slug: "acme-norte".into(),
            name: "Acme".into(),
            rfc: "EKU9003173C9".into(),
            db_url: None,
        }
        .validate()
        .unwrap();
        assert_eq!(t.db_name, "nexus_t_acme_norte");
    }
}
