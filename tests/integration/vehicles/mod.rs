//! Vehicles: the cascade, VIN decoding and enrichment, plates, registered vehicles.

mod lookup;
