//! The platform as a whole: HTTP conventions, start-up, the command line, the crate layering, the
//! operator console and its browser test, the file store, the OpenAPI snapshot.

mod browser;
mod cli;
mod file_store;
mod http;
mod openapi;
mod operators;
mod startup;
mod workspace;
