//! The shared parts catalog (platform database): makes, models, vehicles, brands, categories,
//! parts, fitment and interchange numbers, and how they are searched.
//!
//! Reads on the request path live here behind [`search::CatalogSearch`]; writing to an external
//! index belongs to the workers.

pub mod changes;
pub mod docs;
pub mod lookup;
pub mod meili;
pub mod schema;
pub mod search;
pub mod text;
pub mod write;

pub use schema::{brand, category, fitment, interchange, make, model, part, vehicle};
