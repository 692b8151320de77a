//! The sea-orm definitions of the fleet tables (tenant database).

// Tables are sea-orm definitions whose column names say what they hold: a column gets a doc
// comment where its name is not enough (units, allowed values, why it exists), not filler.
#![allow(missing_docs)]

pub mod contract;
pub mod cost_centre;
pub mod driver;
pub mod fleet;
pub mod fleet_vehicle;
pub mod log;
pub mod plan;
pub mod plan_state;
pub mod reading;
pub mod setting;
