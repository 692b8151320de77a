//! The counter: cart, checkout, its faults, returns, tickets, quotes.

mod checkout_faults;
mod quotes;
mod sales;
