//! The workshop (taller): service orders from reception to delivery on a kanban, their parts
//! held and used through the stock ledger, labour by the hour or flat, the customer's approval
//! of the budget and of every supplement, delivery charged through the counter, the
//! technicians' time and photos; and core charges (cascos).

pub mod board;
pub mod cores;
pub mod delivery;
pub mod flow;
pub mod orders;
pub mod records;
pub mod tables;
