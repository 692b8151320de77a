//! Pure rules, with no database: money and its rounding, CFDI arithmetic, RFC, VIN and plate
//! syntax, optional free text. Each has unit and property tests beside it.

pub mod cfdi;
pub mod maintenance;
pub mod money;
pub mod plate;
pub mod quantity;
pub mod rfc;
pub mod supplier_cfdi;
pub mod text;
pub mod vin;
pub mod warranty;
pub mod whatsapp;
