//! The one page type of every listing: `items`, `page`, `per_page` and `total`.
//!
//! Each listing names its page with a type alias (`pub type SalePage = Page<SaleSummary>`) and
//! says, in [`Listed`], what the page is called in the OpenAPI document. The alias matters:
//! utoipa names a generic written out in a path (`Page<SaleSummary>`) `Page_SaleSummary`, while
//! through the alias it asks [`Listed::PAGE`], so a generated client keeps one class per listing
//! with the name it always had.

use std::borrow::Cow;

use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

/// A view listed in pages.
pub trait Listed: utoipa::ToSchema {
    /// The page's component name in the OpenAPI document, e.g. `SalePage`.
    const PAGE: &'static str;
    /// The page's description, e.g. "A page of sales.".
    const PAGE_DOC: &'static str;
    /// What `items` holds and in which order, e.g. "Sales, newest first.".
    const ITEMS_DOC: &'static str;
}

/// One page of a listing, with the total so a client can draw a pager.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Page number, from 1.
    pub page: u64,
    /// Page size.
    pub per_page: u64,
    /// Rows matching the filter in all pages.
    pub total: u64,
}

impl<T> Page<T> {
    /// A short listing answered whole, as one page (the catalog's categories and brands).
    #[must_use]
    pub fn whole(items: Vec<T>) -> Self {
        let n = u64::try_from(items.len()).unwrap_or(u64::MAX);
        Self {
            items,
            page: 1,
            per_page: n.max(1),
            total: n,
        }
    }

    /// The page of views of a page of rows, each row turned into its view by `view`.
    pub fn from_rows<U>(rows: entities::Page<U>, view: impl FnMut(U) -> T) -> Self {
        Self {
            items: rows.items.into_iter().map(view).collect(),
            page: rows.page,
            per_page: rows.per_page,
            total: rows.total,
        }
    }
}

impl<T: Listed> utoipa::PartialSchema for Page<T> {
    fn schema() -> RefOr<Schema> {
        let count = |doc: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .description(Some(doc))
                .minimum(Some(0))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(T::PAGE_DOC))
            .property(
                "items",
                ArrayBuilder::new()
                    .items(Ref::from_schema_name(T::name()))
                    .description(Some(T::ITEMS_DOC)),
            )
            .property("page", count("Page number, from 1."))
            .property("per_page", count("Page size."))
            .property("total", count("Rows matching the filter in all pages."))
            .required("items")
            .required("page")
            .required("per_page")
            .required("total")
            .into()
    }
}

impl<T: Listed> utoipa::ToSchema for Page<T> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(T::PAGE)
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}
