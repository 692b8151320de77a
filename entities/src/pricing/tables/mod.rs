//! Tables of pricing (tenant database).
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

pub mod exchange_rate;
pub mod item_price;
pub mod price_sync;
