//! Tables of vehicles: `customer_vehicle` (tenant database) and `vin_decode` (platform database).
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

pub mod customer_vehicle;
pub mod vin_decode;
