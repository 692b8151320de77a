//! Nexus's data model and the domain rules on it.
//!
//! Two kinds of database hold Nexus's data: the **platform** database (tenants, users, memberships,
//! refresh tokens, API keys, the platform audit log, the shared catalog) and one **tenant**
//! database per business (branches, stock, sales, invoices…). This crate defines the sea-orm
//! tables of both, the queries and invariants on them, and the registry that hands out tenant
//! database handles. It knows nothing of HTTP or of the job runtime.
//!
//! One folder per business area (`org`, `cash`, `catalog`, `vehicles`, `inventory`, `pricing`,
//! `customers`, `counter`, `invoicing`, `notifications`, `jobs`), each with a `tables` module of
//! sea-orm definitions apart from its hand-written rules and queries; pure rules without a
//! database (money, CFDI arithmetic, RFC, VIN, plates) in [`rules`]. `docs/ARCHITECTURE.md` is
//! the map.

// Infrastructure shared by every area.
pub mod db;
pub mod error;
pub mod files;
pub mod registry;
pub mod rules;
pub mod text_enum;

// Business areas: each holds its `tables` (sea-orm definitions) and its rules and queries.
pub mod cash;
pub mod catalog;
pub mod counter;
pub mod customers;
pub mod fleets;
pub mod inventory;
pub mod invoicing;
pub mod jobs;
pub mod notifications;
pub mod org;
pub mod pricing;
pub mod purchasing;
pub mod vehicles;
pub mod warranties;
pub mod workshop;

pub use error::{Error, Result};
pub use org::role::Role;
pub use sea_orm;

/// One page of a listing, with the total count so clients can draw a pager.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Rows matching the filter in all pages.
    pub total: u64,
}

/// A page request, already clamped to sane bounds.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u64,
    /// Rows per page, at most [`PageRequest::MAX_PER_PAGE`].
    pub per_page: u64,
}

impl PageRequest {
    /// Largest page a client may ask for.
    pub const MAX_PER_PAGE: u64 = 200;
    /// Page size when the client does not say.
    pub const DEFAULT_PER_PAGE: u64 = 50;
    /// Highest page number: keeps `page × per_page` far from overflowing in any database's
    /// OFFSET (200 rows a page reach 200 million rows, beyond any listing a store has).
    pub const MAX_PAGE: u64 = 1_000_000;

    /// Builds a page request, rejecting a page outside 1 to [`PageRequest::MAX_PAGE`] or a page
    /// size outside 1 to [`PageRequest::MAX_PER_PAGE`].
    ///
    /// # Errors
    /// [`Error::Validation`] naming `page` or `per_page`.
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Result<Self> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(Self::DEFAULT_PER_PAGE);
        if page == 0 || page > Self::MAX_PAGE {
            return Err(Error::validation(
                "page",
                format!("page is between 1 and {}", Self::MAX_PAGE),
            ));
        }
        if per_page == 0 || per_page > Self::MAX_PER_PAGE {
            return Err(Error::validation(
                "per_page",
                format!("per_page must be between 1 and {}", Self::MAX_PER_PAGE),
            ));
        }
        Ok(Self { page, per_page })
    }

    /// Reads this page of `select`, with the number of rows it matches in all pages.
    ///
    /// # Errors
    /// Database errors.
    pub async fn fetch<'db, C, S>(
        self,
        db: &'db C,
        select: S,
    ) -> Result<Page<<S::Selector as sea_orm::SelectorTrait>::Item>>
    where
        C: sea_orm::ConnectionTrait,
        S: sea_orm::PaginatorTrait<'db, C>,
    {
        let pager = select.paginate(db, self.per_page);
        let total = pager.num_items().await?;
        let items = pager.fetch_page(self.page - 1).await?;
        Ok(Page {
            items,
            page: self.page,
            per_page: self.per_page,
            total,
        })
    }
}

/// The current time, truncated to microseconds so that what is written and read back compares
/// equal on both backends.
#[must_use]
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Today in Mexico City, the business day of prices, purchase orders and reorder runs (the
/// stores are in Mexico; a UTC date would turn at six in the evening).
#[must_use]
pub fn today() -> chrono::NaiveDate {
    invoicing::global::local_date(now())
}
