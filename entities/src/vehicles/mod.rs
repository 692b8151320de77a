//! Vehicles: the business's registered vehicles (plates, VINs, owners) and the platform-wide
//! cache of VIN decodes. VIN and plate syntax are pure rules in [`crate::rules`].

pub mod registered;
pub mod tables;
pub mod vin_decodes;
