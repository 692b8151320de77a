//! The counter: carts, checkout, sales and their returns and cancellations, quotes, the savings a
//! customer got, tickets.

pub mod carts;
pub mod quotes;
pub mod sales;
pub mod savings;
pub mod tables;
