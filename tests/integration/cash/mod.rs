//! Cash drawers: sessions, movements, X and Z reports, and how sales, refunds and payments on
//! account move money through them.

mod drawers;
