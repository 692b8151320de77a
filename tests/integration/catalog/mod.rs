//! The shared catalog: search, ACES/PIES import, the Meilisearch sync.

mod import;
mod search;
mod sync;
