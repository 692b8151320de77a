//! Tables of customers (tenant database).
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

pub mod customer;
