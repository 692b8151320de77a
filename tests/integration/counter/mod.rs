//! The counter: cart, checkout, its faults, returns, tickets, quotes.

mod cart;
mod checkout_faults;
mod quotes;
mod sales;
