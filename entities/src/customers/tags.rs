//! Free tags on customers: written as the user likes, matched folded (`Taller` and `taller ` are
//! one tag), counted in SQL.

use sea_orm::sea_query::{Expr, Order};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::customers::records::get_customer;
use crate::customers::tables::customer_tag;
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::{Error, Result};

/// Most tags a customer carries.
pub const MAX_TAGS: usize = 30;

/// A tag as written (trimmed, inner spaces single) and its folded key.
///
/// # Errors
/// [`Error::Validation`] on `tags` for an empty tag or one over 40 characters.
pub fn check_tag(tag: &str) -> Result<(String, String)> {
    let written = tag.split_whitespace().collect::<Vec<_>>().join(" ");
    if written.is_empty() || written.chars().count() > 40 {
        return Err(Error::validation("tags", "a tag is 1 to 40 characters"));
    }
    if written.chars().any(char::is_control) {
        return Err(Error::validation("tags", "a tag has no control characters"));
    }
    // Folding can lengthen a letter (`İ` lower-cases to two characters): the key keeps 40.
    let key: String = crate::catalog::text::fold(&written)
        .chars()
        .take(40)
        .collect();
    Ok((written, key))
}

/// A customer's tags, by key.
///
/// # Errors
/// Database errors.
pub async fn of_customer(db: &impl ConnectionTrait, customer_id: Uuid) -> Result<Vec<String>> {
    Ok(customer_tag::Entity::find()
        .filter(customer_tag::Column::CustomerId.eq(customer_id))
        .order_by_asc(customer_tag::Column::TagKey)
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect())
}

/// Sets a customer's tags to `tags` (adding and removing), audited; answers the tags after.
///
/// # Errors
/// [`Error::NotFound`] `customer`; [`Error::Validation`] on `tags`.
pub async fn set(
    db: &impl ConnectionTrait,
    actor: &Actor,
    customer_id: Uuid,
    tags: &[String],
) -> Result<Vec<String>> {
    get_customer(db, customer_id).await?;
    let mut wanted: Vec<(String, String)> = Vec::with_capacity(tags.len());
    for t in tags {
        let (written, key) = check_tag(t)?;
        if !wanted.iter().any(|(_, k)| *k == key) {
            wanted.push((written, key));
        }
    }
    if wanted.len() > MAX_TAGS {
        return Err(Error::validation(
            "tags",
            format!("a customer carries at most {MAX_TAGS} tags"),
        ));
    }
    let before = customer_tag::Entity::find()
        .filter(customer_tag::Column::CustomerId.eq(customer_id))
        .all(db)
        .await?;
    let gone: Vec<String> = before
        .iter()
        .filter(|b| !wanted.iter().any(|(_, k)| *k == b.tag_key))
        .map(|b| b.tag_key.clone())
        .collect();
    let now = crate::now();
    let added: Vec<customer_tag::ActiveModel> = wanted
        .iter()
        .filter(|(_, k)| !before.iter().any(|b| b.tag_key == *k))
        .map(|(written, key)| customer_tag::ActiveModel {
            customer_id: Set(customer_id),
            tag: Set(written.clone()),
            tag_key: Set(key.clone()),
            created_at: Set(now),
        })
        .collect();
    if !gone.is_empty() {
        customer_tag::Entity::delete_many()
            .filter(customer_tag::Column::CustomerId.eq(customer_id))
            .filter(customer_tag::Column::TagKey.is_in(gone.clone()))
            .exec(db)
            .await?;
    }
    let n_added = added.len();
    if !added.is_empty() {
        customer_tag::Entity::insert_many(added)
            .exec_without_returning(db)
            .await?;
    }
    if n_added > 0 || !gone.is_empty() {
        Entry::new("customer.tags_set")
            .actor(actor.user_id)
            .target("customer", customer_id)
            .request(None, actor.request_id.clone())
            .details(
                json!({"tags": wanted.iter().map(|(w, _)| w).collect::<Vec<_>>(), "removed": gone}),
            )
            .record_tenant(db)
            .await?;
    }
    of_customer(db, customer_id).await
}

/// A tag and how many customers carry it.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct TagCount {
    /// The folded tag.
    pub tag: String,
    /// Customers carrying it.
    pub customers: i64,
}

/// Every tag in use with its number of customers, most used first (counted in SQL).
///
/// # Errors
/// Database errors.
pub async fn counts(db: &impl ConnectionTrait) -> Result<Vec<TagCount>> {
    Ok(customer_tag::Entity::find()
        .select_only()
        .column_as(customer_tag::Column::TagKey, "tag")
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "customers")
        .group_by(customer_tag::Column::TagKey)
        .order_by(Expr::cust("CAST(COUNT(*) AS BIGINT)"), Order::Desc)
        .order_by_asc(customer_tag::Column::TagKey)
        .limit(500)
        .into_model::<TagCount>()
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_trimmed_and_matched_folded() {
        let (w, k) = check_tag("  Paga   Tarde ").unwrap();
        assert_eq!(w, "Paga Tarde");
        assert_eq!(k, "paga tarde");
        assert_eq!(check_tag("MECÁNICO").unwrap().1, "mecanico");
    }

    #[test]
    fn an_empty_or_long_tag_is_refused() {
        assert!(check_tag("   ").is_err());
        assert!(check_tag(&"x".repeat(41)).is_err());
        assert!(check_tag("a\u{7}b").is_err());
    }
}
