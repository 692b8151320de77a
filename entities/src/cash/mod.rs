//! Cash drawers (corte de caja): a register's session from the opening float to the closing
//! count, every movement of money through it (sales, change, refunds, payments on account, cash
//! in and out), and the X and Z reports of expected against counted.

pub mod drawers;
pub mod tables;
